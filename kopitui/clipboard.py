"""Copy text to wherever the user can paste it, and say truthfully where it went.

Routes, tried in this order by ``auto``:

* ``system`` — the desktop clipboard (wl-copy / xclip / xsel on Linux, pyperclip
  elsewhere). Skipped in an SSH session, where it would land on the remote machine.
* ``tmux`` — ``tmux load-buffer -w -``: tmux keeps the text in its paste buffer and,
  where its ``set-clipboard`` allows, forwards it to the outer terminal.
* ``osc52`` — the OSC 52 escape sequence written to the terminal (through Textual's
  ``App.copy_to_clipboard``). Nothing confirms the terminal accepted it, so the outcome
  says "sent", never "copied".

Nothing here raises: every failure becomes a :class:`CopyOutcome` with ``ok=False``.
This module never imports Textual; the OSC 52 writer is passed in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: A copy never waits longer than this for a helper program (case C03).
TIMEOUT_SECONDS = 2.0
#: kopitui's own tmux paste buffer, so clearing it never touches the user's others.
TMUX_BUFFER = "kopitui"


@dataclass(frozen=True)
class CopyOutcome:
    ok: bool
    route: str  # "system", "tmux", "osc52" or "none"
    message: str


class _RouteFailed(Exception):
    pass


def _run(argv: list[str], text: str, env: Mapping[str, str], *, capture: bool = False):
    """Feed ``text`` to a helper program without letting it hold our terminal.

    xclip and wl-copy fork a child that stays alive to serve the selection; giving it
    our stdout/stderr (or waiting on its pipes) hangs the app. So: stdin only, output
    to /dev/null, its own session, and a time limit.
    """
    try:
        proc = subprocess.run(
            argv,
            input=text.encode("utf-8"),
            # Only readers get a pipe: they exit once they have written (xclip -o does
            # not fork), while a writer's forked child would hold the pipe open.
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            timeout=TIMEOUT_SECONDS,
            env=dict(env),
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise _RouteFailed(f"{argv[0]} failed ({exc.__class__.__name__})") from None
    if proc.returncode != 0:
        raise _RouteFailed(f"{argv[0]} exited with status {proc.returncode}")
    return proc.stdout


def _linux_system_command(env: Mapping[str, str]) -> list[str]:
    """The helper for this desktop session, or :class:`_RouteFailed` naming what is missing."""
    path = env.get("PATH", os.defpath)
    if env.get("WAYLAND_DISPLAY"):
        if shutil.which("wl-copy", path=path):
            return ["wl-copy"]
        if not env.get("DISPLAY"):
            raise _RouteFailed("no wl-copy found (install the wl-clipboard package)")
    if env.get("DISPLAY"):
        if shutil.which("xclip", path=path):
            return ["xclip", "-selection", "clipboard", "-in"]
        if shutil.which("xsel", path=path):
            return ["xsel", "--clipboard", "--input"]
        raise _RouteFailed("no xclip or xsel found (install one of them)")
    raise _RouteFailed("no desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set)")


def copy_system(text: str, env: Mapping[str, str]) -> None:
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        _run(_linux_system_command(env), text, env)
        return
    try:
        import pyperclip

        pyperclip.copy(text)
    # pyperclip raises PyperclipException with no mechanism, FileNotFoundError on
    # some setups; neither may escape (case C01).
    except Exception as exc:  # noqa: BLE001
        raise _RouteFailed(f"system clipboard unavailable ({exc.__class__.__name__})") from None


def copy_tmux(text: str, env: Mapping[str, str]) -> None:
    if not env.get("TMUX"):
        raise _RouteFailed("not inside tmux")
    if not shutil.which("tmux", path=env.get("PATH", os.defpath)):
        raise _RouteFailed("tmux not found on PATH")
    _run(["tmux", "load-buffer", "-b", TMUX_BUFFER, "-w", "-"], text, env)


def is_remote(env: Mapping[str, str]) -> bool:
    return bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT"))


MESSAGES = {
    "system": "Copied to the system clipboard.",
    "tmux": "Copied to the tmux paste buffer (prefix + ] pastes it; tmux forwards it "
    "to your terminal's clipboard when set-clipboard allows).",
    "osc52": "Sent to the terminal clipboard (OSC 52) — it arrives only if your terminal "
    "allows OSC 52 clipboard access.",
}


def copy_text(
    text: str,
    method: str = "auto",
    *,
    osc52: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> CopyOutcome:
    """Copy ``text`` by ``method`` (auto/system/tmux/osc52/none); never raises."""
    env = os.environ if env is None else env
    if method == "none":
        return CopyOutcome(
            False,
            "none",
            'Copying is turned off ([clipboard] method = "none"); '
            "select the token on screen instead.",
        )
    if method == "auto":
        routes = ["tmux", "osc52"] if is_remote(env) else ["system", "tmux", "osc52"]
    else:
        routes = [method]
    failures: list[str] = []
    for route in routes:
        try:
            if route == "system":
                copy_system(text, env)
            elif route == "tmux":
                copy_tmux(text, env)
            elif route == "osc52":
                if osc52 is None:
                    raise _RouteFailed("no terminal to send OSC 52 to")
                osc52(text)
            else:
                raise _RouteFailed(f"unknown method {route!r}")
        except _RouteFailed as exc:
            failures.append(f"{route}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - a copy must never crash the app
            failures.append(f"{route}: {exc.__class__.__name__}")
            continue
        return CopyOutcome(True, route, MESSAGES[route])
    reasons = "; ".join(failures)
    return CopyOutcome(
        False,
        "none",
        f"Could not copy ({reasons}). The token stays on screen: press v for a plain view "
        "to select it by hand.",
    )


# -- clearing what we copied -----------------------------------------------------------


def _linux_read_command(env: Mapping[str, str]) -> list[str]:
    path = env.get("PATH", os.defpath)
    if env.get("WAYLAND_DISPLAY") and shutil.which("wl-paste", path=path):
        return ["wl-paste", "--no-newline"]
    if env.get("DISPLAY"):
        if shutil.which("xclip", path=path):
            return ["xclip", "-selection", "clipboard", "-out"]
        if shutil.which("xsel", path=path):
            return ["xsel", "--clipboard", "--output"]
    raise _RouteFailed("no way to read the clipboard back")


def read_system(env: Mapping[str, str]) -> str:
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        out = _run(_linux_read_command(env), "", env, capture=True)
        return out.decode("utf-8", "replace")
    try:
        import pyperclip

        return pyperclip.paste()
    except Exception as exc:  # noqa: BLE001 - same as copy_system
        raise _RouteFailed(f"system clipboard unavailable ({exc.__class__.__name__})") from None


def _read_tmux_buffer(env: Mapping[str, str]) -> str | None:
    try:
        out = _run(["tmux", "show-buffer", "-b", TMUX_BUFFER], "", env, capture=True)
    except _RouteFailed:
        return None  # no such buffer (any more)
    return out.decode("utf-8", "replace")


@dataclass(frozen=True)
class ClearOutcome:
    """``state``: "cleared"; "left" (the clipboard no longer holds our text, so there was
    nothing of ours to clear — say nothing); or "failed"."""

    state: str
    message: str


def clear_copied(
    text: str,
    route: str,
    *,
    osc52: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> ClearOutcome:
    """Take ``text`` back out of the clipboard ``route`` put it in — only if it is still
    there, as password managers do. Says what happened, in words; never raises."""
    env = os.environ if env is None else env
    try:
        if route == "system":
            if read_system(env) != text:
                return ClearOutcome("left", "Clipboard left alone: it holds something else now.")
            copy_system("", env)
            return ClearOutcome("cleared", "The copied token was cleared from the clipboard.")
        if route == "tmux":
            held = _read_tmux_buffer(env)
            if held is None:
                return ClearOutcome("left", "The tmux buffer was already gone.")
            if held != text:
                return ClearOutcome("left", "tmux buffer left alone: it holds something else now.")
            _run(["tmux", "delete-buffer", "-b", TMUX_BUFFER], "", env)
            return ClearOutcome("cleared", "The copied token was cleared from tmux's buffer.")
        if route == "osc52":
            if osc52 is None:
                return ClearOutcome("failed", "Terminal clipboard not cleared: no terminal.")
            # An empty OSC 52 payload clears the selection in terminals that honour it.
            osc52("")
            return ClearOutcome(
                "cleared", "The copied token was overwritten in the terminal clipboard (OSC 52)."
            )
    except _RouteFailed as exc:
        return ClearOutcome("failed", f"The copied token was not cleared ({exc}).")
    except Exception as exc:  # noqa: BLE001 - clearing must never crash the app
        return ClearOutcome(
            "failed", f"The copied token was not cleared ({exc.__class__.__name__})."
        )
    return ClearOutcome("left", "Nothing to clear.")
