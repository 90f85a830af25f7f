"""Verify: paste a token in any form users have at hand and read the verdict in words."""

from __future__ import annotations

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Footer, Header, Static, TextArea

from ...service.errors import KopituiError
from ...service.models import Verdict
from ..format import when
from .base import BACK, FormScreen

#: The verdict codes in words, for the first line of the verdict.
VERDICT_WORDS = {
    "valid": "Valid",
    "expired": "Expired",
    "not_yet_valid": "Not yet valid",
    "disabled": "Disabled",
    "deleted": "Deleted",
    "unknown": "Unknown token",
    "bad_signature": "Bad signature",
    "wrong_issuer": "Wrong issuer",
    "wrong_audience": "Wrong audience",
    "algorithm_not_allowed": "Algorithm not allowed",
    "stale": "Stale Basic token",
    "malformed": "Malformed",
}


class TokenBox(TextArea):
    """Where a token is pasted. Enter checks it; nothing in it can be copied or cut.

    A TextArea rather than an Input: tokens arrive wrapped over several lines.
    """

    class Submitted(Message):
        """Enter was pressed in the box."""

    async def _on_key(self, event: events.Key) -> None:
        # Runs before TextArea's own handler, which would insert a newline.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted())

    def action_copy(self) -> None:
        self.app.bell()

    def action_cut(self) -> None:
        self.app.bell()

    def clear_secret(self) -> None:
        """Empty the box and its undo history (which holds every edit)."""
        self.load_text("")


def verdict_text(verdict: Verdict) -> Text:
    """The verdict in words: what, why, and whose token it is. User data is never markup."""
    mark = "✔" if verdict.valid else "✘"
    text = Text(f"{mark} {VERDICT_WORDS.get(verdict.code, verdict.code)}\n", style="bold")
    kind = {"jwt": "JWT", "basic": "Basic"}.get(verdict.kind or "", "—")
    if verdict.valid or verdict.expires_at is not None:
        expires = when(verdict.expires_at)
    else:
        expires = "—"
    for label, value in (
        ("Reason", verdict.reason),
        ("Type", kind),
        ("User", verdict.username or "—"),
        ("Token name", verdict.token_name or "—"),
        ("Expires", expires),
    ):
        text.append(f"{label + ':':<12}", style="bold")
        text.append(f"{value}\n")
    text.rstrip()
    return text


class VerifyScreen(FormScreen):
    CSS_PATH = "../css/accounts.tcss"
    TITLE = "Verify"
    BINDINGS = [
        BACK,
        Binding("ctrl+s", "verify", "Verify", id="verify_token"),
        Binding("ctrl+l", "clear", "Clear", id="clear_token"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.verdict: Verdict | None = None
        self.box: TokenBox | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="form verify"):
            yield Static("Verify", classes="form-title")
            yield Static(
                "Paste a token: eyJ…, Bearer …, Basic … or a whole Auth-Token: line.",
                classes="form-intro",
            )
            self.box = TokenBox(
                id="token-text",
                soft_wrap=True,
                highlight_cursor_line=False,
                placeholder="Paste the token here",
            )
            self.box.border_title = "Token (enter checks it)"
            yield self.box
            with Horizontal(classes="buttons"):
                yield Button("Verify (enter)", id="verify", variant="primary", compact=True)
                yield Button("Clear (ctrl+l)", id="clear", compact=True)
            yield Static("", id="verdict", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TokenBox).focus()

    def on_unmount(self) -> None:
        # The pasted token leaves with the screen. By now the box is out of the DOM
        # (children unmount first), so it is reached by reference, not by a query.
        self.box.clear_secret()

    @on(TokenBox.Submitted)
    @on(Button.Pressed, "#verify")
    def action_verify(self) -> None:
        text = self.query_one(TokenBox).text
        if not text.strip():
            self.show_verdict(None, "Paste a token to verify.")
            return
        self.show_verdict(None, "Checking…")
        self.set_busy(True)
        self.check(text)

    # No token in the worker's description: Textual logs it.
    @work(thread=True, exclusive=True, description="verify a pasted token")
    def check(self, text: str) -> None:
        try:
            verdict = self.service.verify(text)
        except KopituiError as exc:
            self.app.call_from_thread(self.show_verdict, None, f"Could not verify: {exc}")
        else:
            self.app.call_from_thread(self.show_verdict, verdict)

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        self.query_one(TokenBox).read_only = busy

    def show_verdict(self, verdict: Verdict | None, note: str = "") -> None:
        self.set_busy(False)
        self.verdict = verdict
        shown = self.query_one("#verdict", Static)
        shown.set_class(verdict is not None and verdict.valid, "-valid")
        shown.set_class(verdict is not None and not verdict.valid, "-invalid")
        shown.update(verdict_text(verdict) if verdict is not None else note)

    @on(Button.Pressed, "#clear")
    def action_clear(self) -> None:
        box = self.query_one(TokenBox)
        box.clear_secret()
        self.show_verdict(None)
        box.focus()
