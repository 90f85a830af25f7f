"""The API page and the result screen's snippet copy, driven through the Pilot (issue 4)."""

from __future__ import annotations

from textual.widgets import OptionList, Static

from kopitui.snippets import nginx, render
from kopitui.tui.app import make_app as build_app
from kopitui.tui.screens.api import ApiScreen, SnippetModal
from kopitui.tui.screens.home import HomeScreen
from kopitui.tui.screens.result import ResultScreen

from support import settle, sign_in, type_text

SIZE = (80, 24)
BOB = "bob"
BOB_PASSWORD = "bob's long password"
DEFAULT_URL = "http://127.0.0.1:8750"
OSC52 = "Sent to the terminal clipboard (OSC 52)"


async def open_api(pilot) -> ApiScreen:
    await pilot.press("a")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ApiScreen)
    return pilot.app.screen


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def notes(app) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications]


async def new_jwt(pilot) -> ResultScreen:
    await pilot.press("j")
    await settle(pilot)
    await type_text(pilot, "terraform")
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ResultScreen)
    return pilot.app.screen


async def test_ordinary_user_opens_the_api_page_and_copies_snippets(make_app, service, admin):
    service.add_user(admin, BOB, BOB_PASSWORD, BOB_PASSWORD)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, BOB, BOB_PASSWORD)
        assert not app.user.is_admin
        menu = app.screen.query_one("#menu", OptionList)
        assert "api" in [menu.get_option_at_index(i).id for i in range(menu.option_count)]
        screen = await open_api(pilot)
        assert "http://127.0.0.1:8750/auth" in shown(screen, "#api-url")
        assert "kopitui serve" in shown(screen, "#api-url")
        assert "Auth-Token: Bearer <jwt>" in shown(screen, "#api-header")
        curl = render("curl", None, url=DEFAULT_URL)
        assert shown(screen, "#snippet-curl") == curl

        await pilot.press("3")
        await settle(pilot)
        assert app.clipboard == render("terraform", None, url=DEFAULT_URL)
        title, message = notes(app)[-1]
        assert title == "Terraform snippet"
        assert message.startswith(OSC52)

        await pilot.press("1")
        await settle(pilot)
        assert app.clipboard == curl
        await pilot.press("5")
        await settle(pilot)
        assert app.clipboard == nginx(DEFAULT_URL)
        assert notes(app)[-1][0] == "nginx snippet"

        # The placeholder snippets hold no secret: nothing is queued for clearing.
        assert app.pending_clear is None
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_api_page_shows_the_configured_host_and_port(config, service, admin):
    config = config.replace("server", "host", "::1").replace("server", "port", 9123)
    app = build_app(config, service)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await open_api(pilot)
        assert "http://[::1]:9123/auth" in shown(screen, "#api-url")
        assert shown(screen, "#snippet-powershell") == (
            "Invoke-RestMethod -Uri 'http://[::1]:9123/auth' -Headers @{ 'Auth-Token' = '<token>' }"
        )
        assert 'host  = "http://[::1]:9123"' in shown(screen, "#snippet-terraform")
        assert "proxy_pass http://[::1]:9123/auth;" in shown(screen, "#snippet-nginx")
        await pilot.press("2")
        await settle(pilot)
        assert app.clipboard == render("powershell", None, url="http://[::1]:9123")


async def test_api_page_copy_failure_is_told_truthfully(config, service, admin):
    config = config.replace("clipboard", "method", "none")
    app = build_app(config, service)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_api(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert app.clipboard == ""
        title, message = notes(app)[-1]
        assert title == "env snippet"
        assert message.startswith("Copying is turned off")
        assert [n.severity for n in app._notifications][-1] == "warning"


async def test_api_page_failure_message_names_no_missing_key(config, service, admin):
    """The result screen's hint ("press v for a plain view") means nothing on this page."""
    config = config.replace("clipboard", "method", "system")  # no desktop in the tests
    app = build_app(config, service)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await open_api(pilot)
        await pilot.press("1")
        await settle(pilot)
        message = notes(app)[-1][1]
        assert message.startswith("Could not copy (system: ")
        assert "press v" not in message
        assert message.endswith("Select the snippet on screen instead.")


async def test_result_screen_copies_the_token_in_a_terraform_block(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await new_jwt(pilot)
        header_value = screen.token.header_value
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SnippetModal)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert app.screen is screen
        expected = render("terraform", header_value, url=DEFAULT_URL)
        assert app.clipboard == expected
        assert f'  token = "{header_value}"\n' in app.clipboard
        assert shown(screen, "#copy-status").startswith(OSC52)
        # The clear takes back exactly what was copied.
        assert app.pending_clear is not None
        assert app.pending_clear.text == expected


async def test_escape_in_the_snippet_picker_copies_nothing(make_app, admin):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await new_jwt(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SnippetModal)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert app.clipboard == ""
        assert app.pending_clear is None
        assert shown(screen, "#copy-status") == ""


async def test_a_copied_snippet_is_cleared_from_the_system_clipboard(
    make_app, admin, fake_system_clipboard
):
    fake_system_clipboard.available = True
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        screen = await new_jwt(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("enter")  # curl, the first kind
        await settle(pilot)
        expected = render("curl", screen.token.header_value, url=DEFAULT_URL)
        assert fake_system_clipboard.contents == [expected]
        assert shown(screen, "#copy-status") == "Copied to the system clipboard."
        # Sign-out clears at once: it must recognise the snippet as ours.
        app.action_sign_out()
        await settle(pilot)
        assert fake_system_clipboard.contents == [expected, ""]
