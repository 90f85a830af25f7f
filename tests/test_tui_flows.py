"""The user's stories, driven through the Pilot: first run, sign in, tokens, copy, sign out."""

from __future__ import annotations

import base64
import sqlite3

import jwt
import pytest
from textual.widgets import Input, Static

from kopitui.config import resolve_paths
from kopitui.tui.screens.basic import BasicTokenScreen
from kopitui.tui.screens.home import HomeScreen
from kopitui.tui.screens.jwt import JwtTokenScreen
from kopitui.tui.screens.login import LoginScreen
from kopitui.tui.screens.result import ResultScreen
from kopitui.tui.screens.setup import SetupScreen

from support import ADMIN, ADMIN_PASSWORD, FROZEN_NOW, settle, sign_in, type_text

SIZE = (80, 24)


def field_error(screen, name: str) -> str:
    return screen.field(name).error


def token_on_screen(app) -> str:
    return str(app.screen.query_one("#token", Static).content)


def all_widget_text(app) -> str:
    """Everything any widget of any screen still holds: values and rendered content."""
    parts = []
    for screen in app.screen_stack:
        for widget in screen.query("*"):
            if isinstance(widget, Input):
                parts.append(widget.value)
            elif isinstance(widget, Static):
                parts.append(str(widget.content))
    return "\n".join(parts)


async def test_first_run_creates_admin_then_signs_in(make_app, service):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        await pilot.press(*"root", "enter", *ADMIN_PASSWORD, "enter", *ADMIN_PASSWORD, "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        # The name is carried over; the cursor waits in Password.
        assert app.screen.query_one("#username", Input).value == "root"
        assert app.focused.id == "password"
        await pilot.press(*ADMIN_PASSWORD, "enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.sub_title == "Hello root"
    assert service.has_users()
    assert service.store.read("SELECT role FROM users")[0]["role"] == "admin"


async def test_setup_refuses_bad_input_inline(make_app, service):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_text(pilot, "ad:min")
        await pilot.press("enter")
        await type_text(pilot, "short")
        await pilot.press("enter")
        await type_text(pilot, "short")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        assert "cannot contain ':'" in field_error(screen, "username")
        screen.query_one("#username", Input).value = "admin"
        screen.query_one("#confirm", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "at least 12 characters" in field_error(screen, "password")
        screen.query_one("#password", Input).value = ADMIN_PASSWORD
        screen.query_one("#confirm", Input).value = ADMIN_PASSWORD + "x"
        screen.query_one("#confirm", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "do not match" in field_error(screen, "confirm")
        assert app.focused.id == "confirm"
    assert not service.has_users()


async def test_wrong_password_and_wrong_name_get_the_same_message(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, ADMIN, "wrong password!!", expect_home=False)
        wrong_password = field_error(app.screen, "password")
        assert app.screen.query_one("#password", Input).value == ""
        await sign_in(pilot, "nobody", ADMIN_PASSWORD, expect_home=False)
        wrong_name = field_error(app.screen, "password")
        assert isinstance(app.screen, LoginScreen)
        assert wrong_password == wrong_name == "Invalid name or password."
        await sign_in(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_jwt_flow_generates_shows_and_copies(make_app, service, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("j")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, JwtTokenScreen)
        assert app.focused.id == "name"
        assert screen.query_one("#minutes", Input).value == "60"
        preview = str(screen.query_one("#expiry-preview", Static).content)
        assert preview == "Expires: 2023-11-14 23:13 UTC"
        await type_text(pilot, "terraform")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ResultScreen)
        header_value = token_on_screen(app)
        assert header_value.startswith("Bearer ")
        assert "will not be shown again" in str(app.screen.query_one("#warning", Static).content)
        await pilot.press("c")
        await settle(pilot)
        # No desktop, no tmux in the test: OSC 52 through Textual, reported as "sent".
        assert app.clipboard == header_value
        status = str(app.screen.query_one("#copy-status", Static).content)
        assert status.startswith("Sent to the terminal clipboard")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    token = header_value.removeprefix("Bearer ")
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(
        token,
        service.verification_key(kid),
        algorithms=["HS256"],
        audience="kopicloud-ad-api",
        issuer="kopitui",
        options={"verify_iat": False, "verify_exp": False},
    )
    assert claims["unique_name"] == "terraform"
    assert claims["sub"] == ADMIN
    assert claims["exp"] == FROZEN_NOW + 3600
    rows = service.store.read("SELECT name, kind, status, expires_at FROM tokens")
    assert [tuple(r) for r in rows] == [("terraform", "jwt", "active", FROZEN_NOW + 3600)]


async def test_copy_prefers_the_system_clipboard(make_app, admin, fake_system_clipboard):
    fake_system_clipboard.available = True
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "ci")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert fake_system_clipboard.contents == [token_on_screen(app)]
        status = str(app.screen.query_one("#copy-status", Static).content)
        assert status == "Copied to the system clipboard."


async def test_copy_failure_keeps_the_token_on_screen(config, service, admin):
    from kopitui.tui.app import make_app

    config = config.replace("clipboard", "method", "none")
    app = make_app(config, service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "ci")
        await pilot.press("enter")
        await settle(pilot)
        shown = token_on_screen(app)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ResultScreen)
        assert token_on_screen(app) == shown
        assert app.clipboard == ""
        assert "turned off" in str(app.screen.query_one("#copy-status", Static).content)


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("1h", "whole number"),
        ("-5", "negative"),
        ("3600.5", "whole number"),
        ("1e999", "whole number"),
        ("1000000000000", "9999"),
        ("", "Enter the minutes"),
    ],
)
async def test_jwt_minutes_refused_inline(make_app, service, admin, minutes, message):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "ci")
        screen = app.screen
        screen.query_one("#minutes", Input).value = minutes
        await pilot.pause()
        assert message in field_error(screen, "minutes")  # live, as it is typed
        screen.query_one("#name", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert message in field_error(screen, "minutes")
        assert app.focused.id == "minutes"
    assert service.store.read("SELECT count(*) FROM tokens")[0][0] == 0


async def test_jwt_zero_minutes_never_expires(make_app, service, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "forever")
        app.screen.query_one("#minutes", Input).value = "0"
        await pilot.pause()
        assert str(app.screen.query_one("#expiry-preview", Static).content) == ("Expires: never")
        app.screen.query_one("#name", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        token = token_on_screen(app).removeprefix("Bearer ")
    assert "exp" not in jwt.decode(token, options={"verify_signature": False})


async def test_jwt_duplicate_name_refused_case_insensitively(make_app, service, admin):
    service.issue_jwt(admin, "Terraform", 60)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "terraform")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, JwtTokenScreen)
        assert "already have a token named" in field_error(app.screen, "name")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert service.store.read("SELECT count(*) FROM tokens")[0][0] == 1


async def test_basic_flow(make_app, service, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BasicTokenScreen)
        assert app.screen.query_one("#username", Input).value == ADMIN
        assert app.focused.id == "password"
        await type_text(pilot, "wrong password!")
        await pilot.press("enter")
        await settle(pilot)
        assert field_error(app.screen, "password") == "Invalid name or password."
        await type_text(pilot, ADMIN_PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ResultScreen)
        expected = "Basic " + base64.b64encode(f"{ADMIN}:{ADMIN_PASSWORD}".encode()).decode()
        assert token_on_screen(app) == expected
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == expected
    rows = service.store.read("SELECT kind, fingerprint FROM tokens")
    assert [tuple(r) for r in rows] == [("basic", None)]


async def test_basic_refuses_colon_in_username(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("b")
        app.screen.query_one("#username", Input).value = "10:10:5e:00:23:cf"
        await type_text(pilot, "whatever password")
        await pilot.press("enter")
        await settle(pilot)
        assert "cannot contain ':'" in field_error(app.screen, "username")


async def test_sign_out_leaves_no_secret_in_any_widget(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "ci")
        await pilot.press("enter")
        await settle(pilot)
        token = token_on_screen(app)
        await pilot.press("escape", "s")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.user is None
        assert app.sub_title == ""
        held = all_widget_text(app)
        assert token not in held
        assert token.split(".")[-1] not in held
        assert ADMIN_PASSWORD not in held
        assert len(app.screen_stack) == 2


async def test_escape_leaves_a_form_without_saving(make_app, service, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("j")
        await type_text(pilot, "half-typed")
        assert app.focused.id == "name"
        await pilot.press("escape")  # works while the Input has focus (C17)
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert service.store.read("SELECT count(*) FROM tokens")[0][0] == 0


async def test_ctrl_q_quits_from_a_focused_input(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.focused.id == "username"
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_password_field_cannot_be_copied(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("tab")
        await type_text(pilot, "secret password")
        field = app.focused
        assert field.id == "password"
        field.select_all()
        await pilot.press("ctrl+c")
        field.action_copy()
        field.action_cut()
        assert app.clipboard == ""
        assert field.value == "secret password"


async def test_palette_lists_the_pages_when_signed_in(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = [c.title for c in app.get_system_commands(app.screen)]
        assert "JWT Token" not in before
        await sign_in(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"JWT Token", "Basic Token", "Sign Out"} <= set(titles)
        assert {"Theme", "Keys", "Quit"} <= set(titles)
        # No command writes the screen (a token on the Result page) to a file.
        assert "Screenshot" not in before + titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Basic Token")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BasicTokenScreen)


async def test_home_menu_opens_pages_with_enter(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, BasicTokenScreen)


async def test_theme_change_is_saved_and_unknown_theme_falls_back(config, service, admin):
    from kopitui.config import load, save
    from kopitui.tui.app import make_app

    path = resolve_paths().config_file
    bad = config.replace("ui", "theme", "no-such-theme")
    save(bad, path)
    app = make_app(bad, service, config_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        app.theme = "nord"
        await pilot.pause()
    assert load(path).theme == "nord"


def test_database_never_holds_the_token(service, admin):
    issued = service.issue_jwt(admin, "scan", 60)
    database = resolve_paths().database
    conn = sqlite3.connect(database)
    try:
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in conn.execute(f"SELECT * FROM {table}"):  # noqa: S608 - our own tables
                text = " ".join(str(v) for v in row)
                assert issued.header_value.split(".")[-1] not in text
    finally:
        conn.close()
