"""Sign-in lockout: after N failures a name is locked for M minutes, across restarts."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from kopitui.config import resolve_paths
from kopitui.service import AccountLocked, AuthenticationError, TokenService
from kopitui.tui.screens.login import LoginScreen

from support import ADMIN, ADMIN_PASSWORD, FROZEN_NOW, settle, type_text


def fail(service, name: str = ADMIN, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError) as info:
            service.authenticate(name, "not the password")
        assert not isinstance(info.value, AccountLocked)


def test_five_failures_lock_the_name_even_for_the_right_password(service, admin):
    fail(service, times=5)
    with pytest.raises(AccountLocked) as info:
        service.authenticate(ADMIN, ADMIN_PASSWORD)
    assert info.value.until == FROZEN_NOW + 15 * 60
    assert "try again at 22:28 UTC (in 15 min)" in str(info.value)
    events = [r["event"] for r in service.store.read("SELECT event FROM audit_log")]
    assert events.count("signin_failed") == 5 and "signin_locked" in events


def test_the_lock_survives_a_restart_and_then_runs_out(service, config, admin):
    fail(service, times=5)
    database = resolve_paths().database
    later = TokenService(config, database, clock=lambda: FROZEN_NOW + 14 * 60)
    try:
        with pytest.raises(AccountLocked) as info:
            later.authenticate(ADMIN, ADMIN_PASSWORD)
        assert "(in 1 min)" in str(info.value)
    finally:
        later.close()
    after = TokenService(config, database, clock=lambda: FROZEN_NOW + 15 * 60)
    try:
        assert after.authenticate(ADMIN, ADMIN_PASSWORD).username == ADMIN
    finally:
        after.close()


def test_a_success_clears_the_count(service, admin):
    fail(service, times=4)
    service.authenticate(ADMIN, ADMIN_PASSWORD)
    fail(service, times=4)  # would have been the 8th: still not locked
    service.authenticate(ADMIN, ADMIN_PASSWORD)


def test_old_failures_fall_out_of_the_window(service, admin):
    fail(service, times=4)
    service._clock = lambda: FROZEN_NOW + 16 * 60
    fail(service, times=4)
    assert service.authenticate(ADMIN, ADMIN_PASSWORD)


def test_unknown_names_lock_the_same_way_so_a_lock_reveals_nothing(service, admin):
    fail(service, "nobody", times=5)
    with pytest.raises(AccountLocked) as unknown:
        service.authenticate("nobody", "whatever")
    fail(service, times=5)
    with pytest.raises(AccountLocked) as known:
        service.authenticate(ADMIN, "whatever")
    assert str(unknown.value) == str(known.value)


def test_names_are_locked_case_and_form_insensitively(service, admin):
    fail(service, "ADMIN", times=3)
    fail(service, " admin ", times=2)
    with pytest.raises(AccountLocked):
        service.authenticate(ADMIN, ADMIN_PASSWORD)


def test_basic_token_failures_count_too(service, admin):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            service.issue_basic(ADMIN, "wrong password!")
    with pytest.raises(AccountLocked):
        service.issue_basic(ADMIN, ADMIN_PASSWORD)


def test_configured_attempts_and_minutes(config, tmp_path):
    strict = config.replace("security", "lockout_attempts", 2).replace(
        "security", "lockout_minutes", 60
    )
    service = TokenService(strict, tmp_path / "x.db", clock=lambda: FROZEN_NOW)
    try:
        service.create_first_admin(ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD)
        fail(service, times=2)
        with pytest.raises(AccountLocked) as info:
            service.authenticate(ADMIN, ADMIN_PASSWORD)
        assert info.value.until == FROZEN_NOW + 3600
    finally:
        service.close()


async def test_the_sign_in_screen_says_when_to_retry(make_app, service, admin):
    fail(service, times=5)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await type_text(pilot, ADMIN)
        await pilot.press("enter")
        await type_text(pilot, ADMIN_PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        message = app.screen.field("password").error
        assert message.startswith("Too many failed sign-ins for this name: try again at 22:28")
        assert app.screen.query_one("#password", Input).value == ""
