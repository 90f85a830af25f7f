"""The App: screen wiring, bindings, palette commands and theme. Logic lives in the service."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

if TYPE_CHECKING:
    from ..clipboard import CopyOutcome

from .. import config as config_module
from ..config import Config
from ..service import IssuedToken, TokenService, User
from ..service.errors import ConfigError
from .screens.login import LoginScreen

# Screens and the page list past Sign in are imported where first needed, which keeps
# them (and OptionList) off the start-up path.


@dataclass
class PendingClear:
    """A token we put in a clipboard, to take back out at ``due`` (monotonic seconds)."""

    text: str
    route: str
    due: float


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
        on_first_screen: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.service = service
        self.config_path = config_path
        self.clipboard_env = clipboard_env
        self.on_first_screen = on_first_screen
        self.user: User | None = None
        self.pending_clear: PendingClear | None = None
        self._clear_timer = None

    # -- start-up and sign-in -----------------------------------------------------------

    def on_mount(self) -> None:
        self.apply_theme(self.config.theme)
        self.theme_changed_signal.subscribe(self, self.save_theme)
        if self.service.has_users():
            first: Screen = LoginScreen()
        else:
            from .screens.setup import SetupScreen

            first = SetupScreen()
        self.push_screen(first)
        if self.on_first_screen is not None:
            # Once the first page is mounted and painted: the start-up is over.
            first.call_after_refresh(self.on_first_screen)

    def after_setup(self, username: str) -> None:
        self.switch_screen(LoginScreen(username))
        if username:
            self.notify("Administrator created. Sign in to continue.", markup=False)

    def signed_in(self, user: User) -> None:
        self.user = user
        self.sub_title = f"Hello {user.username}"
        from .screens.home import HomeScreen

        self.switch_screen(HomeScreen())

    def action_sign_out(self) -> None:
        if self.user is None:
            return
        self.clear_clipboard_now()
        self.clear_notifications()  # "Copied to …" is no longer true, and not theirs
        self.service.sign_out(self.user)
        self.user = None
        self.sub_title = ""
        # Drop every page (and with them every token and password in their widgets).
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen())

    # -- pages --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # Pages the user may not open have no key in the footer (the App owns the action).
        if action == "open_page" and parameters:
            from .pages import page, visible_pages

            target = page(parameters[0])
            return target is not None and target in visible_pages(self.user)
        return True

    def action_open_page(self, page_id: str) -> None:
        from .pages import page, visible_pages

        target = page(page_id)
        if target is None or target not in visible_pages(self.user):
            return
        # Back to home first, so pages never stack on top of each other.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(target.make_screen())

    def show_result(self, token: IssuedToken) -> None:
        # Replace the form: its fields are gone, and escape from the result goes home.
        from .screens.result import ResultScreen

        self.switch_screen(ResultScreen(token))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if self.user is not None:
            from .pages import visible_pages

            for target in visible_pages(self.user):
                yield SystemCommand(
                    target.label, target.help, lambda p=target.id: self.action_open_page(p)
                )
            yield SystemCommand("Sign Out", "Sign out and return to Sign in", self.action_sign_out)
        for command in super().get_system_commands(screen):
            # Textual's Screenshot writes the screen, a token on the Result page
            # included, to a file in plain text: not something a token portal offers.
            if command.title != "Screenshot":
                yield command

    # -- clipboard ----------------------------------------------------------------------

    def copy_token(self, text: str) -> CopyOutcome:
        """Copy by the configured method. Runs in a worker thread; never raises."""

        def osc52(value: str) -> None:
            self.call_from_thread(self.copy_to_clipboard, value)

        from .. import clipboard  # subprocess and shutil: not at start-up

        return clipboard.copy_text(
            text, self.config.clipboard_method, osc52=osc52, env=self._clipboard_env()
        )

    def schedule_clear(self, text: str, route: str) -> None:
        """Clear what was copied after ``[clipboard] clear_after_seconds`` (0 = never)."""
        seconds = self.config.clear_after_seconds
        if not seconds or route not in ("system", "tmux", "osc52"):
            return
        self.pending_clear = PendingClear(text, route, time.monotonic() + seconds)
        if self._clear_timer is None:
            self._clear_timer = self.set_interval(1, self.tick_clear)

    def clear_seconds_left(self) -> int | None:
        if self.pending_clear is None:
            return None
        return max(0, round(self.pending_clear.due - time.monotonic()))

    def tick_clear(self) -> None:
        pending = self.pending_clear
        if pending is not None and time.monotonic() >= pending.due:
            self.pending_clear = None
            self.clear_in_background(pending)

    @work(thread=True, group="clear", description="clear the clipboard")
    def clear_in_background(self, pending: PendingClear) -> None:
        from .. import clipboard  # subprocess and shutil: not at start-up

        outcome = clipboard.clear_copied(
            pending.text,
            pending.route,
            osc52=lambda value: self.call_from_thread(self.copy_to_clipboard, value),
            env=self._clipboard_env(),
        )
        if outcome.state != "left":  # something else is in the clipboard now: not our news
            severity = "information" if outcome.state == "cleared" else "warning"
            self.call_from_thread(self.notify, outcome.message, severity=severity, markup=False)

    def clear_clipboard_now(self) -> None:
        """On quit and sign-out the token leaves the clipboard at once."""
        pending, self.pending_clear = self.pending_clear, None
        if pending is not None:
            from .. import clipboard  # subprocess and shutil: not at start-up

            clipboard.clear_copied(
                pending.text, pending.route, osc52=self.copy_to_clipboard, env=self._clipboard_env()
            )

    async def action_quit(self) -> None:
        self.clear_clipboard_now()
        await super().action_quit()

    def _clipboard_env(self) -> Mapping[str, str]:
        return self.clipboard_env if self.clipboard_env is not None else os.environ

    # -- crashes ------------------------------------------------------------------------

    def _fatal_error(self) -> None:
        """Textual's crash report prints every frame's local variables, which here would
        be passwords and tokens. Ours keeps the traceback and leaves the locals out."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

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
            config_module.update_setting(self.config_path, "ui", "theme", theme.name)
        except (ConfigError, OSError, TypeError) as exc:
            self.notify(f"Theme not saved: {exc}", severity="warning", markup=False)
            return
        self.config = self.config.replace("ui", "theme", theme.name)


def make_app(
    config: Config,
    service: TokenService,
    *,
    config_path: Path | None = None,
    clipboard_env: Mapping[str, str] | None = None,
    on_first_screen: Callable[[], None] | None = None,
) -> KopituiApp:
    """The one factory: ``__main__`` and the tests build the App the same way.

    ``on_first_screen`` is called once, when the first page (Sign in, or Create
    administrator) has been mounted and painted.
    """
    return KopituiApp(
        config,
        service,
        config_path=config_path,
        clipboard_env=clipboard_env,
        on_first_screen=on_first_screen,
    )
