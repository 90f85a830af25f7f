"""Users (administrators): add a user, reset a password, remove a user."""

from __future__ import annotations

from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Header, Input, Select, Static

from ...service.errors import KopituiError, ValidationError
from ...service.models import User, UserRecord
from ..widgets.confirm import ConfirmModal
from ..widgets.fields import Field, SecretInput, TextInput
from .base import BACK, FormScreen

#: A modal's escape: close it, nothing saved.
CANCEL = Binding("escape", "back", "Cancel", id="cancel")


def short_time(timestamp: int) -> str:
    """Compact local time for a table cell."""
    try:
        return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError, OSError):
        return "—"


def tokens_phrase(count: int) -> str:
    return f"{count} token{'' if count == 1 else 's'}"


class ModalForm(ModalScreen, FormScreen):
    """A form in a modal: inline errors like a page, escape dismisses with None.

    ModalScreen comes first: Textual takes DEFAULT_CSS and CSS type names along the
    first base only, and the modal's see-through background lives there.
    """

    CSS_PATH = "../css/accounts.tcss"

    BINDINGS = [CANCEL]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[SecretInput] = []

    def secret(self, name: str) -> SecretInput:
        """A password field, remembered so it can be cleared when the modal closes."""
        field_input = SecretInput(id=name)
        self.secrets.append(field_input)
        return field_input

    def on_unmount(self) -> None:
        # The fields are out of the DOM by now (children unmount first): clear them by
        # reference, as a query would find none.
        for field_input in self.secrets:
            field_input.clear_secret()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)

    def failed(self, exc: KopituiError) -> None:
        self.set_busy(False)
        field = exc.field if isinstance(exc, ValidationError) else self.FIELD_ORDER[0]
        self.show_error(field, str(exc))

    def password_hint(self) -> str:
        return f"At least {self.app.service.config.min_password_length} characters."


class AddUserModal(ModalForm):
    """Username, role, password and confirm; dismisses with the new :class:`User`."""

    FIELD_ORDER = ("username", "role", "password", "confirm")

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-form"):
            yield Static("Add user", classes="form-title")
            yield Field("Username", TextInput(id="username"), name="username")
            yield Field(
                "Role",
                Select(
                    [("user", "user"), ("admin", "admin")],
                    value="user",
                    allow_blank=False,
                    id="role",
                ),
                name="role",
            )
            yield Field(
                "Password",
                self.secret("password"),
                name="password",
                hint=self.password_hint() + " Not the username.",
            )
            yield Field("Confirm password", self.secret("confirm"), name="confirm")
            with Horizontal(classes="buttons"):
                yield Button("Add user", id="add", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    @on(Button.Pressed, "#add")
    def submit(self) -> None:
        self.clear_errors()
        self.set_busy(True)
        self.add(
            self.query_one("#username", Input).value,
            self.query_one("#password", Input).value,
            self.query_one("#confirm", Input).value,
            str(self.query_one("#role", Select).value),
        )

    # Passwords stay out of the worker's description: Textual logs it.
    @work(thread=True, exclusive=True, description="add a user")
    def add(self, username: str, password: str, confirm: str, role: str) -> None:
        try:
            user = self.service.add_user(self.app.user, username, password, confirm, role=role)
        except KopituiError as exc:
            self.app.call_from_thread(self.failed, exc)
        else:
            self.app.call_from_thread(self.dismiss, user)


class ResetPasswordModal(ModalForm):
    """A new password for ``username``; dismisses with True once it is saved."""

    FIELD_ORDER = ("password", "confirm")

    def __init__(self, username: str) -> None:
        super().__init__()
        self.username = username

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-form"):
            yield Static(
                f"Reset the password of {self.username!r}", classes="form-title", markup=False
            )
            yield Static(
                "Their Basic tokens made with the old password stop working.",
                classes="form-intro",
            )
            yield Field(
                "New password",
                self.secret("password"),
                name="password",
                hint=self.password_hint() + " Not the username.",
            )
            yield Field("Confirm new password", self.secret("confirm"), name="confirm")
            with Horizontal(classes="buttons"):
                yield Button("Reset password", id="reset", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Button.Pressed, "#reset")
    def submit(self) -> None:
        self.clear_errors()
        self.set_busy(True)
        self.reset(
            self.query_one("#password", Input).value, self.query_one("#confirm", Input).value
        )

    @work(thread=True, exclusive=True, description="reset a password")
    def reset(self, password: str, confirm: str) -> None:
        try:
            self.service.reset_password(self.app.user, self.username, password, confirm)
        except KopituiError as exc:
            self.app.call_from_thread(self.failed, exc)
        else:
            self.app.call_from_thread(self.dismiss, True)


class UsersScreen(FormScreen):
    CSS_PATH = "../css/accounts.tcss"
    TITLE = "Users"
    BINDINGS = [
        BACK,
        Binding("a", "add", "Add user", id="add_user"),
        Binding("r", "reset", "Reset password", id="reset_password"),
        Binding("delete,x", "remove", "Remove", id="remove_user"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, UserRecord] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="users"):
            yield Static("Users", classes="form-title")
            yield DataTable(id="users-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Username", width=18, key="username")
        table.add_column("Role", width=5, key="role")
        table.add_column("Created", width=16, key="created")
        table.add_column("Password changed", width=16, key="password_changed")
        table.add_column("Active tokens", width=13, key="active_tokens")
        self.reload()
        table.focus()

    def reload(self, select: str | None = None) -> None:
        """Read the users again; keep the cursor on ``select`` (or where it was)."""
        table = self.query_one(DataTable)
        if select is None and self.selected is not None:
            select = self.selected.username
        try:
            records = self.service.list_users(self.app.user)
        except KopituiError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            records = []
        self.records = {str(r.id): r for r in records}
        table.clear()
        for record in records:
            table.add_row(
                record.username,
                record.role,
                short_time(record.created_at),
                short_time(record.password_changed_at),
                str(record.active_tokens),
                key=str(record.id),
            )
        for row, record in enumerate(records):
            if record.username == select:
                table.move_cursor(row=row)

    @property
    def selected(self) -> UserRecord | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.records.get(key)

    # -- add ----------------------------------------------------------------------------

    def action_add(self) -> None:
        self.app.push_screen(AddUserModal(), self.added)

    def added(self, user: User | None) -> None:
        if user is None:
            return
        self.reload(select=user.username)
        self.notify(f"Added {user.role} {user.username!r}.", markup=False)

    # -- reset --------------------------------------------------------------------------

    def action_reset(self) -> None:
        record = self.selected
        if record is None:
            return
        self.app.push_screen(
            ResetPasswordModal(record.username), lambda done: self.was_reset(record, done)
        )

    def was_reset(self, record: UserRecord, done: bool | None) -> None:
        if not done:
            return
        self.reload()
        self.notify(
            f"Password of {record.username!r} reset; their old Basic tokens are now stale.",
            markup=False,
        )

    # -- remove -------------------------------------------------------------------------

    def action_remove(self) -> None:
        record = self.selected
        if record is None:
            return
        try:  # what would refuse it (yourself, the last administrator) is said first
            self.service.check_user_removal(self.app.user, record.username)
        except KopituiError as exc:
            self.not_removed(exc)
            return
        # Counted now, not when the list was loaded: tokens may have come since.
        now = {r.username: r for r in self.service.list_users(self.app.user)}
        active = now.get(record.username, record).active_tokens
        message = (
            f"Remove user {record.username!r}? Their tokens will be disabled "
            f"(active now: {active})."
        )
        self.app.push_screen(
            ConfirmModal(message, title="Remove user?", confirm_label="Remove"),
            lambda yes: self.remove_user(record.username) if yes else None,
        )

    @work(thread=True, exclusive=True, description="remove a user")
    def remove_user(self, username: str) -> None:
        try:
            disabled = self.service.remove_user(self.app.user, username)
        except KopituiError as exc:
            self.app.call_from_thread(self.not_removed, exc)
        else:
            self.app.call_from_thread(self.removed, username, disabled)

    def removed(self, username: str, disabled: int) -> None:
        self.reload()
        self.notify(f"Removed {username!r}; {tokens_phrase(disabled)} disabled", markup=False)

    def not_removed(self, exc: KopituiError) -> None:
        self.notify(str(exc), title="Not removed", severity="warning", markup=False)
