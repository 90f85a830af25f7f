"""Token List: the tokens a user may see, one page at a time, with Disable/Enable and Delete.

Only one page (``PAGE_SIZE`` rows) is ever in the widgets: searching, sorting and paging
are queries to the service, so the list stays smooth with 100,000 tokens. The paging
machinery (:class:`PagedListScreen`) is shared with the Logs page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static

from ...service import Page, TokenRecord
from ...service.errors import KopituiError, PermissionDenied, ValidationError
from ..format import when
from ..widgets.confirm import ConfirmModal
from ..widgets.fields import TextInput
from .base import BACK, FormScreen

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def inert_text(value: object) -> str:
    """Outside text made harmless to show: control characters (ESC…) become �."""
    text = "—" if value is None else str(value)
    return "".join(ch if ch.isprintable() else REPLACEMENT for ch in text)


def cell(value: object, max_width: int | None = None) -> Text:
    """A table cell from outside text: plain ``Text``, so ``[red]`` is never markup."""
    text = Text(inert_text(value), no_wrap=True, end="")
    if max_width is not None and text.cell_len > max_width:
        text.truncate(max_width, overflow="ellipsis")
    return text


def short_time(timestamp: int | None, *, seconds: bool = False) -> str:
    """Compact local time for tables: ``YYYY-MM-DD HH:MM`` (``:SS`` with ``seconds``)."""
    if timestamp is None:
        return "—"
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    try:
        utc = datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, ValueError, OSError):
        return str(timestamp)
    try:
        return utc.astimezone().strftime(fmt)
    except (OverflowError, ValueError, OSError):  # near year 9999 local time may not exist
        return utc.strftime(fmt)


class PagedTable(DataTable):
    """A table holding one page of a longer list. Moving past its last (or first) row
    asks the screen for the next (or previous) page instead of stopping."""

    # Home and End go to the first and last row (DataTable's own scroll sideways in a
    # row-cursor table; left and right still do that).
    BINDINGS = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
    ]

    class PageEdge(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageEdge(1))
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row <= 0:
            self.post_message(self.PageEdge(-1))
        else:
            super().action_cursor_up()


class PagedListScreen(FormScreen):
    """A searchable list loaded a page at a time in a worker thread.

    Subclasses say what to ask for (:meth:`request`, on the UI thread), how to fetch it
    (:meth:`fetch`, in the worker) and how to show it (:meth:`columns`, :meth:`cells`…).
    """

    CSS_PATH = "../css/lists.tcss"

    # Three screens' worth at 24 rows: more rows than that only cost drawing time.
    PAGE_SIZE = 50
    SEARCH_DELAY = 0.2
    NOUN = ("row", "rows")

    NEXT = Binding("n", "next_page", "Next", tooltip="Next page", id="next_page")
    PREVIOUS = Binding("p", "previous_page", "Prev", tooltip="Previous page", id="previous_page")
    # Not in the footer (it is full): the search box's placeholder shows the key. A
    # priority binding, so text typed right behind / lands in the box (see FormScreen).
    SEARCH = Binding("slash", "focus_search", "Search", show=False, id="search", priority=True)
    # From the search box (or any input), down goes into the list.
    TO_TABLE = Binding("down", "focus_table", "To the list", show=False, id="focus_table")

    def __init__(self) -> None:
        super().__init__()
        self.page_offset = 0
        self.total = 0
        self.rows: list = []
        self.loaded = False
        self._generation = 0
        self._timer: Timer | None = None

    # -- what subclasses provide ---------------------------------------------------------

    def request(self) -> dict | None:
        """The query as the widgets describe it now; None when the input is not valid."""
        return {}

    def fetch(self, request: dict, offset: int, limit: int) -> Page:
        raise NotImplementedError

    def columns(self) -> list[tuple[str, str | Text]]:
        raise NotImplementedError

    def cells(self, row) -> list[Text | str]:
        raise NotImplementedError

    def row_key(self, row) -> str:
        return str(row.id)

    def empty_message(self) -> str:
        return f"No {self.NOUN[1]}."

    def status_suffix(self) -> str:
        return ""

    def detail(self, row) -> str:
        return ""

    def load_failed(self, exc: KopituiError) -> None:
        self.notify(str(exc), severity="warning", markup=False)

    # -- widgets ----------------------------------------------------------------------

    def compose_list(self) -> ComposeResult:
        yield Static("", id="paged-status", markup=False)
        yield PagedTable(id="paged-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="paged-empty", markup=False)
        yield Static("", id="paged-detail", markup=False)

    @property
    def table(self) -> PagedTable:
        return self.query_one("#paged-table", PagedTable)

    @property
    def search_text(self) -> str:
        return self.query_one("#search", Input).value

    def selected(self):
        """The row under the cursor, or None."""
        try:
            row = self.table.cursor_row
        except NoMatches:  # asked before the table exists (check_action at compose)
            return None
        return self.rows[row] if self.rows and 0 <= row < len(self.rows) else None

    # -- loading ----------------------------------------------------------------------

    def schedule_reload(self) -> None:
        """Reload from the first page once typing pauses."""
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.SEARCH_DELAY, self.first_page)

    def first_page(self) -> None:
        self.page_offset = 0
        self.reload()

    def reload(self, keep_row: int = 0, keep_key: str | None = None) -> None:
        """Load the page at ``self.page_offset``. The cursor goes to the row keyed
        ``keep_key`` if the page holds it (a re-sort may have moved it), else to row
        ``keep_row`` (-1: the last)."""
        request = self.request()
        if request is None:
            # The rows stay as they were; the status line says they are not what is typed.
            if self.loaded:
                self.query_one("#paged-status", Static).update(self.status_line())
            return
        self._generation += 1
        self.load(request, self.page_offset, (keep_row, keep_key), self._generation)

    @work(thread=True, exclusive=True, group="page")
    def load(self, request: dict, offset: int, keep: tuple, generation: int) -> None:
        try:
            page = self.fetch(request, offset, self.PAGE_SIZE)
        except KopituiError as exc:
            self.app.call_from_thread(self._failed, exc, generation)
        else:
            self.app.call_from_thread(self.show_page, page, keep, generation)

    def _failed(self, exc: KopituiError, generation: int) -> None:
        if generation == self._generation and self.is_attached:
            self.load_failed(exc)

    def show_page(self, page: Page, keep: tuple, generation: int) -> None:
        # A newer query was sent meanwhile, or the page was left: this answer is stale.
        if generation != self._generation or not self.is_attached:
            return
        keep_row, keep_key = keep
        if not page.rows and page.total and page.offset > 0:
            # Rows went away (deleted) and this page emptied: show the last one instead.
            self.page_offset = (page.total - 1) // self.PAGE_SIZE * self.PAGE_SIZE
            self.reload(-1)
            return
        self.rows, self.total, self.page_offset = list(page.rows), page.total, page.offset
        table = self.table
        table.clear(columns=True)
        for key, label in self.columns():
            table.add_column(label, key=key)
        for row in self.rows:
            table.add_row(*self.cells(row), key=self.row_key(row))
        if self.rows:
            target = len(self.rows) - 1 if keep_row < 0 else min(keep_row, len(self.rows) - 1)
            keys = [self.row_key(row) for row in self.rows]
            if keep_key in keys:
                target = keys.index(keep_key)
            table.move_cursor(row=target, column=0, animate=False)
        table.display = bool(self.rows)
        empty = self.query_one("#paged-empty", Static)
        empty.update("" if self.rows else self.empty_message())
        empty.display = not self.rows
        self.query_one("#paged-status", Static).update(self.status_line())
        self.show_detail()
        self.loaded = True
        self.refresh_bindings()

    def status_line(self) -> str:
        singular, plural = self.NOUN
        if self.total == 0:
            words = f"0 {plural}"
        elif self.total <= self.PAGE_SIZE:
            words = f"{self.total} {singular if self.total == 1 else plural}"
        else:
            last = self.page_offset + len(self.rows)
            page = self.page_offset // self.PAGE_SIZE + 1
            pages = (self.total - 1) // self.PAGE_SIZE + 1
            words = f"rows {self.page_offset + 1}–{last} of {self.total}, page {page}/{pages}"
        return words + self.status_suffix()

    def show_detail(self) -> None:
        row = self.selected()
        text = self.detail(row) if row is not None else ""
        lines = (inert_text(line) for line in text.split("\n"))
        self.query_one("#paged-detail", Static).update("\n".join(lines))

    @on(DataTable.RowHighlighted, "#paged-table")
    def row_highlighted(self) -> None:
        self.show_detail()
        self.refresh_bindings()

    # -- paging and search ------------------------------------------------------------

    def has_next(self) -> bool:
        return self.page_offset + len(self.rows) < self.total

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("next_page", "previous_page"):
            if self.total <= self.PAGE_SIZE and self.page_offset == 0:
                return False  # one page: the keys would only be noise in the footer
            possible = self.has_next() if action == "next_page" else self.page_offset > 0
            return True if possible else None
        return True

    def action_next_page(self) -> None:
        if self.has_next():
            self.page_offset += self.PAGE_SIZE
            self.reload(0)

    def action_previous_page(self) -> None:
        if self.page_offset > 0:
            self.page_offset = max(0, self.page_offset - self.PAGE_SIZE)
            self.reload(-1 if self.table.cursor_row <= 0 else 0)

    @on(PagedTable.PageEdge)
    def page_edge(self, event: PagedTable.PageEdge) -> None:
        if event.step > 0:
            self.action_next_page()
        else:
            self.action_previous_page()

    def action_focus_search(self) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()  # typing a / into a field
        self.set_focus(self.query_one("#search", Input))

    def action_focus_table(self) -> None:
        if self.rows:
            self.table.focus()

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self.schedule_reload()

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.first_page()
        self.table.focus()


SORT_ORDER = ("name", "type", "created", "expires", "status", "username")
SORT_LABELS = {
    "name": "Name",
    "type": "Type",
    "created": "Created",
    "expires": "Expiration Date",
    "status": "Status",
    "username": "Username",
}


class TokenListScreen(PagedListScreen):
    TITLE = "Token List"
    NOUN = ("token", "tokens")
    BINDINGS = [
        BACK,
        PagedListScreen.SEARCH,
        PagedListScreen.TO_TABLE,
        Binding("d", "disable", "Disable", id="disable"),
        Binding("d", "enable", "Enable", id="enable"),
        Binding("x,delete", "delete", "Delete", id="delete"),
        Binding("s", "cycle_sort", "Sort", id="sort"),
        # Not in the footer (no room at 80 columns): the status line names it.
        Binding("r", "reverse_sort", "Reverse", show=False, id="reverse_sort"),
        PagedListScreen.NEXT,
        PagedListScreen.PREVIOUS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "created"
        self.descending = True

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="paged-page"):
            with Horizontal(classes="paged-bar"):
                yield TextInput(
                    placeholder="Search name, user, type or status  ( / )",
                    id="search",
                    compact=True,
                )
            yield from self.compose_list()
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()

    # -- the query and its rows ---------------------------------------------------------

    def request(self) -> dict | None:
        return {"search": self.search_text, "sort": self.sort, "descending": self.descending}

    def fetch(self, request: dict, offset: int, limit: int) -> Page[TokenRecord]:
        return self.service.list_tokens(
            self.app.user, all_users=True, offset=offset, limit=limit, **request
        )

    def columns(self) -> list[tuple[str, str | Text]]:
        arrow = " ▼" if self.descending else " ▲"
        result = []
        for key, label in (*SORT_LABELS.items(), ("fingerprint", "Fingerprint")):
            result.append((key, label + arrow if key == self.sort else label))
        return result

    def cells(self, record: TokenRecord) -> list[Text | str]:
        return [
            cell(record.name, 20),
            record.type_label,
            short_time(record.created_at),
            "No Expiration" if record.expires_at is None else short_time(record.expires_at),
            Text(record.status, style=self.status_style(record.status)),
            cell(record.username, 14),
            cell(record.short_fingerprint),
        ]

    def status_style(self, status: str) -> str:
        theme = self.app.current_theme
        colour = {
            "Active": theme.success,
            "Expired": theme.warning,
            "Stale": theme.warning,  # a Basic token made with an old password
            "Disabled": theme.error,
            "Retired": theme.error,  # its signing key was retired: it can never verify
        }
        return colour.get(status) or ""

    def status_suffix(self) -> str:
        arrow = "▼" if self.descending else "▲"
        return f" · sorted by {SORT_LABELS[self.sort]} {arrow} (r reverses)"

    def empty_message(self) -> str:
        text = self.search_text.strip()
        if text:
            return f"No token matches {text!r}."
        return "No tokens yet — press escape, then j to generate one."

    def detail(self, record: TokenRecord) -> str:
        expires = "No Expiration" if record.expires_at is None else when(record.expires_at)
        return (
            f"{record.name} — {record.type_label} of {record.username} · "
            f"fingerprint {record.short_fingerprint}\n"
            f"Created {when(record.created_at)} · Expires {expires}"
        )

    # -- actions ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("disable", "enable", "delete"):
            record = self.selected()
            if record is None:
                return False
            if action == "disable":
                return record.status not in ("Disabled", "Retired")
            if action == "enable":
                return record.status == "Disabled"  # a Retired token can never verify again
            return True
        return super().check_action(action, parameters)

    def action_disable(self) -> None:
        if (record := self.selected()) is not None:
            self.change(record, "disable")

    def action_enable(self) -> None:
        if (record := self.selected()) is not None:
            self.change(record, "enable")

    def action_delete(self) -> None:
        record = self.selected()
        if record is None:
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.change(record, "delete")

        self.app.push_screen(
            ConfirmModal(
                f"Delete token {record.name!r} of {record.username}? It stops working at once.",
                title="Delete token",
                confirm_label="Delete",
            ),
            answered,
        )

    @work(thread=True, exclusive=True, group="change")
    def change(self, record: TokenRecord, what: str) -> None:
        user = self.app.user
        try:
            if what == "delete":
                self.service.delete_token(user, record.id)
            else:
                self.service.set_token_enabled(user, record.id, what == "enable")
        except (PermissionDenied, ValidationError) as exc:
            self.app.call_from_thread(self.changed, record, str(exc), "warning")
        except KopituiError as exc:
            self.app.call_from_thread(self.changed, record, str(exc), "error")
        else:
            done = {"delete": "deleted", "enable": "enabled", "disable": "disabled"}[what]
            message = f"Token {record.name!r} of {record.username} {done}."
            self.app.call_from_thread(self.changed, record, message, "information")

    def changed(self, record: TokenRecord, message: str, severity: str) -> None:
        self.notify(message, severity=severity, markup=False)
        if self.is_attached:
            # The cursor stays on that token, wherever its new status sorts it.
            self.reload(keep_row=max(0, self.table.cursor_row), keep_key=self.row_key(record))

    # -- sorting ------------------------------------------------------------------------

    def sort_by(self, key: str, descending: bool) -> None:
        self.sort, self.descending = key, descending
        self.first_page()

    def action_cycle_sort(self) -> None:
        key = SORT_ORDER[(SORT_ORDER.index(self.sort) + 1) % len(SORT_ORDER)]
        self.sort_by(key, key == "created")  # newest first; other columns A→Z

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort, not self.descending)

    @on(DataTable.HeaderSelected, "#paged-table")
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key not in SORT_LABELS:
            self.notify("The list cannot be sorted by fingerprint.", markup=False)
        elif key == self.sort:
            self.action_reverse_sort()
        else:
            self.sort_by(key, key == "created")
