"""Sign in: Name and Password, like the portal."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Static

from ...service.errors import KopituiError
from ..widgets.fields import Field, SecretInput, TextInput
from .base import FormScreen


class LoginScreen(FormScreen):
    TITLE = "Sign in"
    FIELD_ORDER = ("username", "password")

    def __init__(self, username: str = "") -> None:
        super().__init__()
        self.initial_username = username

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="form"):
            yield Static("Sign in", classes="form-title")
            yield Field("Name", TextInput(self.initial_username, id="username"), name="username")
            yield Field("Password", SecretInput(id="password"), name="password")
            yield Button("Sign in", id="signin", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        target = "#password" if self.initial_username else "#username"
        self.query_one(target, Input).focus()

    @on(Button.Pressed, "#signin")
    def submit(self) -> None:
        self.clear_errors()
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        if not username.strip():
            self.show_error("username", "Enter your name.")
            return
        if not password:
            self.show_error("password", "Enter your password.")
            return
        self.set_busy(True)
        self.sign_in(username, password)

    @work(thread=True, exclusive=True, description="sign in")
    def sign_in(self, username: str, password: str) -> None:
        try:
            user = self.service.authenticate(username, password)
        except KopituiError as exc:
            self.app.call_from_thread(self.failed, str(exc))
        else:
            self.app.call_from_thread(self.app.signed_in, user)

    def failed(self, message: str) -> None:
        self.set_busy(False)
        password = self.query_one("#password", SecretInput)
        password.clear_secret()
        self.show_error("password", message)
