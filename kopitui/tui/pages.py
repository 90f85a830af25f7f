"""The portal's pages: one list feeds the home menu, its keys and the command palette.

Screens are named, not imported, so start-up only loads the pages a user opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class PortalPage:
    id: str
    key: str
    label: str
    help: str
    screen: str  # "module:Class" under kopitui.tui.screens
    admin_only: bool = False

    def make_screen(self):
        module, _, cls = self.screen.partition(":")
        return getattr(import_module(f"kopitui.tui.screens.{module}"), cls)()


PAGES: list[PortalPage] = [
    PortalPage(
        "jwt",
        "j",
        "JWT Token",
        "Generate a Bearer JWT for the KopiCloud AD API",
        "jwt:JwtTokenScreen",
    ),
    PortalPage(
        "basic",
        "b",
        "Basic Token",
        "Generate a Basic token from a username and password",
        "basic:BasicTokenScreen",
    ),
    PortalPage(
        "tokens",
        "l",
        "Token List",
        "Search, sort, disable, enable and delete tokens",
        "tokens:TokenListScreen",
    ),
    PortalPage(
        "verify",
        "v",
        "Verify",
        "Check a pasted token: valid, expired, disabled, stale…",
        "verify:VerifyScreen",
    ),
    PortalPage(
        "api",
        "a",
        "API",
        "Where the token service listens; curl, Terraform… snippets",
        "api:ApiScreen",
    ),
    PortalPage(
        "password",
        "p",
        "Change Password",
        "Change your own password",
        "password:ChangePasswordScreen",
    ),
    PortalPage(
        "users",
        "u",
        "Users",
        "Add users, reset passwords, remove users",
        "users:UsersScreen",
        admin_only=True,
    ),
    PortalPage(
        "logs",
        "g",
        "Logs",
        "Every recorded event, by date range and search",
        "logs:LogsScreen",
        admin_only=True,
    ),
]


def page(page_id: str) -> PortalPage | None:
    return next((p for p in PAGES if p.id == page_id), None)


def visible_pages(user) -> list[PortalPage]:
    """The pages ``user`` may open (administrators see them all)."""
    if user is None:
        return []
    return [p for p in PAGES if user.is_admin or not p.admin_only]
