"""Constants and helpers the test modules share (fixtures live in conftest.py)."""

from __future__ import annotations

FROZEN_NOW = 1700000000  # 2023-11-14 22:13:20 UTC
ADMIN = "admin"
ADMIN_PASSWORD = "correct horse battery"


async def settle(pilot) -> None:
    """Wait for worker threads (hashing, database writes, copy) and the UI to catch up."""
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def type_text(pilot, text: str) -> None:
    """Put ``text`` into the focused Input as typing would, without a key event per character.

    Key-by-key typing is exercised in the first-run test; elsewhere it only costs time.
    """
    pilot.app.focused.insert_text_at_cursor(text)
    await pilot.pause()


async def sign_in(
    pilot, username: str = ADMIN, password: str = ADMIN_PASSWORD, *, expect_home: bool = True
) -> None:
    """Fill in Sign in (from an empty Name) and submit it, as a person would."""
    from textual.widgets import Input

    from kopitui.tui.screens.home import HomeScreen
    from kopitui.tui.screens.login import LoginScreen

    app = pilot.app
    await pilot.pause()
    assert isinstance(app.screen, LoginScreen)
    name = app.screen.query_one("#username", Input)
    name.value = ""
    name.focus()
    await pilot.pause()
    await type_text(pilot, username)
    await pilot.press("enter")
    await type_text(pilot, password)
    await pilot.press("enter")
    await settle(pilot)
    if expect_home:
        assert isinstance(app.screen, HomeScreen)
