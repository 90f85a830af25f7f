"""The home page: the portal's menus as keys."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from ..pages import PAGES, visible_pages


class HomeScreen(Screen):
    TITLE = "Home"
    BINDINGS = [
        # The menu shows every page's key; the footer has room for Sign Out and Quit.
        *(Binding(p.key, f"app.open_page('{p.id}')", p.label, id=p.id, show=False) for p in PAGES),
        Binding("s", "app.sign_out", "Sign Out", id="sign_out"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="home"):
            yield Static(f"Hello {self.app.user.username}", id="greeting", markup=False)
            yield Static("Choose a page (or press its key):", classes="form-intro")
            yield OptionList(
                *(
                    Option(Text.assemble((p.key, "bold"), f"  {p.label} — {p.help}"), id=p.id)
                    for p in visible_pages(self.app.user)
                ),
                Option(Text.assemble(("s", "bold"), "  Sign Out"), id="sign_out"),
                id="menu",
            )
        yield Footer()

    @on(OptionList.OptionSelected, "#menu")
    def open_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "sign_out":
            self.app.action_sign_out()
        else:
            self.app.action_open_page(event.option.id)
