"""Clipboard hygiene: what we copied is taken back out after a while, on quit and on
sign-out — only while it still holds our token — and tokens can be masked on screen."""

from __future__ import annotations

import subprocess

import pytest
from textual.widgets import Static

from kopitui import clipboard
from kopitui.tui.screens.result import ResultScreen

from support import ADMIN, ADMIN_PASSWORD, settle, type_text

SIZE = (80, 24)


async def make_jwt(pilot) -> str:
    await type_text(pilot, ADMIN)
    await pilot.press("enter")
    await type_text(pilot, ADMIN_PASSWORD)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("j")
    await type_text(pilot, "ci")
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ResultScreen)
    return pilot.app.screen.token.header_value


def clear_status(app) -> str:
    return str(app.screen.query_one("#clear-status", Static).content)


async def run_out_the_clock(pilot) -> None:
    pilot.app.pending_clear.due = 0
    pilot.app.tick_clear()
    await settle(pilot)


async def test_osc52_copy_is_overwritten_when_the_time_is_up(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        token = await make_jwt(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == token
        assert app.pending_clear.route == "osc52"
        assert clear_status(app) == (
            "The clipboard clears in 45 s (when it still holds this token)."
        )
        await run_out_the_clock(pilot)
        assert app.clipboard == ""
        assert app.pending_clear is None


async def test_system_clipboard_cleared_only_if_it_still_holds_the_token(
    make_app, admin, fake_system_clipboard
):
    fake_system_clipboard.available = True
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        token = await make_jwt(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert fake_system_clipboard.contents == [token]
        await run_out_the_clock(pilot)
        assert fake_system_clipboard.contents == [token, ""]
        # Copy again, then the user copies something else: we leave that alone.
        await pilot.press("c")
        await settle(pilot)
        fake_system_clipboard.contents.append("the user's own text")
        await run_out_the_clock(pilot)
        assert fake_system_clipboard.contents[-1] == "the user's own text"


async def test_quitting_clears_at_once(make_app, admin, fake_system_clipboard):
    fake_system_clipboard.available = True
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        token = await make_jwt(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert fake_system_clipboard.contents == [token, ""]


async def test_signing_out_clears_at_once(make_app, admin, fake_system_clipboard):
    fake_system_clipboard.available = True
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await make_jwt(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("escape", "s")
        await settle(pilot)
        assert fake_system_clipboard.contents[-1] == ""
        assert app.pending_clear is None


async def test_zero_means_never(config, service, admin, fake_system_clipboard):
    from kopitui.tui.app import make_app

    fake_system_clipboard.available = True
    app = make_app(config.replace("clipboard", "clear_after_seconds", 0), service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        token = await make_jwt(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert app.pending_clear is None and clear_status(app) == ""
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert fake_system_clipboard.contents == [token]


async def test_masked_tokens_are_revealed_on_request_and_copied_whole(config, service, admin):
    from kopitui.tui.app import make_app

    app = make_app(config.replace("ui", "mask_tokens", True), service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        token = await make_jwt(pilot)
        shown = str(app.screen.query_one("#token", Static).content)
        assert token.split(".")[1] not in shown
        assert shown.startswith("Bearer ••••") and token[-4:] in shown
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == token
        await pilot.press("r")
        await pilot.pause()
        assert str(app.screen.query_one("#token", Static).content) == token
        await pilot.press("r")
        await pilot.pause()
        assert token.split(".")[1] not in str(app.screen.query_one("#token", Static).content)


async def test_reveal_has_no_key_when_tokens_are_not_masked(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await make_jwt(pilot)
        assert app.screen.check_action("reveal", ()) is False


class FakeTmux:
    def __init__(self, held: str | None) -> None:
        self.held = held
        self.calls: list[list[str]] = []

    def run(self, argv, text, env, *, capture=False):
        self.calls.append(argv)
        if argv[:2] == ["tmux", "show-buffer"]:
            if self.held is None:
                raise clipboard._RouteFailed("no buffer")
            return self.held.encode()
        if argv[:2] == ["tmux", "delete-buffer"]:
            self.held = None
        return b""


@pytest.mark.parametrize(
    ("held", "message", "deleted"),
    [
        ("Bearer abc", "The copied token was cleared from tmux's buffer.", True),
        ("something else", "tmux buffer left alone: it holds something else now.", False),
        (None, "The tmux buffer was already gone.", False),
    ],
)
def test_tmux_buffer_is_deleted_only_when_it_is_ours(monkeypatch, held, message, deleted):
    fake = FakeTmux(held)
    monkeypatch.setattr(clipboard, "_run", fake.run)
    assert clipboard.clear_copied("Bearer abc", "tmux", env={"TMUX": "x"}).message == message
    assert (["tmux", "delete-buffer", "-b", "kopitui"] in fake.calls) is deleted


def test_a_failing_reader_means_not_cleared_never_a_crash(monkeypatch):
    def broken(env):
        raise subprocess.TimeoutExpired("xclip", 2)

    monkeypatch.setattr(clipboard, "read_system", broken)
    outcome = clipboard.clear_copied("t", "system", env={})
    assert outcome.state == "failed" and outcome.message.startswith("The copied token was not")


async def test_a_new_result_page_shows_no_countdown_of_an_earlier_copy(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await make_jwt(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert app.pending_clear is not None
        await pilot.press("escape", "j")
        await type_text(pilot, "second")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ResultScreen)
        app.screen.show_clear_countdown()
        assert clear_status(app) == ""  # nothing from this page was copied


async def test_a_clipboard_that_moved_on_is_left_alone_silently(
    make_app, admin, fake_system_clipboard
):
    fake_system_clipboard.available = True
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await make_jwt(pilot)
        await pilot.press("c")
        await settle(pilot)
        app.clear_notifications()
        fake_system_clipboard.contents.append("the user's own text")
        await run_out_the_clock(pilot)
        assert not app._notifications
