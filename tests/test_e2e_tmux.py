"""End to end: the installed ``kopitui`` command, driven by keys inside a private tmux.

The story of issue 2: create the administrator, sign in, make a JWT with the default
expiry, press ``c``, and check that what tmux received is the token on screen and that
PyJWT accepts it with the key kopitui stored. Run twice: with the default ``auto``
clipboard route (inside tmux: ``tmux load-buffer -w -``) and with ``method = "osc52"``,
where only tmux's ``set-clipboard on`` turns the escape sequence into a paste buffer.

Nothing here touches the real machine: a tmux server of its own (``-L``, no config
file), and HOME, XDG_* and KOPITUI_HOME all inside ``tmp_path``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import jwt
import pytest
import tomli_w

from kopitui.config import DEFAULTS

pytestmark = pytest.mark.e2e

USERNAME = "e2e-operator"
PASSWORD = "correct-horse-battery-staple"
TOKEN_NAME = "CI e2e token"
WIDTH, HEIGHT = 100, 30
TIMEOUT = 15.0

#: Printed by the pane's shell once kopitui has ended, with kopitui's exit status.
#: (tmux 3.3a can mark a pane dead before it has read the exit status, so
#: ``#{pane_dead_status}`` alone is not dependable.)
EXIT_MARKER = "kopitui ended with status"

#: What the copy notice says for each route (kopitui.clipboard.MESSAGES).
ROUTE_NOTICE = {
    "tmux": "Copied to the tmux paste buffer",
    "osc52": "Sent to the terminal clipboard (OSC 52)",
}

BOX_CHARS = "╭╮╰╯│─"


def installed_kopitui() -> Path:
    return Path(sys.executable).parent / "kopitui"


class Tmux:
    """A private tmux server with one window running one command."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env
        self.socket_path: Path | None = None

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["tmux", "-u", "-L", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(f"tmux {shlex.join(args)} failed: {result.stderr.strip()}")
        return result

    def start(self, command: str) -> None:
        self.run(
            "start-server",
            ";", "set-option", "-g", "remain-on-exit", "on",
            ";", "set-option", "-g", "set-clipboard", "on",
            ";", "set-option", "-g", "default-terminal", "tmux-256color",
            ";", "new-session", "-d", "-s", "e2e", "-x", str(WIDTH), "-y", str(HEIGHT),
            command,
        )  # fmt: skip
        self.socket_path = Path(self.run("display-message", "-p", "#{socket_path}").stdout.strip())

    def kill(self) -> None:
        self.run("kill-server", check=False)
        if self.socket_path is not None:  # tmux leaves the socket file behind
            self.socket_path.unlink(missing_ok=True)

    # -- looking ------------------------------------------------------------------------

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e").stdout

    def everything(self) -> str:
        """The screen and the scrollback, for failure messages."""
        result = self.run("capture-pane", "-p", "-S", "-", "-t", "e2e", check=False)
        return result.stdout or result.stderr

    def show(self, fmt: str) -> str:
        return self.run("display-message", "-p", "-t", "e2e", fmt).stdout.strip()

    def cursor_row(self) -> int:
        # Textual parks the (hidden) terminal cursor at the focused Input's cursor.
        return int(self.show("#{cursor_y}"))

    def dead(self) -> bool:
        return self.show("#{pane_dead}") == "1"

    def buffer(self) -> str | None:
        result = self.run("show-buffer", check=False)
        return result.stdout if result.returncode == 0 else None

    def wait_until(
        self,
        ready: Callable[[str], bool],
        what: str,
        timeout: float = TIMEOUT,
        *,
        running: bool = True,
    ) -> str:
        """Poll the screen until ``ready(screen)``; fail with the screen on timeout.

        While ``running``, kopitui ending early fails at once instead of timing out.
        """
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if ready(screen):
                return screen
            if running and self.dead():
                pytest.fail(f"kopitui ended while waiting for {what}:\n{self.everything()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {timeout:.0f} s. The pane:\n{self.everything()}")
            time.sleep(0.05)

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> str:
        return self.wait_until(lambda screen: text in screen, repr(text), timeout)

    def wait_for_line(self, line: str) -> str:
        return self.wait_until(
            lambda screen: any(row.strip() == line for row in screen.splitlines()),
            f"line {line!r}",
        )

    # -- typing -------------------------------------------------------------------------

    def press(self, *keys: str) -> None:
        self.run("send-keys", "-t", "e2e", *keys)

    def type(self, text: str, shows_as: str | None = None) -> None:
        """Type ``text`` and wait until the screen shows it (``shows_as`` for secrets)."""
        shown = text if shows_as is None else shows_as
        before = self.screen().count(shown)
        self.run("send-keys", "-t", "e2e", "-l", text)
        self.wait_until(lambda screen: screen.count(shown) > before, f"typed {shown!r}")

    def enter_to_next_field(self) -> None:
        """Enter in a form field that moves the focus on: wait until it has moved.

        Keys sent before the move would land in the old field (a password in clear).
        """
        row = self.cursor_row()
        self.press("Enter")
        deadline = time.monotonic() + TIMEOUT
        while self.cursor_row() == row:
            if time.monotonic() > deadline:
                pytest.fail(f"Enter did not move to the next field:\n{self.everything()}")
            time.sleep(0.05)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed; the end-to-end test needs it (apt-get install tmux)")
    home = tmp_path / "home"
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "KOPITUI_HOME": str(tmp_path / "kopitui"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "SHELL": "/bin/sh",
        # No DISPLAY, WAYLAND_DISPLAY, SSH_* or TMUX: the only clipboards are tmux's.
    }
    home.mkdir()
    server = Tmux(f"kopitui-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}", env)
    yield server
    server.kill()


def write_config(kopitui_home: Path, method: str) -> None:
    """The whole default config, with the clipboard method changed."""
    values = {section: dict(table) for section, table in DEFAULTS.items()}
    values["clipboard"]["method"] = method
    kopitui_home.mkdir(parents=True, exist_ok=True)
    (kopitui_home / "config.toml").write_text(tomli_w.dumps(values), encoding="utf-8")


def token_in_box(screen: str) -> str:
    """The header value shown under "Auth-Token header value:", unfolded."""
    lines = screen.splitlines()
    top = next(i for i, line in enumerate(lines) if "Auth-Token header value:" in line)
    bottom = next(i for i in range(top + 1, len(lines)) if "will not be shown again" in lines[i])
    joined = "".join("".join(line.split()) for line in lines[top + 1 : bottom])
    # Stripping white space took out the one space of "Bearer <jwt>".
    assert joined.startswith("Bearer"), f"no Bearer token on screen:\n{screen}"
    return "Bearer " + joined.removeprefix("Bearer")


def signing_key(database: Path, kid: str) -> bytes:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT secret, algorithm FROM signing_keys WHERE kid = ?", (kid,)
        ).fetchone()
    assert row is not None, f"no signing key {kid!r} in {database}"
    assert row[1] == "HS256"
    return bytes(row[0])


@pytest.mark.parametrize(
    ("method", "route"),
    [("auto", "tmux"), ("osc52", "osc52")],
    ids=["auto-uses-tmux-load-buffer", "osc52-through-set-clipboard"],
)
def test_jwt_copied_inside_tmux_is_the_token_shown(
    tmux: Tmux, tmp_path: Path, method: str, route: str
) -> None:
    kopitui = installed_kopitui()
    if not kopitui.exists():
        pytest.skip(f"the kopitui command is not installed at {kopitui} (pip install -e .)")
    kopitui_home = Path(tmux.env["KOPITUI_HOME"])
    if method != "auto":
        write_config(kopitui_home, method)
    started = time.monotonic()
    tmux.start(f'{shlex.quote(str(kopitui))}; echo "{EXIT_MARKER} $?"')

    # First run: create the administrator. Enter moves to the next empty field.
    tmux.wait_for_line("Username")
    tmux.wait_for("Create administrator")
    tmux.type(USERNAME)
    tmux.enter_to_next_field()
    tmux.type(PASSWORD, shows_as="•" * len(PASSWORD))
    tmux.enter_to_next_field()
    tmux.type(PASSWORD, shows_as="•" * len(PASSWORD))
    tmux.press("Enter")

    # Sign in: the name is filled in and the password field has the focus.
    tmux.wait_for_line("Name")
    tmux.wait_for(USERNAME)
    tmux.type(PASSWORD, shows_as="•" * len(PASSWORD))
    tmux.press("Enter")

    tmux.wait_for(f"Hello {USERNAME}")
    tmux.wait_for("JWT Token — Generate")
    tmux.press("j")
    tmux.wait_for("JWT Token Name")
    tmux.wait_for("Expires:")  # the preview of the default 60 minutes
    tmux.type(TOKEN_NAME)
    tmux.press("Enter")

    screen = tmux.wait_until(
        lambda s: "Auth-Token header value:" in s and "will not be shown again" in s, "the token"
    )
    shown = token_in_box(screen)
    assert tmux.buffer() is None, "a tmux paste buffer existed before the copy"

    tmux.press("c")
    screen = tmux.wait_for(ROUTE_NOTICE[route])
    for other_route, notice in ROUTE_NOTICE.items():
        if other_route != route:
            assert notice not in screen, screen
    deadline = time.monotonic() + TIMEOUT
    while (copied := tmux.buffer()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert copied is not None, f"tmux received nothing after the copy:\n{screen}"
    assert copied == shown, f"tmux has {copied!r}, the screen shows {shown!r}:\n{screen}"
    assert copied.startswith("Bearer ")

    # The plain view puts the token alone on a plain screen, where the terminal wraps
    # it: joined back, the line is exactly the token, ready for a mouse selection.
    tmux.press("v")
    plain = tmux.wait_for("then press Enter")
    joined = tmux.run("capture-pane", "-p", "-J", "-t", "e2e").stdout
    assert shown in joined.splitlines(), f"plain view:\n{plain}"
    tmux.press("Enter")
    tmux.wait_for("Auth-Token header value:")

    # ctrl+q quits, and kopitui ends cleanly.
    tmux.press("C-q")
    tmux.wait_until(lambda _: tmux.dead(), "the end of kopitui", running=False)
    # Textual leaves the cursor on the last row, so the marker has scrolled into history.
    ended = re.search(rf"{EXIT_MARKER} (\d+)", tmux.everything())
    assert ended is not None and ended.group(1) == "0", tmux.everything()
    if route == "auto":
        # Quitting took the token back out of kopitui's tmux buffer.
        assert tmux.run("show-buffer", "-b", "kopitui", check=False).returncode != 0
    elapsed = time.monotonic() - started

    # The token verifies with the key kopitui stored, and carries the claims of issue 2.
    token = copied.removeprefix("Bearer ")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        token,
        signing_key(kopitui_home / "kopitui.db", header["kid"]),
        algorithms=["HS256"],
        audience="kopicloud-ad-api",
        issuer="kopitui",
        options={"require": ["exp", "iat", "jti", "sub"]},
    )
    assert claims["unique_name"] == TOKEN_NAME
    assert claims["sub"] == USERNAME
    assert claims["jti"]
    assert claims["exp"] == claims["iat"] + 3600
    assert abs(claims["iat"] - time.time()) < elapsed + 60
