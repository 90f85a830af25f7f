"""The App: screen wiring, bindings, palette commands and theme. Logic lives in the service."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .. import clipboard
from .. import config as config_module
from ..config import Config
from ..service import IssuedToken, TokenService, User
from ..service.errors import ConfigError
from .pages import page, visible_pages
from .screens.home import HomeScreen
from .screens.login import LoginScreen
from .screens.result import ResultScreen
from .screens.setup import SetupScreen


class KopituiApp(App):
    CSS_PATH = "kopitui.tcss"
    TITLE = "kopitui"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
    ]

    def __init__(
        self,
        config: Config,
        service: TokenService,
        *,
        config_path: Path | None = None,
        clipboard_env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.service = service
        self.config_path = config_path
        self.clipboard_env = clipboard_env
        self.user: User | None = None

    # -- start-up and sign-in -----------------------------------------------------------

    def on_mount(self) -> None:
        self.apply_theme(self.config.theme)
        self.theme_changed_signal.subscribe(self, self.save_theme)
        if self.service.has_users():
            self.push_screen(LoginScreen())
        else:
            self.push_screen(SetupScreen())

    def after_setup(self, username: str) -> None:
        self.switch_screen(LoginScreen(username))
        if username:
            self.notify("Administrator created. Sign in to continue.", markup=False)

    def signed_in(self, user: User) -> None:
        self.user = user
        self.sub_title = f"Hello {user.username}"
        self.switch_screen(HomeScreen())

    def action_sign_out(self) -> None:
        if self.user is None:
            return
        self.service.sign_out(self.user)
        self.user = None
        self.sub_title = ""
        # Drop every page (and with them every token and password in their widgets).
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen())

    # -- pages --------------------------------------------------------------------------

    def action_open_page(self, page_id: str) -> None:
        target = page(page_id)
        if target is None or target not in visible_pages(self.user):
            return
        # Back to home first, so pages never stack on top of each other.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(target.make_screen())

    def show_result(self, token: IssuedToken) -> None:
        # Replace the form: its fields are gone, and escape from the result goes home.
        self.switch_screen(ResultScreen(token))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if self.user is not None:
            for target in visible_pages(self.user):
                yield SystemCommand(
                    target.label, target.help, lambda p=target.id: self.action_open_page(p)
                )
            yield SystemCommand("Sign Out", "Sign out and return to Sign in", self.action_sign_out)
        yield from super().get_system_commands(screen)

    # -- clipboard ----------------------------------------------------------------------

    def copy_token(self, text: str) -> clipboard.CopyOutcome:
        """Copy by the configured method. Runs in a worker thread; never raises."""

        def osc52(value: str) -> None:
            self.call_from_thread(self.copy_to_clipboard, value)

        return clipboard.copy_text(
            text,
            self.config.clipboard_method,
            osc52=osc52,
            env=self.clipboard_env if self.clipboard_env is not None else os.environ,
        )

    # -- theme --------------------------------------------------------------------------

    def apply_theme(self, name: str) -> None:
        if name in self.available_themes:
            self.theme = name
        else:
            self.notify(
                f"Unknown theme {name!r} in the config; using textual-dark.",
                severity="warning",
                markup=False,
            )

    def save_theme(self, theme) -> None:
        if self.config_path is None or theme.name == self.config.theme:
            return
        try:
            new_config = self.config.replace("ui", "theme", theme.name)
            config_module.save(new_config, self.config_path)
        except (ConfigError, OSError, TypeError) as exc:
            self.notify(f"Theme not saved: {exc}", severity="warning", markup=False)
            return
        self.config = new_config


def make_app(
    config: Config,
    service: TokenService,
    *,
    config_path: Path | None = None,
    clipboard_env: Mapping[str, str] | None = None,
) -> KopituiApp:
    """The one factory: ``__main__`` and the tests build the App the same way."""
    return KopituiApp(config, service, config_path=config_path, clipboard_env=clipboard_env)
