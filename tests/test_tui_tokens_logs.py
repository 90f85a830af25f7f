"""Token List and Logs through the Pilot: who sees what, search, sort, paging, disable,
enable, delete (confirm and cancel), date presets, custom ranges and inert log text."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

import pytest
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, OptionList, Select, Static

from kopitui.service import validation
from kopitui.tui.screens.home import HomeScreen
from kopitui.tui.screens.logs import LogsScreen
from kopitui.tui.screens.tokens import TokenListScreen
from kopitui.tui.widgets.confirm import ConfirmModal

from support import FROZEN_NOW, settle, sign_in, type_text

SIZE = (80, 24)
BOB_PASSWORD = "bob's long password"
DAY = 86400


# -- helpers ------------------------------------------------------------------------------


async def open_page(pilot, key: str) -> None:
    await pilot.press(key)
    await settle(pilot)


@asynccontextmanager
async def on_page(make_app, key: str):
    """A fresh app at SIZE, signed in as the admin, on the page ``key`` opens."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await open_page(pilot, key)
        yield app, pilot, app.screen


async def after_typing(pilot) -> None:
    """Let the search debounce fire, then the query worker finish."""
    await pilot.pause(TokenListScreen.SEARCH_DELAY + 0.1)
    await settle(pilot)


def column(screen, index: int) -> list[str]:
    """What the table shows in one column, top to bottom."""
    table = screen.query_one(DataTable)
    return [str(table.get_cell_at(Coordinate(row, index))) for row in range(table.row_count)]


def status(screen) -> str:
    return str(screen.query_one("#paged-status", Static).content)


def empty_text(screen) -> str:
    return str(screen.query_one("#paged-empty", Static).content)


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


def seed_tokens(
    service, user_id: int, count: int, *, prefix: str = "tok", start: int = FROZEN_NOW - DAY
) -> None:
    """``count`` JWT records straight into the store (one executemany, not ``count``
    issues): token ``i`` is created at ``start + i`` and expires a day later."""
    rows = [
        (
            f"{prefix}-jti-{user_id}-{i}",
            f"{prefix}-{i:06d}",
            validation.name_key(f"{prefix}-{i:06d}"),
            "jwt",
            user_id,
            start + i,
            start + i + DAY,
            "active",
            f"{i:064x}",
            "seed",
        )
        for i in range(count)
    ]
    with service.store.transaction() as conn:
        conn.executemany(
            "INSERT INTO tokens (jti, name, name_key, kind, user_id, created_at, expires_at, "
            "status, fingerprint, kid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def audit_at(service, at: int, description: str, *, username="admin", event="test_event"):
    with service.store.transaction() as conn:
        conn.execute(
            "INSERT INTO audit_log (at, username, source, event, description) "
            "VALUES (?, ?, 'test', ?, ?)",
            (at, username, event, description),
        )


def stored_status(service, name: str) -> str:
    return service.store.read("SELECT status FROM tokens WHERE name = ?", (name,))[0][0]


@pytest.fixture
def bob(service, admin):
    return service.add_user(admin, "bob", BOB_PASSWORD, role="user")


# -- Token List ---------------------------------------------------------------------------


async def test_user_sees_own_tokens_admin_sees_everyones(make_app, service, admin, bob):
    service.issue_jwt(admin, "terraform", 60)
    service.issue_jwt(admin, "backup", 60)
    service.issue_jwt(bob, "bob-ci", 60)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "bob", BOB_PASSWORD)
        await open_page(pilot, "l")
        screen = app.screen
        assert isinstance(screen, TokenListScreen)
        assert column(screen, 0) == ["bob-ci"]
        assert column(screen, 5) == ["bob"]
        assert status(screen).startswith("1 token ·")
        await pilot.press("escape", "s")  # back home, sign out
        await settle(pilot)
        await sign_in(pilot)
        await open_page(pilot, "l")
        screen = app.screen
        assert sorted(column(screen, 0)) == ["backup", "bob-ci", "terraform"]
        assert sorted(column(screen, 5)) == ["admin", "admin", "bob"]
        assert status(screen).startswith("3 tokens ·")


async def test_columns_show_type_dates_status_and_fingerprint(make_app, service, admin, bob):
    jwt_token = service.issue_jwt(admin, "forever", 0)
    service.issue_basic("bob", BOB_PASSWORD)
    service.change_password(bob, BOB_PASSWORD, "bob's newer password", "bob's newer password")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await open_page(pilot, "l")
        table = app.screen.query_one(DataTable)
        labels = [str(c.label) for c in table.ordered_columns]
        assert labels == [
            "Name",
            "Type",
            "Created ▼",
            "Expiration Date",
            "Status",
            "Username",
            "Fingerprint",
        ]
        rows = {table.get_row_at(i)[0].plain: table.get_row_at(i) for i in range(2)}
        forever = [str(v) for v in rows["forever"]]
        assert forever == [
            "forever",
            "JWT",
            "2023-11-14 22:13",
            "No Expiration",
            "Active",
            "admin",
            jwt_token.fingerprint[:12],
        ]
        basic = [str(v) for v in rows["Basic bob"]]
        assert basic[1] == "Basic" and basic[5] == "bob" and basic[6] == "—"
        assert basic[4] == "Stale"  # made with bob's old password
        # Rows are keyed by token id.
        ids = {r["name"]: r["id"] for r in service.store.read("SELECT id, name FROM tokens")}
        assert table.get_row(str(ids["forever"]))[0].plain == "forever"


async def test_empty_list_says_how_to_make_a_token(make_app, admin):
    async with on_page(make_app, "l") as (app, pilot, screen):
        assert empty_text(screen) == "No tokens yet — press escape, then j to generate one."
        assert screen.query_one("#paged-empty").display
        assert not screen.query_one(DataTable).display
        await pilot.press("d", "x")  # nothing to act on: no modal, no error
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_search_filters_as_you_type(make_app, service, admin, bob):
    service.issue_jwt(admin, "terraform", 60)
    service.issue_jwt(admin, "ci-deploy", 60)
    service.issue_jwt(bob, "backup", 60)
    disabled = service.list_tokens(admin, search="ci-deploy").rows[0]
    service.set_token_enabled(admin, disabled.id, False)
    async with on_page(make_app, "l") as (app, pilot, screen):
        await pilot.press("slash")
        assert app.focused.id == "search"
        await type_text(pilot, "TERRA")
        await after_typing(pilot)
        assert column(screen, 0) == ["terraform"]
        assert status(screen).startswith("1 token ·")
        await pilot.press("down")  # into the list, where d and x act on the row
        assert app.focused is screen.query_one(DataTable)
        assert "d" in screen.active_bindings
        await pilot.press("slash")
        search = screen.query_one("#search", Input)
        for text, expected in [
            ("bob", ["backup"]),  # the user
            ("disabled", ["ci-deploy"]),  # the status
            ("jwt", ["backup", "ci-deploy", "terraform"]),  # the type
        ]:
            search.value = text
            await after_typing(pilot)
            assert sorted(column(screen, 0)) == expected, text
        search.value = "zzz"
        await after_typing(pilot)
        assert empty_text(screen) == "No token matches 'zzz'."
        assert not screen.query_one(DataTable).display
        # Enter searches at once and hands the keys back to the table.
        search.value = ""
        await pilot.press("enter")
        await settle(pilot)
        assert len(column(screen, 0)) == 3
        assert app.focused is screen.query_one(DataTable)


async def test_sort_changes_order(make_app, service, admin, bob):
    # Created in this order: charlie (oldest), alpha, bravo (newest).
    made = [(-300, "charlie", admin), (-200, "alpha", bob), (-100, "bravo", admin)]
    for offset, name, owner in made:
        service._clock = lambda o=offset: FROZEN_NOW + o
        service.issue_jwt(owner, name, 60)
    service._clock = lambda: FROZEN_NOW
    async with on_page(make_app, "l") as (app, pilot, screen):
        assert column(screen, 0) == ["bravo", "alpha", "charlie"]  # newest first
        await pilot.press("s")  # the next column: Expiration Date, soonest first
        await settle(pilot)
        assert column(screen, 0) == ["charlie", "alpha", "bravo"]
        assert "sorted by Expiration Date ▲" in status(screen)
        await pilot.press("s", "s", "s")  # Status, Username, then round to Name, A→Z
        await settle(pilot)
        assert column(screen, 0) == ["alpha", "bravo", "charlie"]
        assert "sorted by Name ▲" in status(screen)
        assert str(screen.query_one(DataTable).ordered_columns[0].label) == "Name ▲"
        await pilot.press("r")
        await settle(pilot)
        assert column(screen, 0) == ["charlie", "bravo", "alpha"]
        # Selecting the Username header sorts by it; selecting it again reverses.
        table = screen.query_one(DataTable)
        key = table.ordered_columns[5].key
        table.post_message(DataTable.HeaderSelected(table, key, 5, Text("Username")))
        await settle(pilot)
        assert column(screen, 5) == ["admin", "admin", "bob"]
        table.post_message(DataTable.HeaderSelected(table, key, 5, Text("Username")))
        await settle(pilot)
        assert column(screen, 5) == ["bob", "admin", "admin"]


async def test_paging_through_125_tokens(make_app, service, admin):
    seed_tokens(service, admin.id, 125)
    async with on_page(make_app, "l") as (app, pilot, screen):
        table = screen.query_one(DataTable)
        assert TokenListScreen.PAGE_SIZE == 50
        assert table.row_count == 50
        assert status(screen).startswith("rows 1–50 of 125")
        assert column(screen, 0)[0] == "tok-000124"  # newest first
        assert "n" in screen.active_bindings and "p" in screen.active_bindings
        await pilot.press("n")
        await settle(pilot)
        assert status(screen).startswith("rows 51–100 of 125")
        assert column(screen, 0)[0] == "tok-000074"
        await pilot.press("n")
        await settle(pilot)
        assert status(screen).startswith("rows 101–125 of 125")
        assert table.row_count == 25
        assert column(screen, 0)[-1] == "tok-000000"
        await pilot.press("n")  # no further page
        await settle(pilot)
        assert status(screen).startswith("rows 101–125 of 125")
        await pilot.press("p")
        await settle(pilot)
        assert status(screen).startswith("rows 51–100 of 125")
        # Moving down past the last row loads the next page, cursor on its first row.
        table.move_cursor(row=49)
        await pilot.pause()
        await pilot.press("down")
        await settle(pilot)
        assert status(screen).startswith("rows 101–125 of 125")
        assert table.cursor_row == 0
        # And up past the first row goes back, cursor on the last row.
        await pilot.press("up")
        await settle(pilot)
        assert status(screen).startswith("rows 51–100 of 125")
        assert table.cursor_row == 49
        assert column(screen, 0)[table.cursor_row] == "tok-000025"


async def test_one_page_has_no_paging_keys(make_app, service, admin):
    seed_tokens(service, admin.id, 3)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        await open_page(pilot, "l")
        bindings = app.screen.active_bindings
        assert "n" not in bindings and "p" not in bindings
        assert bindings["d"].binding.description == "Disable"


async def test_disable_then_enable(make_app, service, admin):
    issued = service.issue_jwt(admin, "terraform", 60)
    async with on_page(make_app, "l") as (app, pilot, screen):
        assert app.screen.active_bindings["d"].binding.description == "Disable"
        await pilot.press("d")
        await settle(pilot)
        assert column(screen, 4) == ["Disabled"]
        assert stored_status(service, "terraform") == "disabled"
        assert service.verify(issued.header_value).code == "disabled"
        assert "Token 'terraform' of admin disabled." in notices(app)
        # The key now says what it will do.
        assert app.screen.active_bindings["d"].binding.description == "Enable"
        await pilot.press("d")
        await settle(pilot)
        assert column(screen, 4) == ["Active"]
        assert stored_status(service, "terraform") == "active"
        assert service.verify(issued.header_value).code == "valid"
        assert "Token 'terraform' of admin enabled." in notices(app)


async def test_the_cursor_stays_on_the_token_a_re_sort_moves(make_app, service, admin):
    for name in ("alpha", "bravo", "charlie"):
        service.issue_jwt(admin, name, 60)
    async with on_page(make_app, "l") as (app, pilot, screen):
        screen.sort_by("status", False)  # Active before Disabled
        await settle(pilot)
        screen.table.move_cursor(row=column(screen, 0).index("bravo"))
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
        # Disabled now sorts last: the cursor went with the token, so a second d
        # enables it again instead of disabling a neighbour.
        assert column(screen, 0)[-1] == "bravo"
        assert screen.selected().name == "bravo"
        await pilot.press("d")
        await settle(pilot)
        assert [stored_status(service, n) for n in ("alpha", "bravo", "charlie")] == [
            "active",
            "active",
            "active",
        ]
        assert screen.selected().name == "bravo"


async def test_a_retired_keys_tokens_are_listed_retired_and_not_offered_enable(
    make_app, service, admin
):
    service.issue_jwt(admin, "old-key", 60)
    old_kid, _ = service.current_key()
    service.rotate_key(admin)
    service.issue_jwt(admin, "new-key", 60)
    service.retire_key(admin, old_kid)
    async with on_page(make_app, "l") as (app, pilot, screen):
        statuses = dict(zip(column(screen, 0), column(screen, 4), strict=True))
        assert statuses == {"new-key": "Active", "old-key": "Retired"}
        screen.table.move_cursor(row=column(screen, 0).index("old-key"))
        await pilot.pause()
        # Neither d (it can never verify again) nor its footer key; x still deletes.
        assert "d" not in screen.active_bindings or not screen.active_bindings["d"].enabled
        assert screen.active_bindings["x"].enabled


async def test_home_and_end_go_to_the_first_and_last_row(make_app, service, admin):
    seed_tokens(service, admin.id, 30)
    async with on_page(make_app, "l") as (app, pilot, screen):
        screen.table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert screen.table.cursor_row == 29
        await pilot.press("home")
        await pilot.pause()
        assert screen.table.cursor_row == 0


async def test_user_disables_own_token(make_app, service, admin, bob):
    issued = service.issue_jwt(bob, "bob-ci", 60)
    service.issue_jwt(admin, "admin-ci", 60)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "bob", BOB_PASSWORD)
        await open_page(pilot, "l")
        await pilot.press("d")
        await settle(pilot)
        assert column(app.screen, 4) == ["Disabled"]
    assert service.verify(issued.header_value).code == "disabled"
    assert stored_status(service, "admin-ci") == "active"


async def test_delete_after_confirmation(make_app, service, admin, bob):
    keep = service.issue_jwt(admin, "keep", 60)
    gone = service.issue_jwt(bob, "gone", 60)
    async with on_page(make_app, "l") as (app, pilot, screen):
        assert column(screen, 0) == ["gone", "keep"]
        await pilot.press("x")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        message = str(modal.query_one("#confirm-message", Static).content)
        assert message == "Delete token 'gone' of bob? It stops working at once."
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert column(screen, 0) == ["keep"]
        assert "Token 'gone' of bob deleted." in notices(app)
        # The delete key works too; enter confirms.
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("enter")
        await settle(pilot)
        assert empty_text(screen).startswith("No tokens yet")
    assert stored_status(service, "gone") == "deleted"
    assert service.verify(gone.header_value).code == "deleted"
    assert service.verify(keep.header_value).code == "deleted"


@pytest.mark.parametrize("cancel_key", ["escape", "n"])
async def test_delete_cancelled_changes_nothing(make_app, service, admin, cancel_key):
    issued = service.issue_jwt(admin, "terraform", 60)
    async with on_page(make_app, "l") as (app, pilot, screen):
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press(cancel_key)
        await settle(pilot)
        assert app.screen is screen  # the modal closed; the page stays
        assert column(screen, 0) == ["terraform"]
    assert stored_status(service, "terraform") == "active"
    assert service.verify(issued.header_value).code == "valid"


async def test_token_gone_meanwhile_is_a_warning_not_a_crash(make_app, service, admin):
    service.issue_jwt(admin, "first", 60)
    service.issue_jwt(admin, "second", 60)
    async with on_page(make_app, "l") as (app, pilot, screen):
        # Another process (the CLI) deletes the selected token behind the list's back.
        record = screen.selected()
        service.delete_token(admin, record.id, source="cli")
        await pilot.press("d")
        await settle(pilot)
        assert app.screen is screen
        assert "That token no longer exists." in notices(app)
        assert [n.severity for n in app._notifications][-1] == "warning"
        assert column(screen, 0) == ["first"]  # reloaded


async def test_token_list_with_100000_tokens(make_app, service, admin, bob):
    started = time.perf_counter()
    seed_tokens(service, admin.id, 60_000)
    seed_tokens(service, bob.id, 40_000, prefix="bob")
    seeded = time.perf_counter() - started
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot)
        started = time.perf_counter()
        await open_page(pilot, "l")
        opened = time.perf_counter() - started
        screen = app.screen
        table = screen.query_one(DataTable)
        assert table.row_count == TokenListScreen.PAGE_SIZE
        assert status(screen).startswith("rows 1–50 of 100000")
        assert column(screen, 0)[0] == "tok-059999"
        screen.query_one("#search", Input).value = "bob-039998"
        started = time.perf_counter()
        await after_typing(pilot)
        searched = time.perf_counter() - started - TokenListScreen.SEARCH_DELAY
        assert column(screen, 0) == ["bob-039998"]
        screen.query_one("#search", Input).value = "bob"
        await after_typing(pilot)
        assert status(screen).startswith("rows 1–50 of 40000")
        started = time.perf_counter()
        await pilot.press("s")  # sort 100 000 rows by name, in the database
        await settle(pilot)
        sorted_in = time.perf_counter() - started
        assert column(screen, 0)[0] == "bob-000000"
    print(
        f"\n100,000 tokens: seeded in {seeded:.2f} s; Token List opened in {opened:.2f} s; "
        f"search answered in {searched:.2f} s after the debounce; sort in {sorted_in:.2f} s"
    )


# -- Logs -----------------------------------------------------------------------------------


async def test_ordinary_user_cannot_open_logs(make_app, service, admin, bob):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "bob", BOB_PASSWORD)
        home = app.screen
        menu = [option.id for option in home.query_one("#menu", OptionList).options]
        assert "tokens" in menu and "logs" not in menu
        assert "l" in home.active_bindings and "g" not in home.active_bindings  # footer keys
        await pilot.press("g")
        await pilot.pause()
        assert app.screen is home
        app.action_open_page("logs")
        await pilot.pause()
        assert app.screen is home
        assert "Logs" not in [c.title for c in app.get_system_commands(app.screen)]


@pytest.fixture
def dated_events(service, admin):
    """Events at chosen dates around FROZEN_NOW (Tuesday 2023-11-14 22:13 UTC)."""
    events = {
        "ev-today": FROZEN_NOW - 3600,  # 2023-11-14
        "ev-yesterday": FROZEN_NOW - DAY,  # 2023-11-13
        "ev-5-days": FROZEN_NOW - 5 * DAY,  # 2023-11-09
        "ev-20-days": FROZEN_NOW - 20 * DAY,  # 2023-10-25
        "ev-40-days": FROZEN_NOW - 40 * DAY,  # 2023-10-05
        "ev-400-days": FROZEN_NOW - 400 * DAY,  # 2022-10-10
    }
    for description, at in events.items():
        audit_at(service, at, description)
    return events


def shown_events(screen) -> list[str]:
    return [text for text in column(screen, 4) if text.startswith("ev-")]


async def test_logs_presets_filter_by_date(make_app, service, admin, dated_events):
    async with on_page(make_app, "g") as (app, pilot, screen):
        assert isinstance(screen, LogsScreen)
        assert screen.query_one("#preset", Select).value == "last7"
        assert column(screen, 1)[0] == "admin" and column(screen, 3)[0] == "signin"
        assert shown_events(screen) == ["ev-today", "ev-yesterday", "ev-5-days"]  # newest first
        assert "Last 7 Days" in status(screen)
        # r opens the range list; escape closes it without leaving the page.
        await pilot.press("r")
        await pilot.pause()
        select = screen.query_one("#preset", Select)
        assert select.expanded
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and not select.expanded
        expected = {
            "today": ["ev-today"],
            "yesterday": ["ev-yesterday"],
            "last30": ["ev-today", "ev-yesterday", "ev-5-days", "ev-20-days"],
            "this_month": ["ev-today", "ev-yesterday", "ev-5-days"],
            "last_month": ["ev-20-days", "ev-40-days"],
            "all": list(dated_events),
        }
        for preset, events in expected.items():
            screen.query_one("#preset", Select).value = preset
            await settle(pilot)
            assert shown_events(screen) == events, preset


async def test_logs_custom_range_with_inline_errors(make_app, service, admin, dated_events):
    async with on_page(make_app, "g") as (app, pilot, screen):
        assert not screen.query_one("#custom-range").display
        screen.query_one("#preset", Select).value = "custom"
        await settle(pilot)
        assert screen.query_one("#custom-range").display
        start, end = screen.query_one("#from", Input), screen.query_one("#to", Input)
        assert (start.value, end.value) == ("2023-11-08", "2023-11-14")
        assert app.focused is start  # the next keys go where the range is typed
        assert shown_events(screen) == ["ev-today", "ev-yesterday", "ev-5-days"]
        start.value = "2023-13-01"
        await after_typing(pilot)
        assert screen.field("from").error.startswith("Enter a date as YYYY-MM-DD")
        assert shown_events(screen) == ["ev-today", "ev-yesterday", "ev-5-days"]  # unchanged
        # The status line names the range of the rows shown, and that it is not the typed one.
        assert status(screen).endswith("· 2023-11-08 to 2023-11-14 (not updated)")
        start.value = "2023-11-20"
        await after_typing(pilot)
        assert screen.field("from").error == ""
        assert screen.field("to").error == "The end of the range is before its start."
        start.value, end.value = "2023-10-01", "2023-10-25"  # To includes its whole day
        await after_typing(pilot)
        assert screen.field("to").error == ""
        assert shown_events(screen) == ["ev-20-days", "ev-40-days"]
        assert status(screen).endswith("· 2023-10-01 to 2023-10-25")
        end.value = ""  # open-ended: up to now
        await after_typing(pilot)
        assert shown_events(screen) == [
            "ev-today",
            "ev-yesterday",
            "ev-5-days",
            "ev-20-days",
            "ev-40-days",
        ]
        # Back to a preset: the custom fields go away, their errors with them.
        start.value = "nonsense"
        await after_typing(pilot)
        screen.query_one("#preset", Select).value = "all"
        await settle(pilot)
        assert not screen.query_one("#custom-range").display
        assert screen.field("from").error == ""
        assert len(shown_events(screen)) == 6


async def test_logs_search(make_app, service, admin, dated_events):
    async with on_page(make_app, "g") as (app, pilot, screen):
        await pilot.press("slash")
        await type_text(pilot, "yesterday")
        await after_typing(pilot)
        assert column(screen, 4) == ["ev-yesterday"]
        screen.query_one("#search", Input).value = "signin"  # the event column
        await after_typing(pilot)
        assert column(screen, 3) == ["signin"]
        screen.query_one("#search", Input).value = "no such thing"
        await after_typing(pilot)
        assert empty_text(screen) == "No event matches 'no such thing' in Last 7 Days."


async def test_logs_show_outside_text_inert(make_app, service, admin):
    # Rows written by something that did not clean their text (an older version, say).
    audit_at(service, FROZEN_NOW - 30, "failed", username="\x1b[31mevil[red]x")
    audit_at(service, FROZEN_NOW - 60, "cleared \x1b[2J[bold]screen\x07", username="\x1b]0;t\x07")
    async with on_page(make_app, "g") as (app, pilot, screen):
        table = screen.query_one(DataTable)
        cells = [table.get_row_at(i) for i in range(table.row_count)]
        assert all(isinstance(c, Text | str) for row in cells for c in row)
        users = column(screen, 1)
        assert "\ufffd[31mevil[red]x" in users
        assert "\ufffd]0;t\ufffd" in users
        assert "cleared \ufffd[2J[bold]screen\ufffd" in column(screen, 4)
        assert not any("\x1b" in str(c) or "\x07" in str(c) for row in cells for c in row)
        # The detail line under the table is inert too.
        table.move_cursor(row=users.index("\ufffd]0;t\ufffd"))
        await pilot.pause()
        detail = str(screen.query_one("#paged-detail", Static).content)
        assert detail.endswith("\ncleared \ufffd[2J[bold]screen\ufffd")
        # The markup is shown, not obeyed: the rendered screen holds the brackets.
        picture = app.export_screenshot()
        assert "[31mevil[red]x" in picture
        assert "[2J[bold]screen" in picture


async def test_logs_paging(make_app, service, admin):
    with service.store.transaction() as conn:
        conn.executemany(
            "INSERT INTO audit_log (at, username, source, event, description) "
            "VALUES (?, 'admin', 'test', 'test_event', ?)",
            [(FROZEN_NOW - 1000 + i, f"row {i}") for i in range(75)],
        )
    async with on_page(make_app, "g") as (app, pilot, screen):
        # 75 rows, plus the first administrator and this sign-in: 77 events in all.
        assert status(screen).startswith("rows 1–50 of 77")
        await pilot.press("n")
        await settle(pilot)
        assert status(screen).startswith("rows 51–77 of 77")
        assert column(screen, 4)[0] == "row 26"
        assert column(screen, 4)[-1] == "row 0"
