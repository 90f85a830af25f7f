"""Typing ahead: keys that arrive together (fast typists, auto-type, a paste of
"name⏎password") land in the field Enter moved to, never in the one it left.

``pilot.press`` waits between keys; here every key is queued at once, as a terminal
delivers a burst of input.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from kopitui.tui.app import make_app
from kopitui.tui.screens.basic import BasicTokenScreen
from kopitui.tui.screens.home import HomeScreen
from kopitui.tui.screens.login import LoginScreen
from kopitui.tui.screens.setup import SetupScreen

from support import ADMIN, ADMIN_PASSWORD, settle, sign_in


def burst(app, text: str) -> None:
    """Queue ``text`` as key events all at once; ``\\n`` is Enter, ``\\t`` Tab."""
    names = {"\n": ("enter", "\r"), "\t": ("tab", "\t"), "/": ("slash", "/"), " ": ("space", " ")}
    for ch in text:
        key, char = names.get(ch, (ch, ch))
        app.post_message(events.Key(key, char))


async def signed_in_on(pilot, key: str, screen_type) -> None:
    """Sign in, then open the page ``key`` leads to."""
    await settle(pilot)
    await sign_in(pilot)
    await pilot.press(key)
    await settle(pilot)
    assert isinstance(pilot.app.screen, screen_type)


def value(app, selector: str) -> str:
    return app.screen.query_one(selector, Input).value


async def test_sign_in_typed_ahead_puts_the_password_in_the_password_field(config, admin, service):
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        burst(app, f"{ADMIN}\nwrongpass")
        await pilot.pause()
        await pilot.pause()
        assert value(app, "#username") == ADMIN, "password keys leaked into the Name field"
        assert value(app, "#password") == "wrongpass"
        burst(app, "\n")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.field("password").error


async def test_sign_in_in_one_burst_signs_in(config, admin, service):
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await settle(pilot)
        burst(app, f"{ADMIN}\n{ADMIN_PASSWORD}\n")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_first_run_typed_ahead_fills_each_field(config, service):
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SetupScreen)
        password = "a long enough password"
        burst(app, f"{ADMIN}\n{password}\n{password}")
        await pilot.pause()
        await pilot.pause()
        assert value(app, "#username") == ADMIN
        assert value(app, "#password") == password
        assert value(app, "#confirm") == password


async def test_basic_token_typed_ahead(config, admin, service):
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await signed_in_on(pilot, "b", BasicTokenScreen)
        username = app.screen.query_one("#username", Input)
        username.value = ""
        username.focus()
        await pilot.pause()
        burst(app, f"{ADMIN}\nsecret")
        await pilot.pause()
        await pilot.pause()
        assert value(app, "#username") == ADMIN
        assert value(app, "#password") == "secret"


async def test_enter_on_empty_fields_ends_by_saying_what_is_missing(config, admin, service):
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await settle(pilot)
        burst(app, "\n")  # an empty Name: on to the (empty) Password
        await pilot.pause()
        assert app.focused is app.screen.query_one("#password", Input)
        burst(app, "\n")  # nothing after Password: submit, which names what is missing
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.field("username").error == "Enter your name."
        assert app.focused is app.screen.query_one("#username", Input)


async def test_tab_typed_ahead_moves_before_the_next_keys(config, admin, service):
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await settle(pilot)
        burst(app, f"{ADMIN}\tsecret words")
        await pilot.pause()
        await pilot.pause()
        assert value(app, "#username") == ADMIN, "password keys leaked into the Name field"
        assert value(app, "#password") == "secret words"


async def test_first_run_filled_with_tabs_in_one_burst(config, service):
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await settle(pilot)
        password = "a long enough password"
        burst(app, f"{ADMIN}\t{password}\t{password}\n")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen), "the administrator was created"


async def test_slash_then_search_text_in_one_burst(config, admin, service):
    from kopitui.tui.screens.tokens import TokenListScreen

    for name in ("alpha", "bravo"):
        service.issue_jwt(admin, name, 60)
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await signed_in_on(pilot, "l", TokenListScreen)
        burst(app, "/bra/vo")  # a / inside the box is text
        await pilot.pause()
        await pilot.pause()
        assert value(app, "#search") == "bra/vo"


async def test_keys_typed_right_behind_the_last_enter_do_not_spoil_the_password(
    config, admin, service
):
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await settle(pilot)
        # The next key a quick hand sends, meant for the home page (j: JWT Token).
        burst(app, f"{ADMIN}\n{ADMIN_PASSWORD}\nj")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen), "signed in with the password as typed"


async def test_editing_keys_keep_their_place_among_typed_characters(config, admin, service):
    # Textual runs a field's own bindings (backspace, ctrl+u…) only after the key has
    # bubbled up, so typed fast they could land after the next character (#6605).
    app = make_app(config, service)
    async with app.run_test() as pilot:
        await settle(pilot)
        burst(app, "adminx")
        app.post_message(events.Key("backspace", None))
        burst(app, "s")
        await pilot.pause()
        await pilot.pause()
        assert value(app, "#username") == "admins"
        app.post_message(events.Key("ctrl+u", None))
        burst(app, "bob")
        await pilot.pause()
        await pilot.pause()
        assert value(app, "#username") == "bob"
