"""Change Password: every user changes their own (current, new, confirm)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Static

from ...service.errors import KopituiError, ValidationError
from ..widgets.fields import Field, SecretInput
from .base import BACK, FormScreen

CHANGED = (
    "Password changed. Basic tokens made with the old password are now stale — "
    "generate a new one in Basic Token."
)


class ChangePasswordScreen(FormScreen):
    CSS_PATH = "../css/accounts.tcss"
    TITLE = "Change Password"
    BINDINGS = [BACK]
    FIELD_ORDER = ("current", "password", "confirm")

    def compose(self) -> ComposeResult:
        min_length = self.app.service.config.min_password_length
        self.secrets = {name: SecretInput(id=name) for name in self.FIELD_ORDER}
        yield Header()
        with Vertical(classes="form"):
            yield Static("Change Password", classes="form-title")
            yield Static(
                "Basic tokens made with your current password stop working after the "
                "change; JWTs are not affected.",
                classes="form-intro",
            )
            yield Field("Current password", self.secrets["current"], name="current")
            yield Field(
                "New password",
                self.secrets["password"],
                name="password",
                hint=f"At least {min_length} characters, not your username.",
            )
            yield Field("Confirm new password", self.secrets["confirm"], name="confirm")
            yield Button("Change password", id="change", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#current", Input).focus()

    def on_unmount(self) -> None:
        # The fields are out of the DOM by now (children unmount first): clear them by
        # reference, as a query would find none.
        for secret in self.secrets.values():
            secret.clear_secret()

    @on(Button.Pressed, "#change")
    def submit(self) -> None:
        self.clear_errors()
        current, new, confirm = (
            self.query_one(f"#{name}", Input).value for name in self.FIELD_ORDER
        )
        if not current:
            self.show_error("current", "Enter your current password.")
            return
        self.set_busy(True)
        self.change(current, new, confirm)

    # Passwords stay out of the worker's description: Textual logs it.
    @work(thread=True, exclusive=True, description="change password")
    def change(self, current: str, new: str, confirm: str) -> None:
        try:
            self.service.change_password(self.app.user, current, new, confirm)
        except KopituiError as exc:
            self.app.call_from_thread(self.failed, exc)
        else:
            self.app.call_from_thread(self.changed)

    def changed(self) -> None:
        self.app.pop_screen()
        self.app.notify(CHANGED, title="Change Password", timeout=8, markup=False)

    def failed(self, exc: KopituiError) -> None:
        self.set_busy(False)
        field = exc.field if isinstance(exc, ValidationError) else "current"
        if field == "current":
            self.query_one("#current", SecretInput).clear_secret()
        self.show_error(field, str(exc))
