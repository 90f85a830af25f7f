"""Logs: every event the service records, by date range and search. Administrators only.

Everything in the log may have been typed by an outsider (a failed sign-in records the
name that was tried), so every cell is plain text with control characters replaced.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input, Select

from ...service import LogEntry, Page
from ...service.errors import KopituiError, ValidationError
from ...service.logs import PRESET_LABELS, PRESETS, parse_date, preset_range
from ..widgets.fields import Field, TextInput
from .base import BACK
from .tokens import PagedListScreen, cell, short_time

CUSTOM = "custom"
#: Which form field a service error about the range belongs to.
RANGE_FIELDS = {"since": "from", "until": "to", "from": "from", "to": "to"}


def _day_after(text: str) -> date | None:
    """The day after ``text`` when it is a bare ``YYYY-MM-DD``; None otherwise."""
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()  # noqa: DTZ007 - a date only
    except ValueError:
        return None
    return day + timedelta(days=1)


class LogsScreen(PagedListScreen):
    TITLE = "Logs"
    NOUN = ("event", "events")
    BINDINGS = [
        BACK,
        PagedListScreen.SEARCH,
        PagedListScreen.TO_TABLE,
        Binding("r", "focus_range", "Range", id="range"),
        PagedListScreen.NEXT,
        PagedListScreen.PREVIOUS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.shown_range = ""  # the range of the rows on screen, in words
        self.range_invalid = False  # From/To hold an error: the rows are of shown_range

    def compose(self) -> ComposeResult:
        options = [(PRESET_LABELS[p], p) for p in PRESETS] + [("Custom range", CUSTOM)]
        yield Header()
        with Vertical(classes="paged-page"):
            with Horizontal(classes="paged-bar"):
                yield Select(options, value="last7", allow_blank=False, compact=True, id="preset")
                yield TextInput(
                    placeholder="Search user, source, event, description  ( / )",
                    id="search",
                    compact=True,
                )
            with Horizontal(id="custom-range"):
                yield Field("From (YYYY-MM-DD)", TextInput(id="from"), name="from")
                yield Field("To (YYYY-MM-DD, included)", TextInput(id="to"), name="to")
            yield from self.compose_list()
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()

    # -- the date range -----------------------------------------------------------------

    @property
    def preset(self) -> str:
        return self.query_one("#preset", Select).value

    def custom_range(self) -> tuple[int | None, int | None]:
        """The From/To inputs as ``(since, until)``; errors are shown under the fields."""
        bounds: dict[str, int | None] = {"from": None, "to": None}
        failed = False
        for name in ("from", "to"):
            text = self.query_one(f"#{name}", Input).value.strip()
            field = self.field(name)
            if not text:
                field.clear_error()
                continue
            try:
                value = parse_date(text, name)
                if name == "to" and (day := _day_after(text)) is not None:
                    # "To 2023-11-14" means up to the end of that day.
                    value = parse_date(day.isoformat(), name)
            except ValidationError as exc:
                field.show_error(exc.message)
                failed = True
            except OverflowError:  # 9999-12-31 has no next day: no end at all
                field.clear_error()
            else:
                field.clear_error()
                bounds[name] = value
        if failed:
            raise ValidationError("range", "")
        since, until = bounds["from"], bounds["to"]
        if since is not None and until is not None and since >= until:
            self.field("to").show_error("The end of the range is before its start.")
            raise ValidationError("to", "")
        return since, until

    def request(self) -> dict | None:
        preset = self.preset
        if preset == CUSTOM:
            try:
                since, until = self.custom_range()
            except ValidationError:
                self.range_invalid = True
                return None
        else:
            since, until = preset_range(preset, self.service.now())
        self.range_invalid = False
        self.shown_range = self.range_words()
        return {"since": since, "until": until, "search": self.search_text}

    @on(Select.Changed, "#preset")
    def preset_changed(self, event: Select.Changed) -> None:
        custom = event.value == CUSTOM
        self.query_one("#custom-range").set_class(custom, "-shown")
        if custom:
            start = self.query_one("#from", Input)
            end = self.query_one("#to", Input)
            if not start.value and not end.value:
                # Start from the range shown until now, so the user only adjusts it.
                today = datetime.fromtimestamp(self.service.now()).date()
                start.value = (today - timedelta(days=6)).isoformat()
                end.value = today.isoformat()
        self.clear_errors()
        self.first_page()
        if custom:
            self.set_focus(self.query_one("#from", Input))  # where the next keys belong

    @on(Input.Changed, "#from, #to")
    def range_typed(self) -> None:
        self.schedule_reload()

    @on(Input.Submitted, "#from, #to")
    def range_submitted(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.first_page()

    def action_focus_range(self) -> None:
        select = self.query_one("#preset", Select)
        select.focus()
        select.expanded = True

    # -- the query and its rows ---------------------------------------------------------

    def fetch(self, request: dict, offset: int, limit: int) -> Page[LogEntry]:
        return self.service.logs(self.app.user, offset=offset, limit=limit, **request)

    def load_failed(self, exc: KopituiError) -> None:
        if isinstance(exc, ValidationError) and exc.field in RANGE_FIELDS:
            self.field(RANGE_FIELDS[exc.field]).show_error(exc.message)
        else:
            super().load_failed(exc)

    def columns(self) -> list[tuple[str, str | Text]]:
        return [
            ("time", "Time"),
            ("user", "User"),
            ("source", "Source"),
            ("event", "Event"),
            ("description", "Description"),
        ]

    def cells(self, entry: LogEntry) -> list[Text | str]:
        return [
            short_time(entry.at, seconds=True),
            cell(entry.username, 16),
            cell(entry.source, 8),
            cell(entry.event, 22),
            cell(entry.description, 80),
        ]

    def range_words(self) -> str:
        preset = self.preset
        if preset == CUSTOM:
            start = self.query_one("#from", Input).value.strip() or "the start"
            end = self.query_one("#to", Input).value.strip() or "now"
            return f"{start} to {end}"
        return PRESET_LABELS.get(preset, "")

    def status_suffix(self) -> str:
        # The range of the rows shown: while From/To hold an error, the last good one.
        shown = self.shown_range or self.range_words()
        if self.range_invalid:
            return f" · {shown} (not updated)"
        return f" · {shown}"

    def empty_message(self) -> str:
        text = self.search_text.strip()
        if text:
            return f"No event matches {text!r} in {self.range_words()}."
        return f"No events in {self.range_words()}."

    def detail(self, entry: LogEntry) -> str:
        who = entry.username if entry.username is not None else "the service"
        return f"{entry.event} · {who} · {entry.source}\n{entry.description}"
