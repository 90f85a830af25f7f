"""Faults of the machine, through the real command: one clear line, exit 2, nothing lost.

Every case runs ``python -m kopitui …`` in a child process with an explicit environment
and stdin/stdout that are not terminals: a database from a newer kopitui, missing,
unreadable, empty and undecodable config files, a read-only data folder (a read-only bind
mount in a private mount namespace, made with ``unshare``) and a full disk
(``RLIMIT_FSIZE`` in the child, with SIGXFSZ ignored, so writes past the limit fail with
EFBIG as on a full file system). Afterwards the files are byte-for-byte what they were,
or — after a failed write — the database is sound and holds every earlier token.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from workers.harness import assert_database_sound, child_env, rows

from kopitui.config import Config, load, load_or_create
from kopitui.service import TokenService

from support import ADMIN, ADMIN_PASSWORD

EARLIER = ("first", "second", "third")
SIGN_IN = {"KOPITUI_USER": ADMIN, "KOPITUI_PASSWORD": ADMIN_PASSWORD}


def kopitui(
    *args: str, home: Path, prefix: tuple[str, ...] = (), preexec_fn=None, **env: str
) -> subprocess.CompletedProcess:
    """``python -m kopitui ARGS``: stdin /dev/null, stdout a pipe, never a terminal."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "kopitui", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=child_env(home, **env),
        text=True,
        timeout=60,
        check=False,
        preexec_fn=preexec_fn,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess, *parts: str) -> str:
    """Exit 2, one ``kopitui: …`` line on stderr naming ``parts``, nothing on stdout."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kopitui: "), result.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])
    assert result.stdout == ""
    assert result.returncode == 2, result.stderr
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def make_home(home: Path) -> Path:
    """A data folder with a config, the administrator and three tokens; closed cleanly,
    so it is just config.toml and kopitui.db."""
    config = load_or_create(home / "config.toml")
    service = TokenService(config, home / "kopitui.db")
    try:
        admin = service.create_first_admin(ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD)
        for name in EARLIER:
            service.issue_jwt(admin, name, "60")
    finally:
        service.close()
    assert sorted(os.listdir(home)) == ["config.toml", "kopitui.db"]
    return home


@pytest.fixture
def home(isolated_home: Path) -> Path:
    return make_home(isolated_home)


def token_names(database: Path) -> list[str]:
    return [name for (name,) in rows(database, "SELECT name FROM tokens ORDER BY id")]


# -- a database from a newer kopitui ----------------------------------------------------


@pytest.fixture
def newer_home(home: Path) -> Path:
    conn = sqlite3.connect(home / "kopitui.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    return home


@pytest.mark.parametrize(
    "args",
    [
        ("token", "jwt", "--name", "new", "--expires", "5"),
        ("token", "list", "--json"),
        (),  # the TUI: refused before anything is drawn
    ],
    ids=["mint", "list", "tui"],
)
def test_a_database_from_a_newer_kopitui_is_refused_untouched(newer_home, args):
    before = snapshot(newer_home)
    result = kopitui(*args, home=newer_home, **SIGN_IN)
    line = assert_one_clear_line(result, str(newer_home / "kopitui.db"), "newer")
    assert "99" in line and "upgrade" in line
    assert "\x1b" not in result.stderr  # no screen, no escape sequence
    assert snapshot(newer_home) == before  # nothing written, not even a -wal file left


def test_a_file_that_is_not_a_database_is_refused_untouched(home):
    garbage = bytes(range(256)) * 16
    (home / "kopitui.db").write_bytes(garbage)
    before = snapshot(home)
    result = kopitui("token", "jwt", "--name", "new", "--expires", "5", home=home, **SIGN_IN)
    assert_one_clear_line(result, str(home / "kopitui.db"))
    assert snapshot(home) == before


# -- config files -------------------------------------------------------------------------


def test_a_missing_config_given_with_config_is_an_error_and_nothing_is_written(home, tmp_path):
    """``--config PATH`` for a file that does not exist is most likely a typo: quietly
    starting a fresh config there would mint tokens with the default issuer and
    audience. Only kopitui's own config is written on a first run."""
    path = tmp_path / "elsewhere" / "deeper" / "kopitui.toml"
    result = kopitui("--config", str(path), "token", "list", "--json", home=home, **SIGN_IN)
    assert_one_clear_line(result, str(path), "no such config file")
    assert not (tmp_path / "elsewhere").exists()
    assert sorted(os.listdir(home)) == ["config.toml", "kopitui.db"]


@pytest.mark.parametrize("given", [True, False], ids=["--config", "default-path"])
def test_a_folder_where_the_config_should_be_is_a_clear_error(home, tmp_path, given):
    folder = tmp_path / "a-folder.toml" if given else home / "config.toml"
    if not given:
        folder.unlink()
    folder.mkdir()
    args = ("--config", str(folder)) if given else ()
    result = kopitui(*args, "token", "list", home=home, **SIGN_IN)
    assert_one_clear_line(result, str(folder), "cannot read")
    assert folder.is_dir() and list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"\n \n\t\n", "empty"),
        (b'[ui]\ntheme = "\xff\xfe caf\xe9"\n', "UTF-8"),
        (b"[jwt\nissuer = ", "TOML"),
    ],
    ids=["zero-bytes", "blank", "not-utf-8", "bad-toml"],
)
@pytest.mark.parametrize("face", ["command", "tui"])
def test_a_config_that_cannot_be_used_is_named_and_left_alone(home, content, words, face):
    path = home / "config.toml"
    path.write_bytes(content)
    before = snapshot(home)
    args = ("token", "jwt", "--name", "new", "--expires", "5") if face == "command" else ()
    result = kopitui(*args, home=home, **SIGN_IN)
    assert_one_clear_line(result, str(path), words)
    assert snapshot(home) == before  # never replaced by the defaults
    assert token_names(home / "kopitui.db") == list(EARLIER)


def test_a_config_path_inside_a_file_is_a_clear_error(home, tmp_path):
    """``--config some-file/kopitui.toml``: the folder cannot be made; exit 2, one line."""
    not_a_folder = tmp_path / "plain-file"
    not_a_folder.write_text("not a folder\n")
    path = not_a_folder / "kopitui.toml"
    result = kopitui("--config", str(path), "token", "list", home=home, **SIGN_IN)
    assert_one_clear_line(result, str(path))
    assert not_a_folder.read_text() == "not a folder\n"


# -- a read-only data folder -----------------------------------------------------------


def _read_only_prefix() -> tuple[str, ...] | None:
    """A command prefix that runs the rest with ``$1`` bind-mounted read-only, in a
    mount namespace of its own (nothing to clean up). None where that is not allowed."""
    script = (
        'dir=$1; shift; mount --bind "$dir" "$dir" && '
        'mount -o remount,ro,bind "$dir" "$dir" && exec "$@"'
    )
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        for flags in (("-m",), ("-U", "-r", "-m")):  # as root; else in a user namespace
            probe = subprocess.run(
                [unshare, *flags, "sh", "-c", script, "sh", folder, "touch", f"{folder}/x"],
                capture_output=True,
                timeout=30,
                check=False,
            )
            if probe.returncode != 0 and b"Read-only" in probe.stderr:
                return (unshare, *flags, "sh", "-c", script, "sh")
    return None


READ_ONLY = _read_only_prefix()
needs_read_only_mount = pytest.mark.skipif(
    READ_ONLY is None,
    reason="cannot make a read-only bind mount here (unshare -m / -Urm not permitted)",
)


@needs_read_only_mount
@pytest.mark.parametrize("face", ["mint", "tui"])
def test_a_read_only_data_folder_is_a_clear_error(home, face):
    before = snapshot(home)
    args = ("token", "jwt", "--name", "new", "--expires", "5") if face == "mint" else ()
    result = kopitui(*args, home=home, prefix=(*READ_ONLY, str(home)), **SIGN_IN)
    line = assert_one_clear_line(result, str(home))
    assert "read-only" in line.lower() or "read only" in line.lower(), line
    assert snapshot(home) == before
    assert token_names(home / "kopitui.db") == list(EARLIER)


@needs_read_only_mount
def test_a_first_run_in_a_read_only_folder_is_a_clear_error(isolated_home):
    isolated_home.mkdir(parents=True)
    result = kopitui(
        "token", "list", home=isolated_home, prefix=(*READ_ONLY, str(isolated_home)), **SIGN_IN
    )
    line = assert_one_clear_line(result, str(isolated_home))
    assert "read-only" in line.lower() or "read only" in line.lower(), line
    assert list(isolated_home.iterdir()) == []


# -- a full disk ------------------------------------------------------------------------


def file_size_limit(limit: int):
    """For ``preexec_fn``: writes past ``limit`` bytes of any file fail with EFBIG."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


#: From nothing writable, through room for sign-in but not for the token, to plenty.
LIMITS = (0, 4096, 16384, 32768, 36864, 40960, 49152, 65536, 1 << 20)


def test_minting_on_a_full_disk_fails_cleanly_and_loses_nothing(home, tmp_path):
    outcomes = {}
    for limit in LIMITS:
        copy = tmp_path / f"full-{limit}"
        shutil.copytree(home, copy)
        result = kopitui(
            "token",
            "jwt",
            "--name",
            "new",
            "--expires",
            "5",
            home=copy,
            preexec_fn=file_size_limit(limit),
            **SIGN_IN,
        )
        if result.returncode == 0:
            assert result.stdout.startswith("Bearer ey")
            outcomes[limit] = "minted"
        else:
            assert "Traceback" not in result.stderr, (limit, result.stderr[-2000:])
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("kopitui: "), (limit, result.stderr)
            assert result.returncode == 2 and result.stdout == "", (limit, result.stderr)
            outcomes[limit] = lines[0]
        # Without the limit: sound, every earlier token there, the new one only if minted.
        database = copy / "kopitui.db"
        assert_database_sound(database)
        expected = [*EARLIER, "new"] if result.returncode == 0 else list(EARLIER)
        assert token_names(database) == expected, (limit, outcomes[limit])
        assert load(copy / "config.toml") == Config()
        again = kopitui("token", "jwt", "--name", "later", "--expires", "5", home=copy, **SIGN_IN)
        assert again.returncode == 0, again.stderr
    failed = [limit for limit, outcome in outcomes.items() if outcome != "minted"]
    assert failed and failed != list(LIMITS), outcomes  # the limits did bite, and let go


def test_a_first_run_on_a_full_disk_is_a_clear_error(isolated_home):
    result = kopitui("token", "list", home=isolated_home, preexec_fn=file_size_limit(0), **SIGN_IN)
    assert_one_clear_line(result, str(isolated_home))
    # Nothing half-written is left to be read as a config next time.
    assert (
        not (isolated_home / "config.toml").exists()
        or load(isolated_home / "config.toml") == Config()
    )
    assert list(isolated_home.glob(".config.toml.*.tmp")) == []
