"""Users, Change Password and Verify, driven through the Pilot (issue 3)."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import DataTable, Input, Select, Static

from kopitui.service.errors import AuthenticationError
from kopitui.tui.screens.home import HomeScreen
from kopitui.tui.screens.password import ChangePasswordScreen
from kopitui.tui.screens.users import AddUserModal, ResetPasswordModal, UsersScreen
from kopitui.tui.screens.verify import TokenBox, VerifyScreen
from kopitui.tui.widgets.confirm import ConfirmModal

from support import ADMIN, ADMIN_PASSWORD, FROZEN_NOW, settle, sign_in, type_text

SIZE = (80, 24)
BOB = "bob"
BOB_PASSWORD = "bob's long password"
NEW_PASSWORD = "a brand new passphrase"
#: Case C11, byte for byte.
NONE_TOKEN = (
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJjaS1ib3QiLCJqdGkiOiJjaS10b2tlbiIsImlhdCI6MTcwMDAwMDAwMH0."
)


async def open_page(pilot, key: str, screen_type):
    await pilot.press(key)
    await settle(pilot)
    assert isinstance(pilot.app.screen, screen_type)
    return pilot.app.screen


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


def table_rows(screen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def select_user(pilot, username: str) -> None:
    table = pilot.app.screen.query_one(DataTable)
    names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    table.move_cursor(row=names.index(username))
    await pilot.pause()


def field_error(screen, name: str) -> str:
    return screen.field(name).error


async def fill(pilot, values: dict[str, str]) -> None:
    """Type into the modal's or page's inputs by id, then submit from the last one."""
    screen = pilot.app.screen
    for name, value in values.items():
        field_input = screen.query_one(f"#{name}", Input)
        field_input.value = ""
        field_input.focus()
        await pilot.pause()
        await type_text(pilot, value)
    await pilot.press("enter")
    await settle(pilot)


def user_count(service) -> int:
    return service.store.read("SELECT count(*) FROM users WHERE removed_at IS NULL")[0][0]


# -- Users: add -----------------------------------------------------------------------------


async def test_admin_adds_a_user_and_they_cansign_in(make_app, service, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await open_page(pilot, "u", UsersScreen)
        assert [row[0] for row in table_rows(screen)] == [ADMIN]
        assert table_rows(screen)[0] == [
            ADMIN,
            "admin",
            "2023-11-14 22:13",
            "2023-11-14 22:13",
            "0",
        ]
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddUserModal)
        assert app.focused.id == "username"
        assert app.screen.query_one("#role", Select).value == "user"
        await fill(pilot, {"username": BOB, "password": BOB_PASSWORD, "confirm": BOB_PASSWORD})
        assert app.screen is screen  # the modal closed and the list was read again
        assert [row[:2] for row in table_rows(screen)] == [[ADMIN, "admin"], [BOB, "user"]]
        assert screen.selected.username == BOB
        assert "Added user 'bob'." in notifications(app)
    bob = service.authenticate(BOB, BOB_PASSWORD)
    assert (bob.username, bob.role) == (BOB, "user")


async def test_admin_adds_an_administrator_with_the_role_select(make_app, service, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_page(pilot, "u", UsersScreen)
        await pilot.press("a")
        await pilot.pause()
        await type_text(pilot, "carol")
        await pilot.press("tab", "enter")  # open the Select, pick "admin" with the keys
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen.query_one("#role", Select).value == "admin"
        await fill(pilot, {"password": BOB_PASSWORD, "confirm": BOB_PASSWORD})
        assert isinstance(app.screen, UsersScreen)
        assert "Added admin 'carol'." in notifications(app)
    assert service.get_user("carol").role == "admin"


async def test_add_user_refuses_bad_input_inline_and_escape_saves_nothing(make_app, service, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_page(pilot, "u", UsersScreen)
        await pilot.press("a")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, AddUserModal)
        # Too short.
        await fill(pilot, {"username": BOB, "password": "short", "confirm": "short"})
        assert app.screen is modal
        assert field_error(modal, "password") == "The password needs at least 12 characters."
        assert app.focused.id == "password"
        # Not confirmed.
        await fill(pilot, {"password": BOB_PASSWORD, "confirm": BOB_PASSWORD + "!"})
        assert field_error(modal, "confirm") == "The two passwords do not match."
        assert field_error(modal, "password") == ""
        assert app.focused.id == "confirm"
        # Taken (names compare case-insensitively).
        await fill(pilot, {"username": "ADMIN", "password": BOB_PASSWORD, "confirm": BOB_PASSWORD})
        assert app.screen is modal
        assert field_error(modal, "username") == "A user named 'ADMIN' already exists."
        assert app.focused.id == "username"
        secrets = [modal.query_one("#password", Input), modal.query_one("#confirm", Input)]
        await pilot.press("escape")  # from inside the focused Input (C17)
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert [row[0] for row in table_rows(app.screen)] == [ADMIN]
        assert [s.value for s in secrets] == ["", ""]  # the typed passwords are gone
    assert user_count(service) == 1


# -- Users: reset, remove -------------------------------------------------------------------


async def test_admin_resets_a_password_and_the_old_basic_token_goes_stale(make_app, service, admin):
    service.add_user(admin, BOB, BOB_PASSWORD, BOB_PASSWORD)
    basic = service.issue_basic(BOB, BOB_PASSWORD).header_value
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_page(pilot, "u", UsersScreen)
        await select_user(pilot, BOB)
        await pilot.press("r")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ResetPasswordModal)
        assert "Reset the password of 'bob'" in str(modal.query_one(".form-title", Static).content)
        await fill(pilot, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "?"})
        assert field_error(modal, "confirm") == "The two passwords do not match."
        await fill(pilot, {"confirm": NEW_PASSWORD})
        assert isinstance(app.screen, UsersScreen)
        assert app.screen.selected.username == BOB  # the cursor stays on bob
        assert any("Password of 'bob' reset" in m for m in notifications(app))
    assert service.authenticate(BOB, NEW_PASSWORD).username == BOB
    with pytest.raises(AuthenticationError):
        service.authenticate(BOB, BOB_PASSWORD)
    assert service.verify(basic).code == "stale"


async def test_reset_password_escape_changes_nothing(make_app, service, admin):
    service.add_user(admin, BOB, BOB_PASSWORD, BOB_PASSWORD)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_page(pilot, "u", UsersScreen)
        await select_user(pilot, BOB)
        await pilot.press("r")
        await pilot.pause()
        await type_text(pilot, NEW_PASSWORD)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    assert service.authenticate(BOB, BOB_PASSWORD).username == BOB


async def test_remove_user_cancel_then_confirm_disables_their_tokens(make_app, service, admin):
    bob = service.add_user(admin, BOB, BOB_PASSWORD, BOB_PASSWORD)
    jwts = [service.issue_jwt(bob, name, "0").header_value for name in ("ci", "deploy")]
    basic = service.issue_basic(BOB, BOB_PASSWORD).header_value
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await open_page(pilot, "u", UsersScreen)
        assert table_rows(screen)[1] == [BOB, "user", "2023-11-14 22:13", "2023-11-14 22:13", "3"]
        jwts.append(service.issue_jwt(bob, "made-meanwhile", "0").header_value)  # from the CLI
        await select_user(pilot, BOB)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        message = str(app.screen.query_one("#confirm-message", Static).content)
        assert message == "Remove user 'bob'? Their tokens will be disabled (active now: 4)."
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert [row[0] for row in table_rows(screen)] == [ADMIN, BOB]
        assert service.verify(jwts[0]).code == "valid"
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert [row[0] for row in table_rows(screen)] == [ADMIN]
        assert "Removed 'bob'; 4 tokens disabled" in notifications(app)
    assert service.get_user(BOB) is None
    statuses = service.store.read("SELECT status FROM tokens WHERE user_id = ?", (bob.id,))
    assert [r["status"] for r in statuses] == ["disabled"] * 4
    for token in jwts:
        assert service.verify(token).code == "disabled"
    assert not service.verify(basic).valid  # the name is gone: "unknown"


async def test_admin_cannot_remove_themself(make_app, service, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await open_page(pilot, "u", UsersScreen)
        await pilot.press("x")
        await settle(pilot)
        # Refused at once: no question whose answer cannot matter.
        assert app.screen is screen
        assert "You cannot remove yourself." in notifications(app)
        assert [row[0] for row in table_rows(screen)] == [ADMIN]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert service.get_user(ADMIN) is not None


# -- permissions ----------------------------------------------------------------------------


async def test_ordinary_user_has_no_users_page(make_app, service, admin):
    service.add_user(admin, BOB, BOB_PASSWORD, BOB_PASSWORD)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, BOB, BOB_PASSWORD)
        home = app.screen
        menu_ids = [option.id for option in home.query_one("#menu").options]
        assert "users" not in menu_ids
        assert {"verify", "password"} <= set(menu_ids)
        # No key in the footer. (HomeScreen.check_action must hide it; Textual asks the
        # action's namespace, the App, about "app.open_page".)
        assert "u" not in home.active_bindings
        assert {"v", "p"} <= set(home.active_bindings)
        palette = [c.title for c in app.get_system_commands(home)]
        assert "Users" not in palette and "Verify" in palette
        await pilot.press("u")
        await pilot.pause()
        assert app.screen is home
        app.action_open_page("users")
        await pilot.pause()
        assert app.screen is home
        # The pages everyone has do open.
        await open_page(pilot, "p", ChangePasswordScreen)
        await pilot.press("escape")
        await open_page(pilot, "v", VerifyScreen)


async def test_administrator_has_the_users_page(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        menu_ids = [option.id for option in app.screen.query_one("#menu").options]
        assert "users" in menu_ids
        assert "u" in app.screen.active_bindings
        assert "Users" in [c.title for c in app.get_system_commands(app.screen)]


# -- Change Password ------------------------------------------------------------------------


async def test_change_password_errors_then_success_makes_old_basic_stale(make_app, service, admin):
    old_basic = service.issue_basic(ADMIN, ADMIN_PASSWORD).header_value
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await open_page(pilot, "p", ChangePasswordScreen)
        assert app.focused.id == "current"
        # Nothing typed (enter in an empty field moves on; the button submits).
        await pilot.press("enter")
        assert app.focused.id == "password"
        await pilot.click("#change")
        await settle(pilot)
        assert field_error(screen, "current") == "Enter your current password."
        # Wrong current password: refused, and the field emptied.
        await fill(
            pilot,
            {"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert app.screen is screen
        assert field_error(screen, "current") == "The current password is not right."
        assert screen.query_one("#current", Input).value == ""
        assert app.focused.id == "current"
        # Not confirmed.
        await fill(
            pilot,
            {"current": ADMIN_PASSWORD, "password": NEW_PASSWORD, "confirm": "something else!"},
        )
        assert field_error(screen, "confirm") == "The two passwords do not match."
        assert field_error(screen, "current") == ""
        # Right.
        secrets = [screen.query_one(f"#{n}", Input) for n in ("current", "password", "confirm")]
        await fill(pilot, {"confirm": NEW_PASSWORD})
        assert isinstance(app.screen, HomeScreen)
        assert (
            "Password changed. Basic tokens made with the old password are now stale — "
            "generate a new one in Basic Token."
        ) in notifications(app)
        assert [s.value for s in secrets] == ["", "", ""]
        # The Basic token made before the change: stale, in words, in red.
        verify = await open_page(pilot, "v", VerifyScreen)
        await paste(pilot, old_basic)
        await pilot.press("enter")
        await settle(pilot)
        assert verify.verdict.code == "stale"
        text = verdict_on_screen(verify)
        assert text.startswith("✘ Stale Basic token")
        assert "Stale: the password of 'admin' changed on 2023-11-14 22:13:20 UTC" in text
        assert verify.query_one("#verdict").has_class("-invalid")
    assert service.authenticate(ADMIN, NEW_PASSWORD).username == ADMIN
    with pytest.raises(AuthenticationError):
        service.authenticate(ADMIN, ADMIN_PASSWORD)


async def test_change_password_escape_changes_nothing(make_app, service, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await open_page(pilot, "p", ChangePasswordScreen)
        await type_text(pilot, ADMIN_PASSWORD)
        current = screen.query_one("#current", Input)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert current.value == ""
    assert service.authenticate(ADMIN, ADMIN_PASSWORD).username == ADMIN


# -- Verify ---------------------------------------------------------------------------------


async def paste(pilot, text: str) -> None:
    """What a terminal's bracketed paste delivers: the app forwards it to the focus."""
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


def verdict_on_screen(screen) -> str:
    return str(screen.query_one("#verdict", Static).render())


def wrapped(text: str, width: int = 40) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def _jwt(service, admin, **_):
    return service.issue_jwt(admin, "ci", "0").header_value


def _hourly(service, admin, **_):
    return service.issue_jwt(admin, "ci", "60").header_value


def _disabled(service, admin, **_):
    issued = service.issue_jwt(admin, "ci", "0")
    token_id = service.find_tokens(admin, "ci")[0]
    service.set_token_enabled(admin, token_id, False)
    return issued.header_value


def _deleted(service, admin, **_):
    issued = service.issue_jwt(admin, "ci", "0")
    service.delete_token(admin, service.find_tokens(admin, "ci")[0])
    return issued.header_value


def _expired(service, admin, monkeypatch):
    issued = service.issue_jwt(admin, "ci", "60")
    monkeypatch.setattr(service, "_clock", lambda: FROZEN_NOW + 7200)
    return issued.header_value


VERIFY_CASES = {
    # id: (make the text to paste, verdict code, words expected on screen)
    "bare_jwt": (
        lambda **kw: _jwt(**kw).removeprefix("Bearer "),
        "valid",
        ["✔ Valid", "Type:       JWT", "User:       admin", "Token name: ci"],
    ),
    "bearer": (_jwt, "valid", ["Expires:    never"]),
    "bearer_with_expiry": (_hourly, "valid", ["Expires:    2023-11-14 23:13 UTC"]),
    "auth_token_header_line": (
        lambda **kw: "Auth-Token: " + _jwt(**kw),
        "valid",
        ["✔ Valid", "Reason:     Valid: token 'ci' of 'admin', never expires."],
    ),
    "wrapped_over_lines": (lambda **kw: wrapped(_jwt(**kw)), "valid", ["✔ Valid"]),
    "basic": (
        lambda service, **_: service.issue_basic(ADMIN, ADMIN_PASSWORD).header_value,
        "valid",
        ["Type:       Basic", "Expires:    never"],
    ),
    "expired": (_expired, "expired", ["✘ Expired", "Expired at 2023-11-14 23:13:20 UTC."]),
    "disabled": (_disabled, "disabled", ["✘ Disabled", "Token name: ci", "Expires:    —"]),
    "deleted": (_deleted, "deleted", ["✘ Deleted", "Deleted: the token was deleted."]),
    "alg_none": (
        lambda **_: NONE_TOKEN,
        "algorithm_not_allowed",
        ["✘ Algorithm not allowed", "the token says 'none'; only HS256", "User:       —"],
    ),
    "garbage": (
        lambda **_: "hello, is this a token?",
        "malformed",
        ["✘ Malformed", "Type:       —"],
    ),
}


@pytest.mark.parametrize("case", VERIFY_CASES)
async def test_verify_page_verdicts(make_app, service, admin, monkeypatch, case):
    make_text, code, words = VERIFY_CASES[case]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await open_page(pilot, "v", VerifyScreen)
        assert app.focused is screen.query_one(TokenBox)
        text = make_text(service=service, admin=admin, monkeypatch=monkeypatch)
        await paste(pilot, text)
        assert screen.query_one(TokenBox).text == text  # pasted as is, newlines and all
        await pilot.press("enter")  # checks; inserts no newline
        await settle(pilot)
        assert screen.query_one(TokenBox).text == text
        assert screen.verdict is not None and screen.verdict.code == code
        shown = verdict_on_screen(screen)
        for word in words:
            assert word in shown
        verdict = screen.query_one("#verdict")
        assert verdict.has_class("-valid") is (code == "valid")
        assert verdict.has_class("-invalid") is (code != "valid")
        # The token is nowhere but the box: not in the verdict, not in a notification.
        credential = text.split()[-1]
        assert credential not in shown
        assert not any(credential in m for m in notifications(app))


async def test_verify_keys_buttons_clear_and_leaving(make_app, service, admin):
    token = service.issue_jwt(admin, "ci", "0").header_value
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await open_page(pilot, "v", VerifyScreen)
        box = screen.query_one(TokenBox)
        # Nothing pasted: a hint, and the service is not asked.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.verdict is None
        assert verdict_on_screen(screen) == "Paste a token to verify."
        await paste(pilot, token)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.verdict.code == "valid"
        # The box cannot be copied or cut from.
        box.select_all()
        await pilot.press("ctrl+c")
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert app.clipboard == ""
        assert box.text == token
        # ctrl+l clears the box and the verdict.
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert box.text == ""
        assert screen.verdict is None
        assert verdict_on_screen(screen) == ""
        await pilot.press("ctrl+z")  # and the undo history holds nothing to bring back
        await pilot.pause()
        assert box.text == ""
        # The Verify button.
        await paste(pilot, token)
        await pilot.click("#verify")
        await settle(pilot)
        assert screen.verdict.code == "valid"
        # Leaving empties the box.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert box.text == ""
        assert box.history.undo_stack == []
        assert not any(token.split(".")[-1] in m for m in notifications(app))
