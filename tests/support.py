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
