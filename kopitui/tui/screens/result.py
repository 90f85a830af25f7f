"""Result: the token, shown once, and the copy action."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static

from ...clipboard import CopyOutcome
from ...service import IssuedToken
from ..format import when


class ResultScreen(Screen):
    TITLE = "Result"
    BINDINGS = [
        Binding("c", "copy", "Copy", id="copy"),
        Binding("escape", "back", "Done", id="back"),
    ]

    def __init__(self, token: IssuedToken) -> None:
        super().__init__()
        self.token = token
        self.last_outcome: CopyOutcome | None = None

    def compose(self) -> ComposeResult:
        token = self.token
        kind = "JWT" if token.kind == "jwt" else "Basic"
        details = f"User: {token.username} · Expires: {when(token.expires_at)}"
        if token.kind == "jwt":
            details = f"Name: {token.name} · {details}"
        yield Header()
        with Vertical(classes="result"):
            yield Static(f"{kind} token generated", classes="form-title")
            yield Static(details, id="token-details", markup=False)
            token_view = Static(token.header_value, id="token", markup=False)
            token_view.border_title = "Auth-Token header value"
            yield token_view
            yield Static(
                "This token will not be shown again: copy it now.",
                id="warning",
                markup=False,
            )
            with Horizontal(classes="buttons"):
                yield Button("Copy (c)", id="copy", variant="primary", compact=True)
                yield Button("Done (esc)", id="done", compact=True)
            yield Static("", id="copy-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#copy", Button).focus()

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        self.query_one("#copy-status", Static).update("Copying…")
        self.copy(self.token.header_value)

    @work(thread=True, exclusive=True, group="copy")
    def copy(self, text: str) -> None:
        outcome = self.app.copy_token(text)
        self.app.call_from_thread(self.copied, outcome)

    def copied(self, outcome: CopyOutcome) -> None:
        self.last_outcome = outcome
        self.query_one("#copy-status", Static).update(outcome.message)
        # The message never contains the token; markup off all the same.
        self.notify(
            outcome.message,
            severity="information" if outcome.ok else "warning",
            markup=False,
        )

    @on(Button.Pressed, "#done")
    def action_back(self) -> None:
        self.app.pop_screen()
