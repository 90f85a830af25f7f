"""JWT Token: a unique name and the minutes until it expires."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Static

from ...service.errors import KopituiError, ValidationError
from ..format import when
from ..widgets.fields import Field, TextInput
from .base import BACK, FormScreen


class JwtTokenScreen(FormScreen):
    TITLE = "JWT Token"
    BINDINGS = [BACK]

    def compose(self) -> ComposeResult:
        config = self.app.service.config
        limit = f" Maximum {config.max_expiry_minutes}." if config.max_expiry_minutes else ""
        never = "0 = never expires." if config.allow_never_expires else "0 is not allowed."
        yield Header()
        with Vertical(classes="form"):
            yield Static("JWT Token", classes="form-title")
            yield Field("JWT Token Name", TextInput(id="name"), name="name")
            yield Field(
                "Expire after (minutes)",
                TextInput(str(config.default_expiry_minutes), id="minutes"),
                name="minutes",
                hint=f"{never}{limit}",
            )
            yield Static("", id="expiry-preview", markup=False)
            yield Button("Generate", id="generate", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self.update_preview(self.query_one("#minutes", Input).value)

    @on(Input.Changed, "#minutes")
    def minutes_changed(self, event: Input.Changed) -> None:
        self.update_preview(event.value)

    @on(Input.Changed, "#name")
    def name_changed(self) -> None:
        self.field("name").clear_error()

    def update_preview(self, text: str) -> None:
        preview = self.query_one("#expiry-preview", Static)
        field = self.field("minutes")
        try:
            expires = self.service.preview_expiry(text)
        except ValidationError as exc:
            field.show_error(exc.message)
            preview.update("")
            return
        field.clear_error()
        preview.update(f"Expires: {when(expires)}")

    @on(Input.Submitted)
    @on(Button.Pressed, "#generate")
    def submit(self) -> None:
        self.clear_errors()
        name = self.query_one("#name", Input).value
        minutes = self.query_one("#minutes", Input).value
        # Quick checks here, so every message lands at once where it was typed.
        errors = []
        for check, value in (
            (lambda v: self.service.check_token_name(self.app.user, v), name),
            (self.service.parse_minutes, minutes),
        ):
            try:
                check(value)
            except ValidationError as exc:
                errors.append(exc)
        for exc in reversed(errors):  # the cursor ends in the first field at fault
            self.show_error(exc.field, exc.message)
        if errors:
            return
        self.set_busy(True)
        self.generate(name, minutes)

    @work(thread=True, exclusive=True, description="generate a JWT")
    def generate(self, name: str, minutes: str) -> None:
        try:
            token = self.service.issue_jwt(self.app.user, name, minutes)
        except KopituiError as exc:
            self.app.call_from_thread(self.failed, exc)
        else:
            self.app.call_from_thread(self.app.show_result, token)

    def failed(self, exc: KopituiError) -> None:
        self.set_busy(False)
        field = exc.field if isinstance(exc, ValidationError) else "name"
        self.show_error(field, str(exc))
