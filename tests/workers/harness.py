"""What the concurrency, crash-safety and fault tests share: child environments, worker
processes whose output is read as it comes, and plain looks into the database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

WORKER = Path(__file__).with_name("kopitui_worker.py")


def child_env(home: str | os.PathLike[str] | None = None, **extra: str) -> dict[str, str]:
    """Only what a child needs: the test's data folder, UTC, UTF-8, no outer sign-in."""
    test_home = Path(os.environ["HOME"])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(test_home),
        "KOPITUI_HOME": str(home) if home is not None else os.environ["KOPITUI_HOME"],
        "XDG_CONFIG_HOME": str(test_home / "xdg_config_home"),
        "XDG_DATA_HOME": str(test_home / "xdg_data_home"),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if "PYTHONPATH" in os.environ:  # children import the kopitui the tests import
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(extra)
    return env


class Worker:
    """``python tests/workers/kopitui_worker.py ARGS``; stdout is read line by line on a
    thread (so a chatty worker never blocks on a full pipe), stderr kept whole."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.lines: list[str] = []  # complete lines only
        self.partial = ""  # a line cut short by a kill
        self.stderr = ""
        self._ready = threading.Event()
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            if not line.endswith("\n"):
                self.partial = line
                break
            self.lines.append(line[:-1])
            if line == "ready\n":
                self._ready.set()

    def _read_stderr(self) -> None:
        self.stderr = self.proc.stderr.read()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            assert self.proc.poll() is None or self._ready.is_set(), self.finish().stderr
            assert time.monotonic() < deadline, "the worker never became ready"

    def wait_lines(self, count: int, timeout: float = 60) -> list[str]:
        """The first ``count`` lines of stdout, once there are that many."""
        deadline = time.monotonic() + timeout
        while len(self.lines) < count:
            assert self.proc.poll() is None or len(self.lines) >= count, self.finish().stderr
            assert time.monotonic() < deadline, f"only {len(self.lines)} of {count} lines"
            time.sleep(0.002)
        return self.lines[:count]

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def go(self) -> None:
        self.send("go")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def finish(self, timeout: float = 120) -> Worker:
        """Wait for the end (killing it after ``timeout``) and for all of its output."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
        for reader in self._readers:
            reader.join(30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):  # a broken pipe to a killed child
                pass
        return self


def release(workers: list[Worker]) -> None:
    """The start barrier: wait until every worker is ready, then let them all go at once."""
    for worker in workers:
        worker.wait_ready()
    for worker in workers:
        worker.go()


def rows(database: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(database)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def assert_database_sound(database: Path) -> None:
    assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    assert rows(database, "PRAGMA foreign_key_check") == []
