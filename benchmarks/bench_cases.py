"""The five benchmarks of issue 6. Each takes :class:`Settings` and returns table rows.

Every number is a median of samples taken alternately from kopitui and its baseline
in the same run, after a warm-up; the ratio (kopitui ÷ baseline) is what to compare
between machines, not the absolute times.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bench_util import (
    GNU_TIME,
    HERE,
    PYTHON,
    ChildRun,
    Row,
    Scratch,
    Settings,
    alternate,
    interleave,
    isolated_env,
    median,
    mib,
    ms,
    ratio,
    spawn,
)

ADMIN = "admin"
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway benchmark user
MEMORY_SOURCE = (
    "each child's own peak RSS (GNU time %M)"
    if GNU_TIME
    else "wait4(): no GNU time, so at least this process's RSS — compare with care"
)
SEARCH = "token-00000"  # matches token-000000 … token-000009: 10 rows at any size


# -- shared set-up ------------------------------------------------------------------------


def open_service(kopitui_home: Path):
    """The config and service of a KOPITUI_HOME folder, created on first use."""
    from kopitui.config import CONFIG_FILE, DB_FILE, load_or_create
    from kopitui.service import TokenService

    config = load_or_create(kopitui_home / CONFIG_FILE)
    return config, TokenService(config, kopitui_home / DB_FILE)


def make_home(root: Path) -> Path:
    """``root`` laid out as a child's home, with one administrator already created (so
    the TUI opens on Sign in, not first-run setup). Returns ``root``."""
    for sub in ("home", "xdg-config", "xdg-data", "xdg-state", "xdg-cache"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    _, service = open_service(root / "kopitui-home")
    try:
        service.create_first_admin(ADMIN, PASSWORD, PASSWORD, source="cli")
        service.current_key()
    finally:
        service.close()
    return root


def _check(run: ChildRun, what: str) -> ChildRun:
    if run.returncode != 0:
        raise RuntimeError(f"{what} exited {run.returncode}:\n{run.stderr[-2000:]}")
    return run


# -- 1. TUI ready -------------------------------------------------------------------------


def tui_ready(s: Settings) -> list[Row]:
    """Spawn → sign-in screen mounted and idle, vs a bare Textual app: time and memory."""
    child = str(HERE / "tui_child.py")
    with Scratch("tui") as scratch:
        template = make_home(scratch.path / "template")

        def start(which: str) -> Callable[[], ChildRun]:
            def once() -> ChildRun:
                home = scratch.fresh_copy(template)  # a fresh KOPITUI_HOME per child
                run = spawn([PYTHON, child, which], isolated_env(home), ready_line=True)
                return _check(run, f"tui_child.py {which}")

            return once

        # About 0.2 s a start: twice the rounds, for steadier medians.
        names = ("kopitui", "baseline", "kopitui-collecting", "baseline-held")
        runs = interleave({name: start(name) for name in names}, s.rounds * 2, s.warmup)
    kop, base = runs["kopitui"], runs["baseline"]
    t_k, t_b = median([r.seconds for r in kop]), median([r.seconds for r in base])
    t_c = median([r.seconds for r in runs["kopitui-collecting"]])
    t_h = median([r.seconds for r in runs["baseline-held"]])
    m_k, m_b = median([r.maxrss_kib for r in kop]), median([r.maxrss_kib for r in base])
    c_k, c_b = median([r.cpu_seconds for r in kop]), median([r.cpu_seconds for r in base])
    rt, rm = ratio(t_k, t_b), ratio(m_k, m_b)
    return [
        Row(
            "TUI ready: spawn → Sign in idle",
            ms(t_k),
            ms(t_b),
            rt,
            "≤ 1.10×",
            rt <= 1.10,
            "baseline: bare App with Header, 2 Inputs, Button, Footer; CPU time "
            f"(whole process) {ratio(c_k, c_b):.2f}×. kopitui holds the garbage collector "
            f"during start-up; without that: {ms(t_c)} ({ratio(t_c, t_b):.2f}×); like for "
            f"like, vs the bare app holding it too ({ms(t_h)}): {ratio(t_k, t_h):.2f}×",
            {
                "kopitui": t_k,
                "baseline": t_b,
                "kopitui_collecting": t_c,
                "baseline_held": t_h,
                "cpu_kopitui": c_k,
                "cpu_baseline": c_b,
            },
        ),
        Row(
            "TUI ready: peak memory (ru_maxrss)",
            mib(m_k),
            mib(m_b),
            rm,
            "≤ 1.25×",
            rm <= 1.25,
            MEMORY_SOURCE,
            {"kopitui": m_k, "baseline": m_b},
        ),
    ]


# -- 2. CLI verify ------------------------------------------------------------------------


def mint_one(kopitui_home: Path) -> tuple[str, bytes, object]:
    """A valid JWT minted by the service: ``(header value, key, config)``."""
    config, service = open_service(kopitui_home)
    try:
        admin = service.get_user(ADMIN)
        issued = service.issue_jwt(admin, "bench", "60", source="cli")
        _, key = service.current_key()
    finally:
        service.close()
    return issued.header_value, key, config


def cli_verify(s: Settings) -> list[Row]:
    """``python -m kopitui token verify -`` vs a bare PyJWT decode, whole processes."""
    with Scratch("cli") as scratch:
        home = make_home(scratch.path / "home")
        token, key, config = mint_one(home / "kopitui-home")
        env = isolated_env(home)
        stdin = f"{token}\n".encode()
        kopitui_argv = [PYTHON, "-m", "kopitui", "token", "verify", "-"]
        baseline_argv = [
            PYTHON,
            str(HERE / "verify_baseline.py"),
            key.hex(),
            config.algorithm,
            config.issuer,
            config.audience,
        ]

        def once(argv: list[str], what: str) -> Callable[[], ChildRun]:
            def run() -> ChildRun:
                result = _check(spawn(argv, env, stdin=stdin), what)
                if not result.stdout.startswith(b"Valid"):
                    raise RuntimeError(f"{what} did not find the token valid: {result.stdout!r}")
                return result

            return run

        rounds = s.rounds * 2  # cheap: twice as many samples
        kop, base = alternate(
            once(kopitui_argv, "kopitui token verify"),
            once(baseline_argv, "verify_baseline.py"),
            rounds,
            s.warmup,
        )
    t_k, t_b = median([r.seconds for r in kop]), median([r.seconds for r in base])
    m_k, m_b = median([r.maxrss_kib for r in kop]), median([r.maxrss_kib for r in base])
    c_k, c_b = median([r.cpu_seconds for r in kop]), median([r.cpu_seconds for r in base])
    rt = ratio(t_k, t_b)
    return [
        Row(
            "CLI verify: whole process",
            ms(t_k),
            ms(t_b),
            rt,
            "≤ 1.30×",
            rt <= 1.30,
            f"baseline: python script, import jwt, jwt.decode; CPU time {ratio(c_k, c_b):.2f}×",
            {"kopitui": t_k, "baseline": t_b, "cpu_kopitui": c_k, "cpu_baseline": c_b},
        ),
        Row(
            "CLI verify: peak memory",
            mib(m_k),
            mib(m_b),
            ratio(m_k, m_b),
            "",
            None,
            "for information",
            {"kopitui": m_k, "baseline": m_b},
        ),
    ]


# -- 3. Token List at scale ----------------------------------------------------------------


def seed_tokens(database: Path, count: int, *, users: int = 20, now: int | None = None) -> None:
    """Put ``count`` JWT records (and their audit lines) straight into the v2 schema,
    spread over ``users`` users, with a mix of active, expired and disabled tokens."""
    from kopitui.service.validation import name_key

    now = int(time.time()) if now is None else now
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("BEGIN")
        admin_id, password_hash = conn.execute(
            "SELECT id, password_hash FROM users WHERE role = 'admin' ORDER BY id LIMIT 1"
        ).fetchone()
        (kid,) = conn.execute("SELECT kid FROM signing_keys WHERE is_current = 1").fetchone()
        conn.executemany(
            "INSERT INTO users (username, username_key, password_hash, role, created_at, "
            "password_changed_at) VALUES (?, ?, ?, 'user', ?, ?)",
            [(f"user{u:02d}", f"user{u:02d}", password_hash, now, now) for u in range(1, users)],
        )
        user_ids = [admin_id] + [
            row[0] for row in conn.execute("SELECT id FROM users WHERE role = 'user' ORDER BY id")
        ]
        usernames = dict(conn.execute("SELECT id, username FROM users"))

        def tokens():
            for i in range(count):
                name = f"token-{i:06d}"
                created = now - (count - i) * 30
                expires = (None, created + 3600, now + 86400 * 30)[i % 3]
                status = "disabled" if i % 10 == 7 else "active"
                digest = hashlib.sha256(secrets.token_bytes(16)).hexdigest()
                yield (
                    secrets.token_urlsafe(16),
                    name,
                    name_key(name),
                    user_ids[i % len(user_ids)],
                    created,
                    expires,
                    status,
                    digest,
                    kid,
                )

        conn.executemany(
            "INSERT INTO tokens (jti, name, name_key, kind, user_id, created_at, expires_at, "
            "status, fingerprint, kid) VALUES (?, ?, ?, 'jwt', ?, ?, ?, ?, ?, ?)",
            tokens(),
        )
        conn.executemany(
            "INSERT INTO audit_log (at, username, source, event, description) "
            "VALUES (?, ?, 'tui', 'token_generated', ?)",
            (
                (
                    now - (count - i) * 30,
                    usernames[user_ids[i % len(user_ids)]],
                    f"JWT 'token-{i:06d}' (expires in 60 min)",
                )
                for i in range(count)
            ),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _table_bytes(database: Path) -> dict[str, int] | None:
    """Bytes per table with its indexes, if this SQLite has the dbstat table."""
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute(
            "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
            "LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY 1"
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return {name: size for name, size in rows}


async def _screen_session(config, service, admin, opens: int) -> tuple[list[float], list[float]]:
    """Sign in (without argon2), then ``opens`` times: press ``l`` and time until the
    Token List shows its first page; submit a search and time until it shows the hits."""
    from textual.widgets import Input

    from kopitui.tui.app import make_app
    from kopitui.tui.pages import page
    from kopitui.tui.screens.tokens import TokenListScreen

    tokens_page = page("tokens")
    app = make_app(config, service)
    open_times: list[float] = []
    search_times: list[float] = []

    async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout
        while not condition():
            if time.perf_counter() > deadline:
                raise TimeoutError("the Token List did not show a page in time")
            await asyncio.sleep(0.0005)

    def shown() -> bool:
        return isinstance(app.screen, TokenListScreen) and app.screen.loaded

    async with app.run_test(size=(80, 24)) as pilot:
        app.signed_in(admin)
        await pilot.pause()
        for _ in range(opens):
            # simulate_key, not pilot.press: press waits for the CPU to go idle (in 20 ms
            # steps), which would bury the difference under a constant.
            start = time.perf_counter()
            if tokens_page is not None:
                app.simulate_key(tokens_page.key)
            else:  # not registered in pages.py yet: open it as the page would
                app.push_screen(TokenListScreen())
            await until(shown)
            await pilot.pause(0)  # pending events done, one render forced
            open_times.append(time.perf_counter() - start)
            screen = app.screen
            if screen.table.row_count == 0:
                raise RuntimeError("the Token List opened empty")

            search = screen.query_one("#search", Input)
            search.focus()
            search.value = SEARCH
            await pilot.pause(0)
            screen.loaded = False
            start = time.perf_counter()
            app.simulate_key("enter")  # submit: no typing delay
            await until(shown)
            await pilot.pause(0)
            search_times.append(time.perf_counter() - start)
            if screen.table.row_count != 10:
                raise RuntimeError(f"search found {screen.table.row_count} rows, not 10")
            await pilot.press("escape")
            await pilot.pause()
    return open_times, search_times


def token_list(s: Settings) -> list[Row]:
    """The Token List with ``tokens_big`` tokens vs ``tokens_small``: screen and service.

    A third store with ``tokens_page`` tokens (one full page) tells store size apart
    from rows drawn: with 10 tokens the table draws 10 rows, with 100,000 it draws 100.
    """
    from kopitui.service import User

    sizes_wanted = {"big": s.tokens_big, "small": s.tokens_small, "page": s.tokens_page}
    with Scratch("list") as scratch:
        homes = {}
        seconds = {}
        for label, count in sizes_wanted.items():
            root = make_home(scratch.path / label)
            database = root / "kopitui-home" / "kopitui.db"
            started = time.perf_counter()
            seed_tokens(database, count)
            seconds[label] = time.perf_counter() - started
            homes[label] = (root / "kopitui-home", database)

        sizes = {label: homes[label][1].stat().st_size for label in homes}
        per_100k = (sizes["big"] - sizes["small"]) * 100_000 / (s.tokens_big - s.tokens_small)
        tables = _table_bytes(homes["big"][1])

        opened = {label: open_service(homes[label][0]) for label in homes}
        try:
            admin: User = opened["big"][1].get_user(ADMIN)

            def service_call(label: str, **kwargs) -> Callable[[], float]:
                service = opened[label][1]

                def once() -> float:
                    start = time.perf_counter()
                    page = service.list_tokens(admin, limit=100, **kwargs)
                    elapsed = time.perf_counter() - start
                    if not page.rows:
                        raise RuntimeError("list_tokens returned no rows")
                    return elapsed

                return once

            rounds = max(3, s.rounds * 2)
            list_big, list_small = alternate(
                service_call("big"), service_call("small"), rounds, s.warmup
            )
            find_big, find_small = alternate(
                service_call("big", search=SEARCH),
                service_call("small", search=SEARCH),
                rounds,
                s.warmup,
            )

            def screen(label: str) -> Callable[[], tuple[list[float], list[float]]]:
                config, service = opened[label]
                return lambda: asyncio.run(_screen_session(config, service, admin, s.list_opens))

            sessions = interleave(
                {label: screen(label) for label in homes}, max(1, s.rounds // 2), s.warmup
            )
        finally:
            for _, service in opened.values():
                service.close()

    def flat(label: str, i: int) -> list[float]:
        return [t for session in sessions[label] for t in session[i]]

    def firsts(label: str, i: int) -> list[float]:
        """Each session's first: SQLite's page cache of that connection still cold."""
        return [session[i][0] for session in sessions[label]]

    big_n, small_n = f"{s.tokens_big:,}", f"{s.tokens_small:,}"
    rows = []
    for i, title in enumerate(
        ("Token List screen: open (l → first page)", "Token List screen: search (enter → hits)")
    ):
        k, b, p = median(flat("big", i)), median(flat("small", i)), median(flat("page", i))
        cold_k, cold_b = median(firsts("big", i)), median(firsts("small", i))
        r = ratio(k, b)
        rows.append(
            Row(
                title,
                ms(k),
                ms(b),
                r,
                "≤ 1.50×",
                r <= 1.50,
                f"{big_n} vs {small_n} tokens; vs {s.tokens_page} tokens (a full page, same "
                f"rows drawn): {ratio(k, p):.2f}× ({ms(p)}); the first of a session, cache "
                f"cold: {ms(cold_k)} vs {ms(cold_b)} ({ratio(cold_k, cold_b):.2f}×)",
                {"kopitui": k, "baseline": b, "page": p, "cold": cold_k, "cold_baseline": cold_b},
            )
        )
    for title, big, small in (
        ("list_tokens(): first page of 100", list_big, list_small),
        ("list_tokens(): search", find_big, find_small),
    ):
        k, b = median(big), median(small)
        rows.append(
            Row(
                title,
                ms(k),
                ms(b),
                ratio(k, b),
                "",
                None,
                f"{big_n} vs {small_n} tokens, the service call alone (for diagnosis)",
                {"kopitui": k, "baseline": b},
            )
        )
    note = f"seeded in {seconds['big']:.1f} s, one audit line per token"
    if tables:
        tokens_part = tables.get("tokens", 0) * 100_000 / s.tokens_big
        audit_part = tables.get("audit_log", 0) * 100_000 / s.tokens_big
        note += f"; tokens + indexes {mib(tokens_part / 1024)}, audit log {mib(audit_part / 1024)}"
    rows.append(
        Row(
            "Database size per 100,000 tokens",
            mib(per_100k / 1024),
            "",
            None,
            "",
            None,
            note,
            {"bytes_per_100k": per_100k, "file_bytes": sizes["big"]},
        )
    )
    return rows


# -- 4. Mint throughput --------------------------------------------------------------------


def mint(s: Settings) -> list[Row]:
    """Tokens per second through ``service.issue_jwt`` vs bare ``jwt.encode``."""
    import jwt

    with Scratch("mint") as scratch:
        home = make_home(scratch.path / "home") / "kopitui-home"
        config, service = open_service(home)
        try:
            admin = service.get_user(ADMIN)
            kid, key = service.current_key()
            counter = iter(range(10**9))

            def through_service() -> float:
                start = time.perf_counter()
                for _ in range(s.mint_batch):
                    service.issue_jwt(admin, f"mint-{next(counter)}", "60", source="cli")
                return (time.perf_counter() - start) / s.mint_batch

            def bare() -> float:
                start = time.perf_counter()
                for _ in range(s.mint_batch):
                    now = int(time.time())
                    claims = {
                        "unique_name": f"mint-{next(counter)}",
                        "sub": admin.username,
                        "iss": config.issuer,
                        "aud": config.audience,
                        "iat": now,
                        "jti": secrets.token_urlsafe(16),
                        "exp": now + 3600,
                    }
                    jwt.encode(claims, key, algorithm=config.algorithm, headers={"kid": kid})
                return (time.perf_counter() - start) / s.mint_batch

            kop, base = alternate(through_service, bare, s.rounds, s.warmup)
            indexes = dict(
                service.store.read(
                    "SELECT tbl_name, count(*) FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name IN ('tokens', 'audit_log') GROUP BY tbl_name"
                )
            )
            synchronous = service.store.read("PRAGMA synchronous")[0][0]
        finally:
            service.close()
    fsync = {0: "no fsync", 1: "no fsync per commit (synchronous=NORMAL)"}.get(
        synchronous, "fsync per commit"
    )
    k, b = median(kop), median(base)
    r = ratio(k, b)
    return [
        Row(
            "Mint: tokens per second",
            f"{1 / k:,.0f}/s ({ms(k)} each)",
            f"{1 / b:,.0f}/s ({ms(b)} each)",
            r,
            "report",
            None,
            "jwt.encode is the same in both; the rest is one SQLite transaction per "
            f"token (BEGIN IMMEDIATE, the token row and its {indexes.get('tokens', 0)} "
            f"indexes, an audit row and its {indexes.get('audit_log', 0)}, a WAL commit "
            f"with {fsync}) plus the key, user and name look-ups",
            {"kopitui": k, "baseline": b},
        )
    ]


# -- 5. Sign-in cost -----------------------------------------------------------------------


def signin(s: Settings) -> list[Row]:
    """One ``service.authenticate`` with the configured argon2id parameters."""
    from argon2 import PasswordHasher

    from kopitui.service.users import ARGON2_PARAMS

    with Scratch("signin") as scratch:
        home = make_home(scratch.path / "home") / "kopitui-home"
        _, service = open_service(home)
        try:
            stored = service.store.read(
                "SELECT password_hash FROM users WHERE username_key = ?", (ADMIN,)
            )[0][0]
            hasher = PasswordHasher(**ARGON2_PARAMS)

            def authenticate() -> float:
                start = time.perf_counter()
                service.authenticate(ADMIN, PASSWORD, source="cli")
                return time.perf_counter() - start

            def raw_verify() -> float:
                start = time.perf_counter()
                hasher.verify(stored, PASSWORD)
                return time.perf_counter() - start

            kop, base = alternate(authenticate, raw_verify, s.signin_rounds, s.warmup)
        finally:
            service.close()
    k, b = median(kop), median(base)
    p = ARGON2_PARAMS
    params = f"argon2id m={p['memory_cost'] // 1024} MiB, t={p['time_cost']}, p={p['parallelism']}"
    # What the stored hash says it was made with, e.g. $argon2id$v=19$m=19456,t=2,p=1$…
    stored_params = "$".join(stored.split("$")[:4])
    return [
        Row(
            "Sign-in: service.authenticate",
            ms(k),
            ms(b),
            ratio(k, b),
            "< 250 ms",
            k < 0.25,
            f"{params} (OWASP minimum; stored hash {stored_params}); "
            "baseline: the argon2 verify alone",
            {"kopitui": k, "baseline": b},
        )
    ]


#: name -> (title, function), in the order they run.
BENCHMARKS: dict[str, tuple[str, Callable[[Settings], list[Row]]]] = {
    "tui": ("TUI ready", tui_ready),
    "cli": ("CLI verify", cli_verify),
    "list": ("Token List scale", token_list),
    "mint": ("Mint throughput", mint),
    "signin": ("Sign-in cost", signin),
}
