"""The audit log: date presets, dates typed by people, search, range, order, paging (issue 3)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kopitui.service import (
    AuthenticationError,
    LogEntry,
    Page,
    PermissionDenied,
    ValidationError,
)
from kopitui.service.logs import PRESET_LABELS, PRESETS, parse_date, preset_range

from helpers_core import FROZEN_NOW, PROPERTY, any_text
from support import ADMIN, ADMIN_PASSWORD

T = FROZEN_NOW  # 2023-11-14 22:13:20 UTC; 2023-11-15 03:43:20 in Kolkata (+05:30)
KOLKATA = ZoneInfo("Asia/Kolkata")
BERLIN = ZoneInfo("Europe/Berlin")
DAY = 86400

ANY_TEXT = any_text()


@pytest.fixture
def local_zone(monkeypatch):
    """Make the process's local zone ``name`` for one test (conftest pins TZ=UTC)."""

    def switch(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield switch
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


# -- presets --------------------------------------------------------------------------------


def test_presets_are_the_portals():
    assert PRESETS == ("today", "yesterday", "last7", "last30", "this_month", "last_month", "all")
    assert [PRESET_LABELS[p] for p in PRESETS] == [
        "Today",
        "Yesterday",
        "Last 7 Days",
        "Last 30 Days",
        "This Month",
        "Last Month",
        "All",
    ]


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("today", (1699920000, 1700006400)),  # 2023-11-14 .. 11-15 00:00 UTC
        ("yesterday", (1699833600, 1699920000)),  # 2023-11-13 .. 11-14
        ("last7", (1699401600, 1700006400)),  # 2023-11-08 .. 11-15
        ("last30", (1697414400, 1700006400)),  # 2023-10-16 .. 11-15
        ("this_month", (1698796800, 1700006400)),  # 2023-11-01 .. 11-15
        ("last_month", (1696118400, 1698796800)),  # 2023-10-01 .. 11-01
        ("all", (None, None)),
    ],
)
def test_preset_range_utc(preset, expected):
    assert preset_range(preset, T, tz=UTC) == expected


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        # In Kolkata it is already 2023-11-15; midnights are at 18:30 UTC the day before.
        ("today", (1699986600, 1700073000)),
        ("yesterday", (1699900200, 1699986600)),
        ("last7", (1699468200, 1700073000)),
        ("last30", (1697481000, 1700073000)),
        ("this_month", (1698777000, 1700073000)),
        ("last_month", (1696098600, 1698777000)),
        ("all", (None, None)),
    ],
)
def test_preset_range_kolkata(preset, expected):
    assert preset_range(preset, T, tz=KOLKATA) == expected


def test_preset_range_at_the_edges_of_a_day():
    midnight = 1699920000  # 2023-11-14 00:00:00 UTC
    assert preset_range("today", midnight, tz=UTC) == (midnight, midnight + DAY)
    assert preset_range("today", midnight - 1, tz=UTC) == (midnight - DAY, midnight)
    assert preset_range("yesterday", midnight, tz=UTC) == (midnight - DAY, midnight)


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        (UTC, (1701388800, 1704067200)),  # 2023-12-01 .. 2024-01-01 UTC
        (KOLKATA, (1701369000, 1704047400)),
    ],
)
def test_last_month_across_the_year_boundary(tz, expected):
    january = 1705320000  # 2024-01-15 12:00 UTC
    assert preset_range("last_month", january, tz=tz) == expected
    assert preset_range("this_month", january, tz=tz)[0] == expected[1]


def test_this_month_on_the_first_day_and_last_month_in_march():
    first = 1698796800  # 2023-11-01 00:00 UTC
    assert preset_range("this_month", first, tz=UTC) == (first, first + DAY)
    march = 1709294400  # 2024-03-01 12:00 UTC: February of a leap year has 29 days
    assert preset_range("last_month", march, tz=UTC) == (1706745600, 1709251200)


def test_presets_follow_daylight_saving_time():
    # Europe/Berlin: October in CEST (+02:00), November in CET (+01:00).
    assert preset_range("last_month", T, tz=BERLIN) == (1696111200, 1698793200)
    assert preset_range("last30", T, tz=BERLIN) == (1697407200, 1700002800)
    spring = 1679824800  # 2023-03-26 12:00 CEST, the day clocks went forward
    since, until = preset_range("today", spring, tz=BERLIN)
    assert (since, until) == (1679785200, 1679868000)
    assert until - since == 23 * 3600


def test_presets_in_the_local_zone_follow_daylight_saving_time(local_zone):
    # With no tz the local zone is used, and its rules for the dates in question, not
    # the offset it happens to have today.
    local_zone("Europe/Berlin")
    assert preset_range("last_month", T) == (1696111200, 1698793200)
    july = 1688990400  # 2023-07-10 12:00 UTC, CEST
    assert preset_range("today", july) == (1688940000, 1689026400)
    assert preset_range("this_month", july)[0] == 1688162400


def test_presets_in_the_local_zone(local_zone):
    local_zone("Asia/Kolkata")
    assert preset_range("yesterday", T) == (1699900200, 1699986600)


def test_unknown_preset():
    with pytest.raises(ValidationError) as info:
        preset_range("tomorrow", T, tz=UTC)
    assert info.value.field == "preset"
    assert "today" in info.value.message


ZONES = [UTC, KOLKATA, BERLIN, ZoneInfo("America/New_York"), ZoneInfo("America/St_Johns")]


@given(now=st.integers(0, 2**32), tz=st.sampled_from(ZONES))
def test_property_presets_are_local_midnights_around_now(now, tz):
    ranges = {p: preset_range(p, now, tz=tz) for p in PRESETS}
    assert ranges["all"] == (None, None)
    for preset, (since, until) in ranges.items():
        if preset == "all":
            continue
        assert since < until
        for edge in (since, until):
            assert datetime.fromtimestamp(edge, tz).time().isoformat() == "00:00:00", preset
    for preset in ("today", "last7", "last30", "this_month"):
        since, until = ranges[preset]
        assert since <= now < until
        assert until == ranges["today"][1]
    assert ranges["yesterday"][1] == ranges["today"][0]
    assert ranges["last_month"][1] == ranges["this_month"][0]
    assert datetime.fromtimestamp(ranges["this_month"][0], tz).day == 1
    assert datetime.fromtimestamp(ranges["last_month"][0], tz).day == 1
    assert ranges["last7"][0] <= ranges["yesterday"][0]
    today = datetime.fromtimestamp(now, tz).date()
    assert datetime.fromtimestamp(ranges["last7"][0], tz).date() == today - timedelta(days=6)
    assert datetime.fromtimestamp(ranges["last30"][0], tz).date() == today - timedelta(days=29)


# -- dates typed by people ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2023-11-14", UTC, 1699920000),
        ("  2023-11-14\n", UTC, 1699920000),
        ("2023-11-14 22:13", UTC, 1699999980),
        ("2023-11-14T22:13", UTC, 1699999980),
        ("2023-11-14 22:13:20", UTC, 1700000000),
        ("2023-11-15", KOLKATA, 1699986600),
        ("2023-11-15 03:43:20", KOLKATA, 1700000000),
        ("2023-07-01", BERLIN, 1688162400),  # CEST
        ("2023-01-01", BERLIN, 1672527600),  # CET
        ("1970-01-01", UTC, 0),
        ("2024-02-29", UTC, 1709164800),
    ],
)
def test_parse_date(text, tz, expected):
    assert parse_date(text, "since", tz=tz) == expected


def test_parse_date_in_the_local_zone(local_zone):
    local_zone("Europe/Berlin")
    assert parse_date("2023-07-01", "since") == 1688162400
    assert parse_date("2023-01-01", "since") == 1672527600


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "14/11/2023",
        "2023/11/14",
        "2023-13-01",
        "2023-02-30",
        "2023-02-29",
        "2023-11-14 25:00",
        "2023-11-14 22:61",
        "2023-11-14 22:13 UTC",
        "2023-11-14Z",
        "yesterday",
        "1700000000",
        "2023-11-14\x002",
        "2023-11-\ud800",
    ],
)
@pytest.mark.parametrize("field", ["since", "until"])
def test_parse_date_refusals(text, field):
    with pytest.raises(ValidationError) as info:
        parse_date(text, field, tz=UTC)
    assert (info.value.field, info.value.message) == (
        field,
        "Enter a date as YYYY-MM-DD (or YYYY-MM-DD HH:MM).",
    )


@given(text=ANY_TEXT, tz=st.sampled_from([UTC, KOLKATA, ZoneInfo("Pacific/Kiritimati")]))
def test_property_parse_date_answers_or_raises_validation_error(text, tz):
    try:
        value = parse_date(text, "since", tz=tz)
    except ValidationError as exc:
        assert exc.field == "since"
        return
    assert isinstance(value, int)


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31 23:59"])
@pytest.mark.parametrize("tz", [UTC, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")])
def test_parse_date_at_the_ends_of_the_calendar(text, tz):
    try:
        value = parse_date(text, "until", tz=tz)
    except ValidationError as exc:
        assert exc.field == "until"
    else:
        assert isinstance(value, int)


# -- reading the log ------------------------------------------------------------------------


@pytest.fixture
def log(service, admin, at):
    """The admin fixture's line (id 1, at T) and five more at known times."""
    at(T - 2 * DAY).audit("signin", "bob", "Signed in", "tui")
    at(T - DAY).audit("token_generated", "bob", "JWT 'ci' (never expires)", "cli")
    at(T - 3600).audit("verify_failed", None, "Verification failed: malformed", "cli")
    service.audit("signin_failed", "zed", "Sign-in failed", "tui")
    service.audit("note", "x", "100% sure_thing", "service")
    return service


def events(page: Page) -> list[str]:
    return [entry.event for entry in page.rows]


def test_logs_newest_first(log, admin):
    page = log.logs(admin)
    assert page.total == 6 and page.offset == 0
    assert page.rows == [
        LogEntry(6, T, "x", "service", "note", "100% sure_thing"),
        LogEntry(5, T, "zed", "tui", "signin_failed", "Sign-in failed"),
        LogEntry(1, T, ADMIN, "tui", "user_added", "First administrator created"),
        LogEntry(4, T - 3600, None, "cli", "verify_failed", "Verification failed: malformed"),
        LogEntry(3, T - DAY, "bob", "cli", "token_generated", "JWT 'ci' (never expires)"),
        LogEntry(2, T - 2 * DAY, "bob", "tui", "signin", "Signed in"),
    ]
    assert page.rows[3].as_json() == {
        "at": T - 3600,
        "username": None,
        "source": "cli",
        "event": "verify_failed",
        "description": "Verification failed: malformed",
    }


def test_logs_since_and_until(log, admin):
    assert events(log.logs(admin, since=T - DAY, until=T)) == ["verify_failed", "token_generated"]
    assert events(log.logs(admin, since=T - DAY + 1, until=T + 1)) == [
        "note",
        "signin_failed",
        "user_added",
        "verify_failed",
    ]
    assert events(log.logs(admin, until=T - DAY)) == ["signin"]
    assert events(log.logs(admin, since=T)) == ["note", "signin_failed", "user_added"]
    assert log.logs(admin, since=T + 1).total == 0


def test_logs_with_presets(log, admin):
    since, until = preset_range("yesterday", T, tz=UTC)
    assert events(log.logs(admin, since=since, until=until)) == ["token_generated"]
    since, until = preset_range("today", T, tz=UTC)
    assert events(log.logs(admin, since=since, until=until)) == [
        "note",
        "signin_failed",
        "user_added",
        "verify_failed",
    ]
    assert log.logs(admin, since=None, until=None).total == 6


@pytest.mark.parametrize(("since", "until"), [(T, T), (T, T - 1)])
def test_logs_refuse_a_range_that_ends_before_it_starts(log, admin, since, until):
    with pytest.raises(ValidationError) as info:
        log.logs(admin, since=since, until=until)
    assert info.value.field == "until"


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ZED", ["signin_failed"]),  # username
        ("signin", ["signin_failed", "signin"]),  # event
        ("cli", ["verify_failed", "token_generated"]),  # source
        ("malformed", ["verify_failed"]),  # description
        ("  'ci'  ", ["token_generated"]),
        ("%", ["note"]),  # LIKE wildcards are literal
        ("1_0", []),
        ("0% s", ["note"]),
        ("\\", []),
        ("nothing of the sort", []),
        ("", ["note", "signin_failed", "user_added", "verify_failed", "token_generated", "signin"]),
    ],
)
def test_logs_search(log, admin, search, expected):
    page = log.logs(admin, search=search)
    assert (events(page), page.total) == (expected, len(expected))


def test_logs_search_within_a_range(log, admin):
    page = log.logs(admin, search="bob", since=T - DAY)
    assert (events(page), page.total) == (["token_generated"], 1)


def test_logs_paging(log, admin):
    pages = [log.logs(admin, offset=offset, limit=4) for offset in (0, 4, 8)]
    assert [(events(p), p.total, p.offset) for p in pages] == [
        (["note", "signin_failed", "user_added", "verify_failed"], 6, 0),
        (["token_generated", "signin"], 6, 4),
        ([], 6, 8),
    ]
    assert events(log.logs(admin, limit=0)) == ["note"]
    assert log.logs(admin, offset=-5, limit=1).offset == 0
    assert len(log.logs(admin, limit=10**6).rows) == 6


def test_logs_are_for_administrators_only(log, admin):
    bob = log.add_user(admin, "bob", "bob's long password")
    with pytest.raises(PermissionDenied):
        log.logs(bob)
    with pytest.raises(PermissionDenied):
        log.logs(bob, search="x", since=0, until=1)


def test_logs_search_with_a_lone_surrogate(log, admin):
    # `kopitui logs --search $'\xff'` hands the service a lone surrogate.
    page = log.logs(admin, search="\udcff")
    assert (page.rows, page.total) == ([], 0)


@PROPERTY
@given(search=ANY_TEXT, offset=st.integers(-5, 10), limit=st.integers(-5, 2000))
def test_property_logs_search_never_raises(log, admin, search, offset, limit):
    page = log.logs(admin, search=search, offset=offset, limit=limit)
    assert isinstance(page, Page)
    assert 0 <= len(page.rows) <= page.total
    if search.strip() == "":
        assert page.total >= 6


def test_every_lifecycle_event_is_logged(service, admin):
    """The issue's list: sign-in success and failure, token generated / disabled /
    enabled / deleted, user added / removed, password changed, verification failures."""
    bob = service.add_user(admin, "bob", "bob's long password", source="cli")
    service.authenticate("bob", "bob's long password")
    with pytest.raises(AuthenticationError):
        service.authenticate("bob", "a wrong password")
    issued = service.issue_jwt(bob, "ci", "0")
    [tid] = service.find_tokens(bob, "ci")
    service.set_token_enabled(bob, tid, False)
    service.set_token_enabled(bob, tid, True)
    service.delete_token(bob, tid)
    service.issue_basic("bob", "bob's long password")
    service.change_password(bob, "bob's long password", "bob's second password")
    service.verify(issued.header_value)
    service.reset_password(admin, "bob", "bob's third password")
    service.remove_user(admin, "bob")
    page = service.logs(admin)
    assert [(e.event, e.username) for e in reversed(page.rows)] == [
        ("user_added", ADMIN),
        ("user_added", ADMIN),
        ("signin", "bob"),
        ("signin_failed", "bob"),
        ("key_created", None),
        ("token_generated", "bob"),
        ("token_disabled", "bob"),
        ("token_enabled", "bob"),
        ("token_deleted", "bob"),
        ("token_generated", "bob"),
        ("password_changed", "bob"),
        ("verify_failed", "bob"),
        ("password_changed", ADMIN),
        ("user_removed", ADMIN),
    ]
    assert page.rows[-2].source == "cli"
    text = " ".join(f"{e.username} {e.source} {e.description}" for e in page.rows)
    for secret in (
        ADMIN_PASSWORD,
        "bob's long password",
        "a wrong password",
        "bob's second password",
        "bob's third password",
        issued.header_value.removeprefix("Bearer "),
    ):
        assert secret not in text
