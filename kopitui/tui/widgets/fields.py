"""Form fields: a label, an input and the place its error message appears."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static


class TextInput(Input):
    """An Input whose own editing keys keep their place among the characters typed.

    Textual inserts a typed character as soon as the field takes the key, but runs the
    field's bindings (backspace, arrows, ctrl+u, enter…) only once the key has bubbled
    up to the App; typed fast, "abc⌫d" could become "abd" with the ⌫ landing after the
    "d" (Textual issue #6605). Here the field runs its own bindings as it takes the key,
    as Textual's proposed fix (PR #6631) does.
    """

    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.app.run_action(binding.action, self):
                    event.stop()
                    event.prevent_default()
                    return
        await super()._on_key(event)


class SecretInput(TextInput):
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
