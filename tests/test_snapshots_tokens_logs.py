"""Snapshots at 80×24 of the Token List, its delete confirmation, and Logs.

Frozen clock and fixed key/jti (``deterministic_secrets``), so fingerprints and dates
do not drift.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select

from kopitui.service.errors import AuthenticationError

from support import FROZEN_NOW, settle, sign_in

SIZE = (80, 24)
DAY = 86400


@pytest.fixture(autouse=True)
def _fixed(deterministic_secrets):
    """Every snapshot uses the fixed key, kid and jti."""


@pytest.fixture
def tokens(service, admin):
    """A few tokens of each status, of two users."""
    bob = service.add_user(admin, "bob", "bob's long password", role="user")
    service._clock = lambda: FROZEN_NOW - 3 * DAY
    service.issue_jwt(admin, "old-ci", 60)  # long expired
    service._clock = lambda: FROZEN_NOW - 2 * DAY
    service.issue_jwt(bob, "bob-deploy", 0)
    service.issue_basic("bob", "bob's long password")
    service.change_password(bob, "bob's long password", "bob's new password")  # Basic: Stale
    service._clock = lambda: FROZEN_NOW - DAY
    laptop = service.issue_jwt(admin, "laptop", 60 * 24 * 30)
    service._clock = lambda: FROZEN_NOW
    service.issue_jwt(admin, "terraform", 60)
    service.issue_jwt(admin, "nightly-backup", 0)
    (record,) = [r for r in service.list_tokens(admin).rows if r.jti == laptop.jti]
    service.set_token_enabled(admin, record.id, False)


def test_token_list(snap_compare, make_app, tokens):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("l")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_token_list_delete_confirmation(snap_compare, make_app, tokens):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("down", "x")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_logs(snap_compare, make_app, service, tokens):
    with pytest.raises(AuthenticationError):
        service.authenticate("\x1b[31mevil[red]x", "guessed password")

    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("g")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_logs_custom_range_error(snap_compare, make_app, service, tokens):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("g")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#preset", Select).value = "custom"
        await settle(pilot)
        screen.query_one("#from", Input).value = "2023-11-31"
        await pilot.pause(screen.SEARCH_DELAY + 0.1)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
