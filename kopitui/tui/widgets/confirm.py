"""A yes/no question in a modal: ``True`` when confirmed, ``False`` when cancelled."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmModal(ModalScreen[bool]):
    """Ask before doing something that cannot be undone.

    ``y`` or ``enter`` confirms, ``n`` or ``escape`` cancels. The message is shown as
    plain text (it usually holds names someone typed), never as markup.
    """

    DEFAULT_CSS = """
    ConfirmModal {
        align: center middle;
    }
    ConfirmModal > #confirm-dialog {
        width: 64;
        max-width: 95%;
        height: auto;
        border: round $error;
        border-title-color: $text-error;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    ConfirmModal #confirm-message {
        height: auto;
        margin-bottom: 1;
    }
    ConfirmModal #confirm-buttons {
        height: auto;
        align-horizontal: right;
    }
    ConfirmModal #confirm-buttons Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("y", "confirm", "Yes", id="confirm_yes"),
        Binding("enter", "confirm", "Yes", show=False, id="confirm_enter"),
        Binding("n", "cancel", "No", id="confirm_no"),
        Binding("escape", "cancel", "Cancel", id="confirm_cancel"),
    ]

    def __init__(
        self,
        message: str,
        *,
        title: str = "Are you sure?",
        confirm_label: str = "Yes",
        cancel_label: str = "Cancel",
    ) -> None:
        super().__init__()
        self.message = message
        self.title_text = title
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog") as dialog:
            dialog.border_title = self.title_text
            yield Static(self.message, id="confirm-message", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    f"{self.confirm_label} (y)",
                    id="confirm",
                    variant="error",
                    compact=True,
                )
                yield Button(f"{self.cancel_label} (n)", id="cancel", compact=True)

    def on_mount(self) -> None:
        # Enter confirms, as promised; tab reaches Cancel, whose own enter cancels.
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
