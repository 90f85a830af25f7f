"""SIGKILL at random moments loses nothing that was committed and never corrupts a file.

A worker (tests/workers/kopitui_worker.py) mints in a loop and prints each jti the moment
``issue_jwt`` has returned; the test kills it with SIGKILL after a seeded random delay,
again and again, and checks the database after every kill. Another worker saves config A
and config B in turn and is killed the same way; the file must always be exactly one of
the two. The delays are random, the outcome is not: every kill must be survived.
"""

from __future__ import annotations

import os
import random
import stat
import time

import pytest
from workers.harness import Worker, assert_database_sound, child_env, rows
from workers.kopitui_worker import config_variant

from kopitui.config import dumps, load, resolve_paths, save
from kopitui.service import TokenService

from support import ADMIN

KILLS = 20
SEED = 20240605
TEMP_GLOB = ".config.toml.*.tmp"


@pytest.fixture
def spawn():
    """Start workers; every one still running at the end is killed and reaped."""
    started: list[Worker] = []

    def start(*args: str) -> Worker:
        worker = Worker(*args, env=child_env())
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
        worker.finish(30)


def kill_after(worker: Worker, delay: float) -> Worker:
    worker.wait_ready()
    time.sleep(delay)
    assert worker.proc.poll() is None, worker.finish().stderr  # it was still at work
    worker.kill()
    return worker.finish(30)


def test_minting_survives_sigkill_at_random_moments(service, admin, config, spawn):
    database = resolve_paths().database
    rng = random.Random(SEED)
    printed_total = unreported = 0
    started = time.perf_counter()
    for kill in range(KILLS):
        worker = spawn("loop", "--user", ADMIN, "--prefix", f"k{kill}")
        kill_after(worker, rng.uniform(0.05, 0.3))
        assert worker.proc.returncode == -9
        assert [line for line in worker.lines if not line.startswith(("jti ", "ready"))] == []
        printed = [line.split()[1] for line in worker.lines if line.startswith("jti ")]
        # After every kill: the file is sound, and every token the worker was told about
        # is there, with its audit line. At most one more is there: committed, then
        # killed before the print.
        assert_database_sound(database)
        stored = rows(
            database,
            "SELECT jti, name FROM tokens WHERE name LIKE ? ORDER BY id",
            (f"k{kill}-%",),
        )
        assert [jti for jti, _ in stored[: len(printed)]] == printed
        assert len(stored) - len(printed) in (0, 1)
        assert [name for _, name in stored] == [f"k{kill}-{n}" for n in range(len(stored))]
        printed_total += len(printed)
        unreported += len(stored) - len(printed)
    elapsed = time.perf_counter() - started
    assert printed_total > KILLS * 10  # the kills came in the middle of minting

    total = rows(database, "SELECT count(*) FROM tokens")[0][0]
    assert total == printed_total + unreported
    generated = rows(database, "SELECT count(*) FROM audit_log WHERE event = 'token_generated'")
    assert generated == [(total,)]
    # The service opens and mints again, in a new process as in this one.
    again = TokenService(config, database)
    try:
        again.issue_jwt(again.get_user(ADMIN), "after the kills", "5")
        assert again.store.read("PRAGMA integrity_check")[0][0] == "ok"
    finally:
        again.close()
    assert rows(database, "SELECT count(*) FROM tokens") == [(total + 1,)]
    print(
        f"\ncrash safety: {KILLS} kills survived while minting; {printed_total} tokens "
        f"reported and all present, {unreported} committed just before a kill; {elapsed:.1f} s"
    )


def test_config_saving_survives_sigkill_at_random_moments(spawn, tmp_path):
    path = tmp_path / "conf" / "config.toml"
    variants = {dumps(config_variant(which)).encode("utf-8"): which for which in (0, 1)}
    rng = random.Random(SEED)
    seen = [0, 0]
    leftovers = []
    for kill in range(KILLS):
        kill_after(spawn("save-config", str(path)), rng.uniform(0.05, 0.3))
        data = path.read_bytes()
        # Exactly A or exactly B: never empty, never a mix, never cut short.
        assert data in variants, f"kill {kill}: {data[:200]!r}"
        seen[variants[data]] += 1
        assert load(path) == config_variant(variants[data])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        leftovers.append(len(list(path.parent.glob(TEMP_GLOB))))
    assert sorted(os.listdir(path.parent)) == sorted(
        ["config.toml", *(p.name for p in path.parent.glob(TEMP_GLOB))]
    )
    print(
        f"\ncrash safety: {KILLS} kills survived while saving the config (A {seen[0]}x, "
        f"B {seen[1]}x); temp files left behind after each kill: {leftovers}"
    )


def test_a_save_killed_before_its_rename_leaves_nothing_to_pile_up(spawn, tmp_path):
    """A save killed between writing its temp file and renaming it leaves the old config
    whole — and a ``.config.toml.*.tmp`` file. The next saves must not let such files
    pile up in the config folder (they hold a whole config each): an hour-old one is
    certainly abandoned, and a save clears it away.

    The worker stops its second save at ``os.replace``/``os.rename`` (the rename step of
    ``config.write_atomic``), so the kill lands at the same point every time."""
    path = tmp_path / "conf" / "config.toml"
    for _ in range(3):
        worker = spawn("save-config", str(path), "--stall-before-replace")
        worker.wait_ready()
        deadline = time.monotonic() + 30
        while not any(line.startswith("stalled ") for line in worker.lines):
            assert worker.proc.poll() is None and time.monotonic() < deadline, worker.stderr
            time.sleep(0.01)
        worker.kill()
        worker.finish(30)
        assert path.read_bytes() == dumps(config_variant(0)).encode("utf-8")
    abandoned = list(path.parent.glob(TEMP_GLOB))
    assert len(abandoned) == 3  # what three killed saves leave
    hour_ago = time.time() - 3600
    for leftover in abandoned:  # long dead: no save of any process is still writing them
        os.utime(leftover, (hour_ago, hour_ago))

    save(config_variant(1), path)
    assert load(path) == config_variant(1)
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"], (
        "temp files of killed saves are never removed"
    )
