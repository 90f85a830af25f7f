"""Snapshots at 80×24 of the API page and the result screen's snippet picker (issue 4)."""

from __future__ import annotations

import pytest

from support import settle, sign_in, type_text

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _fixed(deterministic_secrets):
    """Every snapshot uses the fixed key, kid and jti."""


def test_api_page(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_api_page_scrolled_to_nginx(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snippet_picker(snap_compare, make_app, admin):
    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "terraform")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
