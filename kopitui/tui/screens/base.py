"""What every form page shares: header, footer, inline errors, busy state."""

from __future__ import annotations

from textual.actions import SkipAction
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button, Input

from ..widgets.fields import Field, SecretInput


class FormScreen(Screen):
    """A page with fields."""

    #: The ids of the fields Enter walks through, in order (see ``action_next_field``).
    FIELD_ORDER: tuple[str, ...] = ()

    # Priority bindings run as the key arrives, before the keys behind it are routed:
    # see action_next_field. Tab and shift+tab are Textual's own moves, made that way.
    BINDINGS = [
        Binding("enter", "next_field", "Next field", show=False, priority=True),
        Binding("tab", "move_focus(1)", "Next", show=False, priority=True),
        Binding("shift+tab", "move_focus(-1)", "Previous", show=False, priority=True),
    ]

    def action_move_focus(self, step: int) -> None:
        """Tab / shift+tab, at once: text typed right behind Tab lands in the next field,
        not (a password in plain sight) in the one it left."""
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def action_next_field(self) -> None:
        """Enter in a field of ``FIELD_ORDER``: on to the next empty field, else submit.

        A priority binding, so this runs as the key arrives, before the keys typed right
        behind Enter (a fast typist, auto-type) are routed: they land in the field it
        moved to. Made on ``Input.Submitted``, the move would come after them, and a
        password typed ahead would end up in the visible Name field.

        The keys typed before Enter may still be queued in the field, so the submit is
        queued there too: it runs once they are in, and before any typed after Enter.
        """
        focused = self.focused
        if not (isinstance(focused, Input) and focused.id in self.FIELD_ORDER):
            raise SkipAction()
        index = self.FIELD_ORDER.index(focused.id)
        for name in self.FIELD_ORDER[index + 1 :]:
            following = self.query_one(f"#{name}")
            if isinstance(following, Input) and not following.value:
                self.set_focus(following)
                return
        focused.call_later(self.submit)

    def submit(self) -> None:
        """What the page's main button does."""
        raise NotImplementedError

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
