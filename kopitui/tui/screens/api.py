"""API: where the token service listens, and snippets to copy; the result screen's picker."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from ...clipboard import CopyOutcome
from ...snippets import SNIPPETS, check_url, nginx, render, service_url
from .base import BACK

#: The nginx setup gets the key after the four token snippets.
NGINX_KEY = str(len(SNIPPETS) + 1)
#: The footer shows the copy keys as one group ("1 2 3 4 5 Copy"); the page names them.
COPY_GROUP = Binding.Group("Copy")


def current_url(app) -> str:
    """The base URL of ``kopitui serve`` as the config sets it up."""
    return service_url(app.config.server_host, app.config.server_port)


def page_message(outcome: CopyOutcome) -> str:
    """The copy outcome in words, for a page where no token is on screen."""
    head, found, _ = outcome.message.partition(" The token stays on screen")
    return f"{head} Select the snippet on screen instead." if found else outcome.message


class ApiScreen(Screen):
    CSS_PATH = "../css/api.tcss"
    TITLE = "API"
    BINDINGS = [
        BACK,
        *(
            Binding(
                str(n),
                f"copy_snippet('{s.kind}')",
                f"Copy {s.label}",
                id=f"copy_{s.kind}",
                group=COPY_GROUP,
            )
            for n, s in enumerate(SNIPPETS, start=1)
        ),
        Binding(
            NGINX_KEY, "copy_snippet('nginx')", "Copy nginx", id="copy_nginx", group=COPY_GROUP
        ),
    ]

    def compose(self) -> ComposeResult:
        url = current_url(self.app)
        yield Header()
        with VerticalScroll(classes="api", can_focus=True):
            yield Static("API", classes="form-title")
            yield Static(
                Text.assemble(
                    ("Check URL  ", "bold"),
                    check_url(url),
                    ("  (start it: kopitui serve)", "dim"),
                ),
                id="api-url",
            )
            yield Static(
                Text.assemble(
                    ("Header     ", "bold"),
                    "Auth-Token: Bearer <jwt>  or  Auth-Token: Basic <base64>",
                ),
                id="api-header",
            )
            yield Static(
                Text.assemble(
                    ("Answers    ", "bold"),
                    "200 and the identity as JSON, or 401 and the reason",
                ),
                id="api-answers",
            )
            yield Static(
                "Press a number to copy a snippet. The token goes where <token> is: "
                "on a new token's result page, s copies a snippet with the real token.",
                classes="form-intro",
                markup=False,
            )
            for number, item in enumerate(SNIPPETS, start=1):
                yield from self.block(str(number), item.label, item.help, item.kind)
            yield from self.block(
                NGINX_KEY, "nginx", "auth_request: only valid tokens reach your app", "nginx"
            )
        yield Footer()

    def block(self, key: str, label: str, help: str, kind: str) -> ComposeResult:
        yield Static(
            Text.assemble((f"{key}  {label}", "bold"), (f"  {help}", "dim")),
            classes="snippet-label",
        )
        # The config's host is user data: no markup.
        yield Static(self.snippet_text(kind), id=f"snippet-{kind}", classes="snippet", markup=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def snippet_text(self, kind: str) -> str:
        url = current_url(self.app)
        return nginx(url) if kind == "nginx" else render(kind, None, url=url)

    def action_copy_snippet(self, kind: str) -> None:
        label = "nginx" if kind == "nginx" else next(s.label for s in SNIPPETS if s.kind == kind)
        self.copy(label, self.snippet_text(kind))

    # The placeholder snippets hold no secret: nothing to clear afterwards.
    @work(thread=True, exclusive=True, group="copy", description="copy a snippet")
    def copy(self, label: str, text: str) -> None:
        outcome = self.app.copy_token(text)
        self.app.call_from_thread(self.copied, label, outcome)

    def copied(self, label: str, outcome: CopyOutcome) -> None:
        self.notify(
            page_message(outcome),
            title=f"{label} snippet",
            severity="information" if outcome.ok else "warning",
            markup=False,
        )

    def action_back(self) -> None:
        self.app.pop_screen()


class SnippetModal(ModalScreen[str | None]):
    """Pick a snippet kind for the fresh token; escape cancels."""

    CSS_PATH = "../css/api.tcss"

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="snippet-modal"):
            yield Static("Copy the token in a snippet", classes="form-title")
            yield OptionList(
                *(
                    Option(Text.assemble((item.label, "bold"), f" — {item.help}"), id=item.kind)
                    for item in SNIPPETS
                ),
                id="snippet-kinds",
            )
            yield Static("enter copies · esc cancels", classes="form-intro")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#snippet-kinds")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
