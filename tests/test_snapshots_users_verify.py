"""Snapshots at 80×24 of Users, Add user, Change Password and Verify (issue 3)."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input

from support import ADMIN, ADMIN_PASSWORD, settle, sign_in, type_text

SIZE = (80, 24)
BOB_PASSWORD = "bob's long password"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(autouse=True)
def _fixed(deterministic_secrets):
    """Every snapshot uses the fixed key, kid and jti."""


async def _type_into(pilot, field_id: str, text: str) -> None:
    pilot.app.screen.query_one(f"#{field_id}", Input).focus()
    await pilot.pause()
    await type_text(pilot, text)


async def _verify(pilot, text: str) -> None:
    await pilot.press("v")
    await settle(pilot)
    pilot.app.post_message(events.Paste(text))  # as a terminal's bracketed paste
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


def test_users_screen(snap_compare, make_app, service, admin):
    bob = service.add_user(admin, "bob", BOB_PASSWORD, BOB_PASSWORD)
    service.add_user(admin, "carol", BOB_PASSWORD, BOB_PASSWORD, role="admin")
    service.issue_jwt(bob, "ci", "60")
    service.issue_jwt(bob, "deploy", "0")

    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("u")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_add_user_modal_error(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        await type_text(pilot, "bob")
        await _type_into(pilot, "password", "short")
        await _type_into(pilot, "confirm", "short")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_change_password_error(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("p")
        await settle(pilot)
        await type_text(pilot, ADMIN_PASSWORD)
        await _type_into(pilot, "password", NEW_PASSWORD)
        await _type_into(pilot, "confirm", NEW_PASSWORD + "?")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_verify_valid(snap_compare, make_app, service, admin):
    token = service.issue_jwt(admin, "terraform", "60").header_value

    async def run_before(pilot):
        await sign_in(pilot)
        await _verify(pilot, token)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_verify_stale_basic(snap_compare, make_app, service, admin):
    old_basic = service.issue_basic(ADMIN, ADMIN_PASSWORD).header_value
    service.change_password(admin, ADMIN_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)

    async def run_before(pilot):
        await type_text(pilot, ADMIN)
        await pilot.press("enter")
        await type_text(pilot, NEW_PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        await _verify(pilot, old_basic)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
