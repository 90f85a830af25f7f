"""Basic Token: ``Basic base64(username:password)`` for an existing user."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Static

from ...service.errors import AuthenticationError, KopituiError, ValidationError
from ..widgets.fields import Field, SecretInput, TextInput
from .base import BACK, FormScreen


class BasicTokenScreen(FormScreen):
    TITLE = "Basic Token"
    BINDINGS = [BACK]
    FIELD_ORDER = ("username", "password")

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="form"):
            yield Static("Basic Token", classes="form-title")
            yield Static(
                "A Basic token is the username and password, base64-encoded: "
                "whoever holds it can sign in as that user. It stops working when "
                "the password changes.",
                classes="form-intro",
            )
            yield Field(
                "Username", TextInput(self.app.user.username, id="username"), name="username"
            )
            yield Field("Password", SecretInput(id="password"), name="password")
            yield Button("Generate", id="generate", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Button.Pressed, "#generate")
    def submit(self) -> None:
        self.clear_errors()
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        if not password:
            self.show_error("password", "Enter the password.")
            return
        self.set_busy(True)
        self.generate(username, password)

    @work(thread=True, exclusive=True, description="generate a Basic token")
    def generate(self, username: str, password: str) -> None:
        try:
            token = self.service.issue_basic(username, password, actor=self.app.user)
        except KopituiError as exc:
            self.app.call_from_thread(self.failed, exc)
        else:
            self.app.call_from_thread(self.app.show_result, token)

    def failed(self, exc: KopituiError) -> None:
        self.set_busy(False)
        if isinstance(exc, AuthenticationError):
            self.query_one("#password", SecretInput).clear_secret()
            self.show_error("password", str(exc))
        elif isinstance(exc, ValidationError):
            self.show_error(exc.field, exc.message)
        else:
            self.show_error("password", str(exc))
