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

#: (page id, key, label, what it does) — the menu, the bindings and the palette share it.
MENU = [
    ("jwt", "j", "JWT Token", "Generate a Bearer JWT for the KopiCloud AD API"),
    ("basic", "b", "Basic Token", "Generate a Basic token from a username and password"),
]


class HomeScreen(Screen):
    TITLE = "Home"
    BINDINGS = [
        *(Binding(key, f"app.open_page('{page}')", label, id=page) for page, key, label, _ in MENU),
        Binding("s", "app.sign_out", "Sign Out", id="sign_out"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="home"):
            yield Static(f"Hello {self.app.user.username}", id="greeting", markup=False)
            yield Static("Choose a page (or press its key):", classes="form-intro")
            yield OptionList(
                *(
                    Option(Text.assemble((key, "bold"), f"  {label} — {help_text}"), id=page)
                    for page, key, label, help_text in MENU
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
