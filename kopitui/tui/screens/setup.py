"""First run: create the first administrator."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Static

from ...service.errors import KopituiError, SetupError, ValidationError
from ..widgets.fields import Field, SecretInput, TextInput
from .base import FormScreen


class SetupScreen(FormScreen):
    """Shown while no user exists. The account it makes is an administrator."""

    TITLE = "Create administrator"
    FIELD_ORDER = ("username", "password", "confirm")

    def compose(self) -> ComposeResult:
        min_length = self.app.service.config.min_password_length
        yield Header()
        with Vertical(classes="form"):
            yield Static("Create administrator", classes="form-title")
            yield Static(
                "No user exists yet. The account you create here is the first "
                "administrator of this kopitui.",
                classes="form-intro",
            )
            yield Field("Username", TextInput(id="username"), name="username")
            yield Field(
                "Password",
                SecretInput(id="password"),
                name="password",
                hint=f"At least {min_length} characters, not the username.",
            )
            yield Field("Confirm password", SecretInput(id="confirm"), name="confirm")
            yield Button("Create administrator", id="create", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    @on(Button.Pressed, "#create")
    def submit(self) -> None:
        self.clear_errors()
        self.set_busy(True)
        self.create(
            self.query_one("#username", Input).value,
            self.query_one("#password", Input).value,
            self.query_one("#confirm", Input).value,
        )

    @work(thread=True, exclusive=True, description="create the administrator")
    def create(self, username: str, password: str, confirm: str) -> None:
        try:
            user = self.service.create_first_admin(username, password, confirm)
        except KopituiError as exc:
            self.app.call_from_thread(self.failed, exc)
        else:
            self.app.call_from_thread(self.app.after_setup, user.username)

    def failed(self, exc: KopituiError) -> None:
        self.set_busy(False)
        if isinstance(exc, SetupError):
            self.app.after_setup("")
            self.app.notify(str(exc), markup=False)
        elif isinstance(exc, ValidationError):
            self.show_error(exc.field, exc.message)
        else:
            self.show_error("username", str(exc))
