"""Measuring on a shared, noisy machine: fresh child processes, alternation, medians.

Nothing here knows about kopitui; :mod:`bench_cases` does.
"""

from __future__ import annotations

import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def _find_gnu_time() -> str | None:
    """GNU time (not the shell keyword), if it is installed and answers ``-f %M``."""
    for candidate in ("/usr/bin/time", shutil.which("time")):
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        try:
            done = subprocess.run(
                [candidate, "-f", "%M", "true"], capture_output=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0 and done.stderr.strip().isdigit():
            return candidate
    return None


#: For a child's own peak memory (see :func:`spawn`); None: fall back to wait4.
GNU_TIME = _find_gnu_time()

#: Variables that would let a child reach the real machine's home, clipboard or tmux,
#: or change how Textual starts (devtools, a forced driver…).
_LEAKY = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "TMUX",
    "TMUX_PANE",
    "SSH_CONNECTION",
    "SSH_TTY",
    "SSH_CLIENT",
    "KOPITUI_CONFIG",
    "KOPITUI_USER",
    "KOPITUI_PASSWORD",
    "PYTHONWARNINGS",
    # Without cached bytecode every start would compile kopitui's (often just edited)
    # sources while Textual's come precompiled from the wheel: not what users run.
    "PYTHONDONTWRITEBYTECODE",
)


@dataclass
class Row:
    """One line of the results table. ``ratio`` is kopitui ÷ baseline (lower is better)."""

    name: str
    kopitui: str
    baseline: str
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""
    #: The raw medians, for the smoke test and for anyone scripting against run.py.
    values: dict[str, float] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "**no**", None: "—"}[self.ok]


@dataclass
class Settings:
    """How hard to measure. ``quick`` is a smoke run; the smoke test uses ``tiny``."""

    rounds: int = 10
    warmup: int = 1
    tokens_big: int = 100_000
    tokens_small: int = 10
    tokens_page: int = 100  # a full first page: same rows drawn as with the big store
    mint_batch: int = 200
    list_opens: int = 4
    signin_rounds: int = 7

    @classmethod
    def full(cls) -> Settings:
        return cls()

    @classmethod
    def quick(cls) -> Settings:
        # list_opens as in a full run: with 2, the session's first (cold) search is
        # half of the median.
        return cls(rounds=3, warmup=1, mint_batch=50, list_opens=4, signin_rounds=3)

    @classmethod
    def tiny(cls) -> Settings:
        return cls(rounds=1, warmup=0, tokens_big=300, mint_batch=3, list_opens=1, signin_rounds=1)


# -- numbers ----------------------------------------------------------------------------


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def ratio(kopitui: float, baseline: float) -> float:
    return kopitui / baseline if baseline > 0 else float("inf")


def ms(seconds: float) -> str:
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def alternate(
    kopitui: Callable[[], T],
    baseline: Callable[[], T],
    rounds: int,
    warmup: int,
) -> tuple[list[T], list[T]]:
    """Run both ``warmup`` times unrecorded, then ``rounds`` times each, alternating
    which goes first (ABBA…) so a drift in machine load hits both alike."""
    samples = interleave({"kopitui": kopitui, "baseline": baseline}, rounds, warmup)
    return samples["kopitui"], samples["baseline"]


def interleave(runs: dict[str, Callable[[], T]], rounds: int, warmup: int) -> dict[str, list[T]]:
    """:func:`alternate` for any number of contenders: each round runs them all, in
    an order that rotates and reverses from round to round."""
    names = list(runs)
    for _ in range(warmup):
        for name in names:
            runs[name]()
    samples: dict[str, list[T]] = {name: [] for name in names}
    for i in range(max(1, rounds)):
        shift = (i // 2) % len(names)
        order = names[shift:] + names[:shift]
        if i % 2:
            order.reverse()
        for name in order:
            samples[name].append(runs[name]())
    return samples


# -- child processes --------------------------------------------------------------------


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for a child: everything in ``home``, nothing of the real user's."""
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY and not k.startswith("TEXTUAL")}
    env.update(
        HOME=str(home / "home"),
        KOPITUI_HOME=str(home / "kopitui-home"),
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        XDG_DATA_HOME=str(home / "xdg-data"),
        XDG_STATE_HOME=str(home / "xdg-state"),
        XDG_CACHE_HOME=str(home / "xdg-cache"),
        TZ="UTC",
    )
    env.update(extra)
    return env


@dataclass
class ChildRun:
    seconds: float  # spawn until the ready line (or until exit, without one)
    maxrss_kib: int  # peak resident memory of that child alone
    cpu_seconds: float  # user + system CPU time of the whole child (start to exit)
    returncode: int
    stdout: bytes
    stderr: str


def spawn(
    argv: Sequence[str],
    env: dict[str, str],
    *,
    stdin: bytes | None = None,
    ready_line: bool = False,
    timeout: float = 60.0,
) -> ChildRun:
    """Run one fresh child and measure it.

    With ``ready_line``, the child is given a pipe (its fd number is appended to
    ``argv``) and the time stops when it writes a line there; otherwise at its exit.

    Peak memory is the child's own ``ru_maxrss``, read by GNU time (``%M``). Not from
    our own ``wait4``/``RUSAGE_CHILDREN``: on Linux a child's ``ru_maxrss`` starts at
    the RSS of the process that forked it, so a big parent (this one, once it has
    imported Textual) would hide the child's figure. GNU time is a tiny parent.
    """
    read_fd = write_fd = None
    what = Path(argv[1]).name if len(argv) > 1 else argv[0]
    if ready_line:
        read_fd, write_fd = os.pipe()
        argv = [*argv, str(write_fd)]
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        if GNU_TIME:
            argv = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            pass_fds=(write_fd,) if write_fd is not None else (),
        )
        try:
            elapsed = None
            if write_fd is not None:
                os.close(write_fd)
            if stdin is not None:
                proc.stdin.write(stdin)
                proc.stdin.close()
            if read_fd is not None:
                elapsed = _wait_for_line(read_fd, start, timeout)
            stdout = proc.stdout.read()
            _, status, usage = os.wait4(proc.pid, 0)
            end = time.perf_counter()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if read_fd is not None:
                os.close(read_fd)
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        maxrss = usage.ru_maxrss
        if GNU_TIME:
            # GNU time writes "Command exited with non-zero status N" first, then %M.
            maxrss = int(rss.read().split()[-1])
    if elapsed is None:
        elapsed = end - start
        if ready_line:
            raise RuntimeError(f"{what}: no ready line (exit {proc.returncode}):\n{stderr}")
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(elapsed, maxrss, cpu, proc.returncode, stdout, stderr)


def _wait_for_line(fd: int, start: float, timeout: float) -> float | None:
    data = b""
    while b"\n" not in data:
        left = timeout - (time.perf_counter() - start)
        if left <= 0:
            raise TimeoutError(f"no ready line within {timeout:.0f} s")
        readable, _, _ = select.select([fd], [], [], left)
        if not readable:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:  # the child closed it (exited) without saying ready
            return None
        data += chunk
    return time.perf_counter() - start


# -- places -----------------------------------------------------------------------------


class Scratch:
    """A temporary folder for one benchmark, removed afterwards."""

    def __init__(self, prefix: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=f"kopitui-bench-{prefix}-"))
        self._n = 0

    def fresh_copy(self, template: Path) -> Path:
        """A new folder holding a copy of ``template``'s files (one per child)."""
        self._n += 1
        target = self.path / f"run-{self._n:03d}"
        shutil.copytree(template, target, symlinks=True)
        return target

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# -- the machine ------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 0
    try:
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    try:
        from importlib.metadata import version

        textual = version("textual")
    except Exception:  # noqa: BLE001 - only a label
        textual = "?"
    return {
        "CPU": cpu,
        "Cores": f"{usable} usable ({os.cpu_count()} online)",
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "Textual": textual,
        "OS": f"{platform.system()} {platform.release()}",
        "Load at start (1/5/15 min)": load,
    }
