"""Several processes on one data folder: the database keeps every rule and every row.

Workers (tests/workers/kopitui_worker.py) are real processes, each with its own
:class:`TokenService` on the same ``KOPITUI_HOME``; they start together on a barrier
(each prints ``ready`` and waits for a line on stdin). SQLite runs in WAL mode with a
busy timeout and ``BEGIN IMMEDIATE``; token-name uniqueness is the database's partial
unique index, so two processes can never both win a name, and the loser gets the same
"already have a token named" message as in a single process — never "database is locked".
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from workers.harness import Worker, assert_database_sound, child_env, release, rows

from kopitui.config import resolve_paths

from support import ADMIN, ADMIN_PASSWORD

MINTS_PER_PROCESS = 500
#: Of each process's 500 mints every fifth has a name of its own; the other 400 names are
#: tried by both processes (the second spells them in capitals: names are case-insensitive).
SHARED = [i for i in range(MINTS_PER_PROCESS) if i % 5 != 4]
UNIQUE = [i for i in range(MINTS_PER_PROCESS) if i % 5 == 4]
TAKEN = "already have a token named"
#: Rounds of the first-run race: one round alone loses it only now and then.
FRESH_ROUNDS = 120


@pytest.fixture
def spawn():
    """Start workers; every one still running at the end is killed and reaped."""
    started: list[Worker] = []

    def start(*args: str, home: Path | None = None) -> Worker:
        worker = Worker(*args, env=child_env(home))
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
        worker.finish(30)


def db(sql: str, params: tuple = ()) -> list[tuple]:
    return rows(resolve_paths().database, sql, params)


def report(worker: Worker) -> dict:
    worker.finish()
    assert worker.proc.returncode == 0, worker.stderr
    assert "Traceback" not in worker.stderr
    return json.loads(worker.lines[-1])


def assert_no_stray_errors(results: list[list]) -> None:
    errors = [r for r in results if r[1] == "error"]
    assert errors == [], errors[:5]
    for r in results:
        text = " ".join(str(x) for x in r).lower()
        assert "locked" not in text and "operationalerror" not in text, r


def test_two_processes_mint_500_each_with_overlapping_names(service, admin, spawn):
    names = [
        [f"n-{i}" if i in SHARED else f"first-{i}" for i in range(MINTS_PER_PROCESS)],
        [f"N-{i}" if i in SHARED else f"second-{i}" for i in range(MINTS_PER_PROCESS)],
    ]
    # No signing key yet: the two processes also race to make the first one.
    assert db("SELECT count(*) FROM signing_keys") == [(0,)]
    audit_before = db("SELECT count(*) FROM audit_log")[0][0]

    workers = [spawn("mint", "--user", ADMIN, "--names", ",".join(batch)) for batch in names]
    started = time.perf_counter()
    release(workers)
    reports = [report(w) for w in workers]
    elapsed = time.perf_counter() - started

    results = [r for rep in reports for r in rep["results"]]
    assert len(results) == 2 * MINTS_PER_PROCESS
    assert_no_stray_errors(results)
    # Every shared name was won by exactly one process; the other was told plainly.
    for i in SHARED:
        pair = [rep["results"][i] for rep in reports]
        assert sorted(r[1] for r in pair) == ["ok", "taken"], pair
        loser = next(r for r in pair if r[1] == "taken")
        assert TAKEN in loser[2]
    assert all(rep["results"][i][1] == "ok" for rep in reports for i in UNIQUE)
    wins = [sum(rep["results"][i][1] == "ok" for i in SHARED) for rep in reports]

    # No lost rows: what the workers were told was committed is exactly what is stored.
    expected = len(SHARED) + 2 * len(UNIQUE)
    reported = {r[2] for r in results if r[1] == "ok"}
    assert len(reported) == expected == 600
    stored = db("SELECT jti, name_key, name FROM tokens WHERE kind = 'jwt'")
    assert {jti for jti, _, _ in stored} == reported
    # Exactly one token per name (keys are case-folded: "N-7" is "n-7").
    assert sorted(key for _, key, _ in stored) == sorted(
        [f"n-{i}" for i in SHARED]
        + [f"first-{i}" for i in UNIQUE]
        + [f"second-{i}" for i in UNIQUE]
    )
    # One audit line per stored token, none for a refused one; one signing key, made once.
    generated = db("SELECT description FROM audit_log WHERE event = 'token_generated'")
    assert Counter(d for (d,) in generated) == Counter(
        f"JWT {name!r} (expires in 60 min)" for _, _, name in stored
    )
    assert db("SELECT count(*) FROM signing_keys") == [(1,)]
    assert db("SELECT count(*) FROM audit_log WHERE event = 'key_created'") == [(1,)]
    assert db("SELECT count(*) FROM audit_log")[0][0] == audit_before + expected + 1
    assert_database_sound(resolve_paths().database)
    times = ", ".join(f"{rep['seconds']:.2f} s" for rep in reports)
    print(
        f"\nconcurrency: 2 processes x {MINTS_PER_PROCESS} mints in {elapsed:.2f} s "
        f"(shared names won {wins[0]}/{wins[1]}; minting took {times})"
    )


def test_processes_opening_a_brand_new_data_folder_at_once(spawn, tmp_path):
    """First runs at the same moment (the TUI and a command, say): one schema, one
    administrator, one signing key, and no process told the database is locked.

    Three long-lived workers are sent the same new folder at once, round after round: a
    lost race shows only in some rounds, so there are many (each costs a few ms)."""
    workers = [
        spawn("first-run", "--user", ADMIN, "--password", ADMIN_PASSWORD, "--tag", str(n))
        for n in range(3)
    ]
    for worker in workers:
        worker.wait_ready()
    refused = []
    for round_ in range(1, FRESH_ROUNDS + 1):
        home = tmp_path / f"fresh-{round_}"
        full = round_ % 8 == 1  # hashing a password costs; most rounds only open
        for worker in workers:
            worker.send(f"{home}\tfull" if full else str(home))
        reports = [json.loads(w.wait_lines(round_ + 1)[-1]) for w in workers]
        refused += [rep["open_error"] for rep in reports if "open_error" in rep]
        database = home / "kopitui.db"
        assert rows(database, "PRAGMA journal_mode") == [("wal",)]
        assert_database_sound(database)
        if not full or any("open_error" in rep for rep in reports):
            continue
        assert [rep.get("error") for rep in reports] == [None] * 3, reports
        assert sorted(rep["admin"] for rep in reports) == ["ok", "taken", "taken"]
        shared = sorted(rep["shared"] for rep in reports)
        assert shared[0] == "ok" and all(TAKEN in r for r in shared[1:]), shared
        assert all(rep[f"own-{n}"] == "ok" for n, rep in enumerate(reports))
        assert rows(database, "PRAGMA user_version")[0][0] >= 4
        assert rows(database, "SELECT count(*) FROM users") == [(1,)]
        assert rows(database, "SELECT count(*) FROM signing_keys") == [(1,)]
        assert rows(database, "SELECT count(*) FROM tokens") == [(4,)]
    for worker in workers:
        worker.proc.stdin.close()
        assert worker.finish().proc.returncode == 0, worker.stderr
    assert refused == [], f"{len(refused)} refusals in {FRESH_ROUNDS} rounds: {refused[0]}"


def kopitui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kopitui", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=child_env(KOPITUI_USER=ADMIN, KOPITUI_PASSWORD=ADMIN_PASSWORD),
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_lists_and_mints_while_another_process_mints(service, admin, spawn, tmp_path):
    """The TUI's flavour: one process keeps minting through the service while the command
    line lists (and mints) over and over; every command succeeds, every listing is whole."""
    stop = tmp_path / "stop"
    minter = spawn("loop", "--user", ADMIN, "--prefix", "tui", "--stop-file", str(stop))
    minter.wait_ready()
    counts = []
    started = time.perf_counter()
    try:
        for n in range(12):
            listed = kopitui("token", "list", "--json", "--limit", "100000")
            assert (listed.returncode, listed.stderr) == (0, "")
            counts.append(len(json.loads(listed.stdout)))
            if n % 3 == 2:
                minted = kopitui("token", "jwt", "--name", f"cli-{n}", "--expires", "5")
                assert minted.returncode == 0, minted.stderr
                assert minted.stdout.startswith("Bearer ey")
    finally:
        stop.touch()
    minter.finish(60)
    elapsed = time.perf_counter() - started
    assert minter.proc.returncode == 0 and "Traceback" not in minter.stderr, minter.stderr
    errors = [line for line in minter.lines if line.startswith("error")]
    assert errors == []
    done, count, failed = minter.lines[-1].split()
    assert (done, failed) == ("done", "0")
    # The minter kept working between the listings, which grow and never lose a row.
    assert counts == sorted(counts) and counts[-1] > counts[0]
    assert db("SELECT count(*) FROM tokens") == [(int(count) + 4,)]
    assert {jti for (jti,) in db("SELECT jti FROM tokens WHERE name LIKE 'tui-%'")} == {
        line.split()[1] for line in minter.lines if line.startswith("jti ")
    }
    assert_database_sound(resolve_paths().database)
    print(
        f"\nconcurrency: 1 process minted {count} tokens while the CLI ran "
        f"{len(counts)} listings and 4 mints, {elapsed:.2f} s"
    )
