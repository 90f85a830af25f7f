"""Form fields: a label, an input and the place its error message appears."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static


class SecretInput(Input):
    """A password field whose content can never be copied or cut out of the app.

    Textual's ``Input.action_copy`` copies the selection even from a password field.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(password=True, **kwargs)

    def action_copy(self) -> None:
        self.app.bell()

    def action_cut(self) -> None:
        self.app.bell()

    def clear_secret(self) -> None:
        self.value = ""


class Field(Vertical):
    """``Label`` over ``Input`` over an error line that shows what is wrong with it."""

    DEFAULT_CSS = """
    Field {
        height: auto;
        margin-bottom: 1;
    }
    Field > .field-error {
        color: $text-error;
        height: auto;
        display: none;
    }
    Field > .field-error.-shown {
        display: block;
    }
    Field > Input {
        margin-left: 1;
    }
    Field > Input.-textual-compact {
        background: $boost;
    }
    Field > Input.-textual-compact:focus {
        background-tint: $accent 25%;
    }
    Field > .field-hint {
        color: $text-muted;
        height: auto;
    }
    """

    def __init__(self, label: str, field_input: Input, *, name: str, hint: str = "") -> None:
        super().__init__(id=f"field-{name}")
        self.label = label
        field_input.compact = True
        self.input = field_input
        self.hint = hint

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="field-label")
        yield self.input
        if self.hint:
            yield Static(self.hint, classes="field-hint", markup=False)
        yield Static("", classes="field-error", markup=False)

    def show_error(self, message: str) -> None:
        error = self.query_one(".field-error", Static)
        error.update(message)
        error.set_class(bool(message), "-shown")
        self.input.set_class(bool(message), "-invalid")

    def clear_error(self) -> None:
        self.show_error("")

    @property
    def error(self) -> str:
        return str(self.query_one(".field-error", Static).content)
