"""kopitui.clipboard.copy_text: routes and truthful outcomes (cases C01–C05)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyperclip
import pytest

from kopitui.clipboard import TIMEOUT_SECONDS, CopyOutcome, copy_text

from helpers_core import isolate_home

TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"
TMUX_ARGV = ["tmux", "load-buffer", "-b", "kopitui", "-w", "-"]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    isolate_home(monkeypatch, tmp_path)


class FakeSystem:
    """Stands in for ``shutil.which`` and ``subprocess.run``; records every call."""

    def __init__(self, monkeypatch, programs=(), returncode=0, raises=None):
        self.programs = set(programs)
        self.returncode = returncode
        self.raises = raises
        self.calls: list[tuple[list[str], dict]] = []
        monkeypatch.setattr(shutil, "which", self.which)
        monkeypatch.setattr(subprocess, "run", self.run)

    def which(self, name, mode=os.F_OK | os.X_OK, path=None):
        return f"/usr/bin/{name}" if name in self.programs else None

    def run(self, argv, *args, **kwargs):
        self.calls.append((list(argv), kwargs))
        if self.raises is not None:
            raise self.raises
        return subprocess.CompletedProcess(argv, self.returncode, None, None)

    @property
    def argvs(self) -> list[list[str]]:
        return [argv for argv, _ in self.calls]


class Osc52:
    def __init__(self, fail: Exception | None = None):
        self.sent: list[str] = []
        self.fail = fail

    def __call__(self, text: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(text)


@pytest.fixture
def linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")


def claims_success(outcome: CopyOutcome) -> bool:
    return "copied" in outcome.message.lower()


# -- C01: no clipboard mechanism ------------------------------------------------------------


def test_c01_headless_uses_osc52_and_says_sent(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip", "xsel", "wl-copy", "tmux"])
    osc = Osc52()
    outcome = copy_text(TOKEN, "auto", osc52=osc, env={"PATH": "/usr/bin"})
    assert outcome.ok is True
    assert outcome.route == "osc52"
    assert "Sent to the terminal" in outcome.message
    assert not claims_success(outcome)
    assert osc.sent == [TOKEN]
    assert fake.calls == []  # no desktop, no tmux: no helper was started


def test_c01_nothing_works(monkeypatch, linux):
    FakeSystem(monkeypatch)
    outcome = copy_text(TOKEN, "auto", osc52=None, env={"PATH": "/usr/bin"})
    assert outcome == CopyOutcome(False, "none", outcome.message)
    assert "could not copy" in outcome.message.lower()
    assert not claims_success(outcome)
    assert TOKEN not in outcome.message


@pytest.mark.parametrize(
    "error",
    [pyperclip.PyperclipException("no mechanism"), FileNotFoundError(2, "xclip")],
    ids=["PyperclipException", "FileNotFoundError"],
)
def test_c01_pyperclip_errors_never_escape(monkeypatch, error):
    monkeypatch.setattr(sys, "platform", "darwin")
    fake = FakeSystem(monkeypatch)

    def broken(text):
        raise error

    monkeypatch.setattr(pyperclip, "copy", broken)
    outcome = copy_text(TOKEN, "system", env={"PATH": "/usr/bin"})
    assert outcome.ok is False and outcome.route == "none"
    assert "could not copy" in outcome.message.lower()
    osc = Osc52()
    outcome = copy_text(TOKEN, "auto", osc52=osc, env={"PATH": "/usr/bin"})
    assert outcome.ok is True and outcome.route == "osc52"
    assert osc.sent == [TOKEN]
    assert fake.calls == []


def test_pyperclip_used_off_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    FakeSystem(monkeypatch)
    copied = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    osc = Osc52()
    outcome = copy_text(TOKEN, "auto", osc52=osc, env={"PATH": "/usr/bin"})
    assert outcome.ok and outcome.route == "system"
    assert "system clipboard" in outcome.message
    assert copied == [TOKEN]
    assert osc.sent == []  # C05: the system clipboard first


# -- C02: Wayland without X -----------------------------------------------------------------


WAYLAND = {"PATH": "/usr/bin", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ""}


def test_c02_wayland_without_wl_copy_names_wl_clipboard(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip", "xsel"])
    outcome = copy_text(TOKEN, "system", env=WAYLAND)
    assert outcome.ok is False
    assert "wl-clipboard" in outcome.message
    assert "xclip" not in outcome.message and "xsel" not in outcome.message
    assert fake.calls == []


def test_c02_wayland_with_wl_copy(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["wl-copy", "xclip"])
    outcome = copy_text(TOKEN, "auto", osc52=Osc52(), env=WAYLAND)
    assert outcome.ok and outcome.route == "system"
    assert fake.argvs == [["wl-copy"]]
    assert fake.calls[0][1]["input"] == TOKEN.encode("utf-8")


def test_x11_uses_xclip_then_xsel(monkeypatch, linux):
    env = {"PATH": "/usr/bin", "DISPLAY": ":0"}
    fake = FakeSystem(monkeypatch, programs=["xclip", "xsel"])
    assert copy_text(TOKEN, "system", env=env).ok
    assert fake.argvs[0][0] == "xclip"
    assert "clipboard" in fake.argvs[0]
    fake = FakeSystem(monkeypatch, programs=["xsel"])
    assert copy_text(TOKEN, "system", env=env).ok
    assert fake.argvs[0][0] == "xsel"
    fake = FakeSystem(monkeypatch, programs=[])
    outcome = copy_text(TOKEN, "system", env=env)
    assert not outcome.ok and "xclip" in outcome.message


def test_helper_lookup_uses_the_given_path(monkeypatch, linux):
    seen = []

    def which(name, mode=os.F_OK | os.X_OK, path=None):
        seen.append(path)
        return None

    monkeypatch.setattr(shutil, "which", which)
    copy_text(TOKEN, "system", env={"PATH": "/opt/bin", "DISPLAY": ":0"})
    assert seen and all(p == "/opt/bin" for p in seen)


# -- C03: helpers never hold the terminal ---------------------------------------------------


def test_c03_subprocess_gets_no_pipes_and_a_timeout(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip"])
    assert copy_text(TOKEN, "system", env={"PATH": "/usr/bin", "DISPLAY": ":0"}).ok
    [(argv, kwargs)] = fake.calls
    assert kwargs["stdout"] is subprocess.DEVNULL
    assert kwargs["stderr"] is subprocess.DEVNULL
    assert kwargs["start_new_session"] is True
    assert 0 < kwargs["timeout"] <= 2
    assert kwargs["input"] == TOKEN.encode("utf-8")
    assert "stdin" not in kwargs  # input= gives it a pipe of its own
    assert kwargs.get("capture_output", False) is False
    assert TIMEOUT_SECONDS <= 2


@pytest.mark.parametrize(
    "error",
    [
        subprocess.TimeoutExpired(["xclip"], 2),
        FileNotFoundError(2, "xclip"),
        PermissionError(13, "xclip"),
        OSError(7, "Argument list too long"),
    ],
    ids=["timeout", "missing", "permission", "oserror"],
)
def test_c03_helper_errors_become_outcomes(monkeypatch, linux, error):
    FakeSystem(monkeypatch, programs=["xclip"], raises=error)
    env = {"PATH": "/usr/bin", "DISPLAY": ":0"}
    outcome = copy_text(TOKEN, "system", env=env)
    assert outcome.ok is False and outcome.route == "none"
    assert not claims_success(outcome)
    osc = Osc52()
    outcome = copy_text(TOKEN, "auto", osc52=osc, env=env)
    assert outcome.ok and outcome.route == "osc52"
    assert osc.sent == [TOKEN]


def test_helper_failing_status_is_a_failure(monkeypatch, linux):
    FakeSystem(monkeypatch, programs=["xclip"], returncode=1)
    outcome = copy_text(TOKEN, "system", env={"PATH": "/usr/bin", "DISPLAY": ":0"})
    assert outcome.ok is False
    assert not claims_success(outcome)


def _fake_program(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def _kill_recorded(pidfile: Path) -> None:
    if pidfile.exists() and pidfile.read_text().strip():
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        except ProcessLookupError:
            pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and sh")
def test_c03_real_xclip_that_stays_alive(tmp_path):
    """Like the real xclip: reads stdin, forks a child that keeps stdout, exits."""
    got, fds, pidfile = tmp_path / "got", tmp_path / "fds", tmp_path / "pid"
    _fake_program(
        tmp_path / "bin",
        "xclip",
        f'cat > "{got}"\n'
        "out=$(readlink /proc/$$/fd/1)\nerr=$(readlink /proc/$$/fd/2)\n"
        f'echo "$out $err" > "{fds}"\n'
        f'sleep 30 &\necho $! > "{pidfile}"\nexit 0\n',
    )
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "DISPLAY": ":99", "HOME": str(tmp_path)}
    try:
        start = time.monotonic()
        outcome = copy_text(TOKEN, "system", env=env)
        elapsed = time.monotonic() - start
    finally:
        _kill_recorded(pidfile)
    assert elapsed < 5, f"copy hung for {elapsed:.1f}s"
    assert outcome.ok and outcome.route == "system", outcome.message
    assert got.read_text() == TOKEN
    assert fds.read_text().split() == ["/dev/null", "/dev/null"]  # no inherited pipes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs sh")
def test_c03_real_helper_that_never_returns(tmp_path):
    """A helper that never exits is cut off at the timeout; the next route is tried."""
    pidfile = tmp_path / "pid"
    _fake_program(tmp_path / "bin", "xclip", f'echo $$ > "{pidfile}"\nexec sleep 30\n')
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "DISPLAY": ":99", "HOME": str(tmp_path)}
    osc = Osc52()
    try:
        start = time.monotonic()
        outcome = copy_text(TOKEN, "auto", osc52=osc, env=env)
        elapsed = time.monotonic() - start
    finally:
        _kill_recorded(pidfile)
    assert elapsed < 5, f"copy hung for {elapsed:.1f}s"
    assert outcome.ok and outcome.route == "osc52"
    assert osc.sent == [TOKEN]


# -- C04: tmux ------------------------------------------------------------------------------

TMUX = "/tmp/tmux-1000/default,4242,0"


def test_c04_inside_tmux_uses_load_buffer(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["tmux"])
    osc = Osc52()
    outcome = copy_text(TOKEN, "auto", osc52=osc, env={"PATH": "/usr/bin", "TMUX": TMUX})
    assert outcome.ok and outcome.route == "tmux"
    assert fake.argvs == [TMUX_ARGV]
    assert fake.calls[0][1]["input"] == TOKEN.encode("utf-8")
    assert fake.calls[0][1]["env"]["TMUX"] == TMUX  # tmux finds its server through $TMUX
    assert osc.sent == []  # tmux would swallow OSC 52
    assert "tmux" in outcome.message


def test_c04_tmux_failing_falls_back_honestly(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["tmux"], returncode=1)
    osc = Osc52()
    outcome = copy_text(TOKEN, "auto", osc52=osc, env={"PATH": "/usr/bin", "TMUX": TMUX})
    assert fake.argvs == [TMUX_ARGV]
    assert outcome.route == "osc52"
    assert not claims_success(outcome)


def test_c04_tmux_missing(monkeypatch, linux):
    FakeSystem(monkeypatch, programs=[])
    outcome = copy_text(TOKEN, "tmux", env={"PATH": "/usr/bin", "TMUX": TMUX})
    assert outcome.ok is False
    assert "tmux" in outcome.message


# -- SSH ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"])
def test_ssh_session_skips_the_system_route(monkeypatch, linux, variable):
    fake = FakeSystem(monkeypatch, programs=["xclip", "xsel", "wl-copy", "tmux"])
    env = {"PATH": "/usr/bin", "DISPLAY": "localhost:10.0", variable: "10.0.0.1 5000 10.0.0.2 22"}
    osc = Osc52()
    outcome = copy_text(TOKEN, "auto", osc52=osc, env=env)
    assert outcome.route == "osc52"
    assert fake.calls == []
    assert osc.sent == [TOKEN]


def test_ssh_inside_tmux_uses_tmux(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip", "tmux"])
    env = {
        "PATH": "/usr/bin",
        "DISPLAY": "localhost:10.0",
        "SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22",
        "TMUX": TMUX,
    }
    outcome = copy_text(TOKEN, "auto", osc52=Osc52(), env=env)
    assert outcome.route == "tmux"
    assert fake.argvs == [TMUX_ARGV]


def test_c05_desktop_prefers_the_system_clipboard(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip", "tmux"])
    osc = Osc52()
    outcome = copy_text(TOKEN, "auto", osc52=osc, env={"PATH": "/usr/bin", "DISPLAY": ":0"})
    assert outcome.ok and outcome.route == "system"
    assert outcome.message == "Copied to the system clipboard."
    assert [a[0] for a in fake.argvs] == ["xclip"]
    assert osc.sent == []


# -- forced methods -------------------------------------------------------------------------


def test_method_none_does_nothing(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip", "tmux"])
    osc = Osc52()
    env = {"PATH": "/usr/bin", "DISPLAY": ":0", "TMUX": TMUX}
    outcome = copy_text(TOKEN, "none", osc52=osc, env=env)
    assert outcome.ok is False and outcome.route == "none"
    assert fake.calls == [] and osc.sent == []
    assert not claims_success(outcome)


def test_forced_system_tries_only_system(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["tmux"])
    osc = Osc52()
    outcome = copy_text(TOKEN, "system", osc52=osc, env={"PATH": "/usr/bin", "TMUX": TMUX})
    assert outcome.ok is False
    assert fake.calls == [] and osc.sent == []


def test_forced_system_ignores_ssh(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip"])
    env = {"PATH": "/usr/bin", "DISPLAY": ":0", "SSH_CONNECTION": "a b c d"}
    outcome = copy_text(TOKEN, "system", env=env)
    assert outcome.ok and outcome.route == "system"
    assert fake.argvs[0][0] == "xclip"


def test_forced_tmux_tries_only_tmux(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip", "tmux"])
    osc = Osc52()
    outcome = copy_text(TOKEN, "tmux", osc52=osc, env={"PATH": "/usr/bin", "DISPLAY": ":0"})
    assert outcome.ok is False  # not inside tmux
    assert fake.calls == [] and osc.sent == []


def test_forced_osc52_tries_only_osc52(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip", "tmux"])
    osc = Osc52()
    env = {"PATH": "/usr/bin", "DISPLAY": ":0", "TMUX": TMUX}
    outcome = copy_text(TOKEN, "osc52", osc52=osc, env=env)
    assert outcome.ok and outcome.route == "osc52"
    assert fake.calls == [] and osc.sent == [TOKEN]
    assert not claims_success(outcome)
    outcome = copy_text(TOKEN, "osc52", osc52=None, env=env)
    assert outcome.ok is False and fake.calls == []


def test_osc52_writer_raising_is_an_outcome(monkeypatch, linux):
    FakeSystem(monkeypatch)
    outcome = copy_text(TOKEN, "auto", osc52=Osc52(fail=RuntimeError("no app")), env={})
    assert outcome.ok is False and outcome.route == "none"


def test_unknown_method_is_an_outcome(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["xclip"])
    outcome = copy_text(TOKEN, "carrier-pigeon", env={"PATH": "/usr/bin", "DISPLAY": ":0"})
    assert outcome.ok is False
    assert fake.calls == []


def test_env_defaults_to_os_environ(monkeypatch, linux):
    fake = FakeSystem(monkeypatch, programs=["tmux"])
    monkeypatch.setenv("TMUX", TMUX)
    outcome = copy_text(TOKEN, "tmux")
    assert outcome.ok and fake.argvs == [TMUX_ARGV]
