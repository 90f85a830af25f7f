"""What every form page shares: header, footer, inline errors, busy state."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button, Input

from ..widgets.fields import Field, SecretInput


class FormScreen(Screen):
    """A page with fields."""

    def action_back(self) -> None:
        self.app.pop_screen()

    @property
    def service(self):
        return self.app.service

    def field(self, name: str) -> Field:
        return self.query_one(f"#field-{name}", Field)

    def clear_errors(self) -> None:
        for field in self.query(Field):
            field.clear_error()

    def show_error(self, name: str, message: str) -> None:
        """Show ``message`` under the field ``name`` and put the cursor there."""
        try:
            field = self.field(name)
        except Exception:  # noqa: BLE001 - no such field: fall back to the form's first one
            field = self.query(Field).first()
        field.show_error(message)
        field.input.focus()

    def set_busy(self, busy: bool) -> None:
        for button in self.query(Button):
            button.disabled = busy
        for field_input in self.query(Input):
            field_input.disabled = busy

    def on_mount(self) -> None:
        # Kept now: by the time the screen unmounts, its widgets can no longer be queried.
        self._secret_inputs = list(self.query(SecretInput))

    def on_unmount(self) -> None:
        # Secrets leave the widgets with the screen.
        for field_input in getattr(self, "_secret_inputs", ()):
            field_input.clear_secret()


#: For pages reached from the home page: ``escape`` goes back without saving anything.
BACK = Binding("escape", "back", "Back", id="back")
