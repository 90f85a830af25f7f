"""Snapshot tests of every screen at 80×24, frozen clock, fixed key and jti.

``scripts/screenshots.py`` copies these snapshots into ``screenshots/`` for the README,
and ``test_readme_screenshots_are_current`` checks that it was run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from support import ADMIN, ADMIN_PASSWORD, settle, sign_in, type_text

SIZE = (80, 24)
SNAPSHOTS = Path(__file__).parent / "__snapshots__"
SCREENSHOTS = Path(__file__).parent.parent / "screenshots"


@pytest.fixture(autouse=True)
def _fixed(deterministic_secrets):
    """Every snapshot uses the fixed key, kid and jti."""


def test_setup_screen(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_setup_screen_errors(snap_compare, make_app):
    async def run_before(pilot):
        await type_text(pilot, "ad:min")
        await pilot.press("enter")
        await type_text(pilot, "short")
        await pilot.press("enter")
        await type_text(pilot, "short")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_login_screen(snap_compare, make_app, admin):
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_login_screen_wrong_password(snap_compare, make_app, admin):
    async def run_before(pilot):
        await type_text(pilot, ADMIN)
        await pilot.press("enter")
        await type_text(pilot, "not the password")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_home_screen(snap_compare, make_app, admin):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=sign_in)


def test_jwt_screen(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "terraform")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_jwt_screen_errors(snap_compare, make_app, service, admin):
    service.issue_jwt(admin, "terraform", 60)

    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "Terraform")
        pilot.app.screen.query_one("#minutes", Input).value = "1h"
        await pilot.pause()
        pilot.app.screen.query_one("#name", Input).focus()
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_basic_screen(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("b")
        await type_text(pilot, "typed secret")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_result_jwt(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "terraform")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_result_basic(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("b")
        await type_text(pilot, ADMIN_PASSWORD)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_command_palette(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_readme_screenshots_are_current():
    """``screenshots/`` must be what the snapshots show: run scripts/screenshots.py."""
    stale = []
    for snapshot in sorted(SNAPSHOTS.glob("test_snapshots*/*.svg")):
        name = snapshot.stem.removeprefix("test_") + ".svg"
        shot = SCREENSHOTS / name
        if not shot.exists() or shot.read_bytes() != snapshot.read_bytes():
            stale.append(name)
    assert list(SNAPSHOTS.glob("test_snapshots*/*.svg"))
    assert not stale, f"out of date in screenshots/ (run scripts/screenshots.py): {stale}"
