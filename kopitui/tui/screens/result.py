"""Result: the token, shown once, and the copy action."""

from __future__ import annotations

import sys

from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
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
        Binding("v", "plain_view", "Plain view", id="plain_view"),
        Binding("r", "reveal", "Reveal", id="reveal"),
        Binding("s", "snippet", "Snippet", id="snippet"),
        Binding("escape", "back", "Done", id="back"),
    ]

    def __init__(self, token: IssuedToken) -> None:
        super().__init__()
        self.token = token
        self.last_outcome: CopyOutcome | None = None
        self.copied_texts: set[str] = set()
        self.revealed = not self.app.config.mask_tokens

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
            yield Static("Auth-Token header value:", classes="token-label")
            # Folded at the edge, not wrapped at the space: "Bearer" stays on the token's
            # first line, and no border or padding gets into a mouse selection.
            yield Static(self.shown_value(), id="token", markup=False)
            yield Static(
                "This token will not be shown again: copy it now.",
                id="warning",
                markup=False,
            )
            with Horizontal(classes="buttons"):
                yield Button("Copy (c)", id="copy", variant="primary", compact=True)
                yield Button("Plain view (v)", id="plain", compact=True)
                yield Button("Done (esc)", id="done", compact=True)
            yield Static("", id="copy-status", markup=False)
            yield Static("", id="clear-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#copy", Button).focus()
        self.set_interval(1, self.show_clear_countdown)

    def shown_value(self) -> str:
        """The header value, or with ``[ui] mask_tokens`` its scheme and last 4 characters."""
        value = self.token.header_value
        if self.revealed:
            return value
        return f"{self.token.scheme} {'•' * 24}{value[-4:]}  (r reveals)"

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "reveal":
            return self.app.config.mask_tokens
        return True

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        self.query_one("#token", Static).update(self.shown_value())

    def show_clear_countdown(self) -> None:
        # Only a clear of something copied from this page: a pending clear of an earlier
        # token would read as if this one had been copied.
        pending = self.app.pending_clear
        mine = pending is not None and pending.text in self.copied_texts
        left = self.app.clear_seconds_left() if mine else None
        status = self.query_one("#clear-status", Static)
        if left is not None:
            status.update(f"The clipboard clears in {left} s (when it still holds this token).")
        else:
            status.update("")

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        self.query_one("#copy-status", Static).update("Copying…")
        self.copy(self.token.header_value)

    @work(thread=True, exclusive=True, group="copy", description="copy the token")
    def copy(self, text: str) -> None:
        outcome = self.app.copy_token(text)
        self.app.call_from_thread(self.copied, outcome, text)

    def copied(self, outcome: CopyOutcome, text: str) -> None:
        self.last_outcome = outcome
        if outcome.ok:
            self.copied_texts.add(text)
            # The text actually copied (the token, or a snippet holding it): the clear
            # only takes back what is still there.
            self.app.schedule_clear(text, outcome.route)
            self.show_clear_countdown()
        self.query_one("#copy-status", Static).update(outcome.message)
        # The message never contains the token; markup off all the same.
        self.notify(
            outcome.message,
            severity="information" if outcome.ok else "warning",
            markup=False,
        )

    def action_snippet(self) -> None:
        """Copy the token placed in a snippet chosen in a small picker (screens/api.py)."""
        from ...snippets import render
        from .api import SnippetModal, current_url

        def chosen(kind: str | None) -> None:
            if kind is not None:
                self.query_one("#copy-status", Static).update("Copying…")
                self.copy(render(kind, self.token.header_value, url=current_url(self.app)))

        self.app.push_screen(SnippetModal(), chosen)

    @on(Button.Pressed, "#plain")
    def action_plain_view(self) -> None:
        """Show the token alone on a plain terminal screen, where the terminal itself wraps
        it, so a mouse selection copies it whole. It goes to the alternate screen, so it
        is not left in the terminal's scrollback."""
        value = self.token.header_value
        try:
            with self.app.suspend():
                out = sys.__stdout__
                out.write("\x1b[?1049h\x1b[H\x1b[2J")
                out.write(f"{value}\n\nSelect the token above to copy it, then press Enter.")
                out.flush()
                try:
                    sys.__stdin__.readline()
                finally:
                    out.write("\x1b[2J\x1b[?1049l")
                    out.flush()
        except SuspendNotSupported:
            self.notify("A plain view needs a real terminal.", severity="warning")

    @on(Button.Pressed, "#done")
    def action_back(self) -> None:
        self.app.pop_screen()
