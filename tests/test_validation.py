"""kopitui.service.validation: every parser of what a person types (cases C06, C07, C12, C13)."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kopitui.service.errors import ValidationError
from kopitui.service.validation import (
    MAX_TIMESTAMP,
    basic_header_value,
    expiry_timestamp,
    name_key,
    parse_expiry_minutes,
    validate_new_password,
    validate_token_name,
    validate_username,
)

from helpers_core import FROZEN_NOW, isolate_home

#: With now = 1700000000 the largest whole number of minutes whose expiry stays
#: within year 9999: (253402300799 - 1700000000) // 60.
LARGEST_MINUTES = 4195038346
LARGEST_EXP = 253402300760  # 1700000000 + 60 * 4195038346


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    isolate_home(monkeypatch, tmp_path)


def refused(func, *args, field: str, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    assert info.value.field == field
    assert info.value.message, "a refusal must say why"
    assert str(info.value) == info.value.message
    return info.value


# -- token names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("build", "build"),
        ("  build  ", "build"),
        ("\tci deploy\n", "ci deploy"),
        ("x", "x"),
        ("a" * 64, "a" * 64),
        ("Deploy – CI ✓", "Deploy – CI ✓"),
        ("key 🔑", "key 🔑"),
        ("e\u0301t\u00e9", "\u00e9t\u00e9"),  # NFC
    ],
)
def test_token_name_accepted(text, expected):
    assert validate_token_name(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "a" * 65,
        "\x1b[31mred",
        "red\x1b[0m",
        "a\x9bb",
        "a\rb",
        "a\nb",
        "a\tb",
        "a\x00b",
        "a\x7fb",
        "evil\u202etxt.exe",  # bidi override
        "a\u200bb",  # zero-width space
        "a\u2028b",  # line separator
        "a\ud800b",  # lone surrogate
    ],
)
def test_token_name_refused(text):
    err = refused(validate_token_name, text, field="name")
    # The message must not echo the control character back to the terminal.
    assert all(ch.isprintable() for ch in err.message)


def test_token_name_length_counts_characters_after_nfc():
    # 64 "é" spelt decomposed are 128 code points but 64 characters once NFC.
    assert validate_token_name("e\u0301" * 64) == "\u00e9" * 64
    refused(validate_token_name, "\u00e9" * 65, field="name")


def test_name_key_is_case_and_normalisation_insensitive():
    assert name_key("CI") == name_key("ci")
    assert name_key("E\u0301TE\u0301") == name_key("\u00e9t\u00e9")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("ci") != name_key("cj")


# -- usernames ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("admin", "admin"),
        ("  admin ", "admin"),
        ("1234", "1234"),
        ("søren", "søren"),
        ("so\u0308ren", "s\u00f6ren"),  # NFD in, NFC out
        ("u" * 64, "u" * 64),
    ],
)
def test_username_accepted(text, expected):
    result = validate_username(text)
    assert result == expected
    assert unicodedata.is_normalized("NFC", result)


@pytest.mark.parametrize(
    "text",
    [
        "10:10:5e:00:23:cf",  # C12
        "user:",
        ":",
        "",
        "  ",
        "u" * 65,
        "\x1b[31madmin",
        "ad\rmin",
        "ad\x9bmin",
        "admin\u202e",
        "ad\u202emin",
    ],
)
def test_username_refused(text):
    refused(validate_username, text, field="username")


def test_username_colon_message_says_why():
    err = refused(validate_username, "10:10:5e:00:23:cf", field="username")
    assert "':'" in err.message or "colon" in err.message.lower()


# -- new passwords --------------------------------------------------------------------------


def test_password_min_length_is_the_given_one():
    assert validate_new_password("x" * 12, None, min_length=12) == "x" * 12
    refused(validate_new_password, "x" * 11, None, min_length=12, field="password")
    assert validate_new_password("x" * 8, None, min_length=8) == "x" * 8
    refused(validate_new_password, "x" * 7, None, min_length=8, field="password")


def test_password_equal_to_username_refused_case_insensitively():
    refused(
        validate_new_password,
        "administrator",
        None,
        min_length=8,
        username="administrator",
        field="password",
    )
    refused(
        validate_new_password,
        "ADMINISTRATOR",
        None,
        min_length=8,
        username="administrator",
        field="password",
    )
    assert (
        validate_new_password("administrator1", None, min_length=8, username="administrator")
        == "administrator1"
    )


def test_password_confirm_mismatch():
    refused(validate_new_password, "correct horse", "correct h0rse", min_length=8, field="confirm")
    assert validate_new_password("correct horse", "correct horse", min_length=8) == "correct horse"


def test_password_with_control_characters_refused():
    refused(validate_new_password, "pass\x1b[31mword", None, min_length=8, field="password")


# -- expiry minutes (C06, C07) --------------------------------------------------------------


def test_c06_zero_means_never():
    assert parse_expiry_minutes("0", now=FROZEN_NOW) == 0
    assert expiry_timestamp(FROZEN_NOW, 0) is None


def test_c06_sixty_minutes():
    minutes = parse_expiry_minutes("60", now=FROZEN_NOW)
    assert minutes == 60
    assert expiry_timestamp(FROZEN_NOW, minutes) == 1700003600


@pytest.mark.parametrize(
    "text",
    [
        "1000000000000",
        "1e999",
        "-5",
        "3600.5",
        "1h",
        "",
        "   ",
        "+5",
        "-0",
        "60m",
        "0x10",
        "1_000",
        "1,000",
        "inf",
        "NaN",
        "\u00b2",  # superscript two: str.isdigit() says yes, int() says no
        "\u0661\u0662",  # Arabic-Indic digits
        "６０",  # fullwidth digits
        "9" * 400,
        "6 0",
    ],
)
def test_c07_refused(text):
    refused(parse_expiry_minutes, text, now=FROZEN_NOW, field="minutes")


@pytest.mark.parametrize(("text", "expected"), [(" 60 ", 60), ("\t60\n", 60), ("0060", 60)])
def test_c07_surrounding_spaces_and_leading_zeros_are_fine(text, expected):
    assert parse_expiry_minutes(text, now=FROZEN_NOW) == expected


def test_negative_message_says_negative():
    err = refused(parse_expiry_minutes, "-5", now=FROZEN_NOW, field="minutes")
    assert "negative" in err.message


def test_year_9999_boundary_exactly():
    assert MAX_TIMESTAMP == 253402300799
    assert datetime.fromtimestamp(MAX_TIMESTAMP, UTC) == datetime(
        9999, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    minutes = parse_expiry_minutes(str(LARGEST_MINUTES), now=FROZEN_NOW)
    assert minutes == LARGEST_MINUTES
    exp = expiry_timestamp(FROZEN_NOW, minutes)
    assert exp == LARGEST_EXP
    assert datetime.fromtimestamp(exp, UTC).year == 9999
    refused(parse_expiry_minutes, str(LARGEST_MINUTES + 1), now=FROZEN_NOW, field="minutes")


def test_year_9999_boundary_when_it_falls_on_a_minute():
    now = MAX_TIMESTAMP - 120
    assert parse_expiry_minutes("2", now=now) == 2
    assert expiry_timestamp(now, 2) == MAX_TIMESTAMP
    refused(parse_expiry_minutes, "3", now=now, field="minutes")


def test_max_minutes():
    assert parse_expiry_minutes("1440", now=FROZEN_NOW, max_minutes=1440) == 1440
    err = refused(parse_expiry_minutes, "1441", now=FROZEN_NOW, max_minutes=1440, field="minutes")
    assert "1440" in err.message
    # 0 = no maximum
    assert parse_expiry_minutes("525600", now=FROZEN_NOW, max_minutes=0) == 525600
    # 0 (never) is not "above the maximum"
    assert parse_expiry_minutes("0", now=FROZEN_NOW, max_minutes=1440) == 0


def test_allow_never():
    assert parse_expiry_minutes("0", now=FROZEN_NOW, allow_never=True) == 0
    refused(parse_expiry_minutes, "0", now=FROZEN_NOW, allow_never=False, field="minutes")
    refused(parse_expiry_minutes, " 000 ", now=FROZEN_NOW, allow_never=False, field="minutes")
    assert parse_expiry_minutes("1", now=FROZEN_NOW, allow_never=False) == 1


# -- Basic header values (C12, C13) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("ops", "Pass:w$rd!", "Basic b3BzOlBhc3M6dyRyZCE="),  # C12
        ("søren", "SØREN", "Basic c8O4cmVuOlPDmFJFTg=="),  # C13, UTF-8 not Latin-1
        ("test", "123£", "Basic dGVzdDoxMjPCow=="),  # RFC 7617's example
        ("dev", "pa🔑ss", "Basic ZGV2OnBh8J+UkXNz"),
    ],
)
def test_basic_header_exact_values(username, password, expected):
    assert basic_header_value(username, password) == expected


def test_basic_header_not_latin1():
    assert basic_header_value("søren", "SØREN") != "Basic c/hyZW46U9hSRU4="


def test_c12_basic_header_colon_in_username_refused():
    refused(basic_header_value, "10:10:5e:00:23:cf", "secret", field="username")


# -- properties: any text gives a value or a ValidationError, never another exception ------


@given(text=st.text())
def test_property_token_name(text):
    try:
        name = validate_token_name(text)
    except ValidationError as exc:
        assert exc.field == "name"
        return
    assert 1 <= len(name) <= 64
    assert name == name.strip()
    assert all(ch.isprintable() for ch in name)
    assert validate_token_name(name) == name  # idempotent


@given(text=st.text())
def test_property_username(text):
    try:
        username = validate_username(text)
    except ValidationError as exc:
        assert exc.field == "username"
        return
    assert 1 <= len(username) <= 64
    assert ":" not in username
    assert all(ch.isprintable() for ch in username)
    assert unicodedata.is_normalized("NFC", username)
    assert validate_username(username) == username


@given(password=st.text(), confirm=st.one_of(st.none(), st.text()), username=st.text())
def test_property_new_password(password, confirm, username):
    try:
        result = validate_new_password(password, confirm, min_length=8, username=username)
    except ValidationError as exc:
        assert exc.field in {"password", "confirm"}
        return
    assert result == password
    assert len(password) >= 8


_minutes_text = st.one_of(
    st.text(),
    st.integers().map(str),
    st.from_regex(r"\s*[0-9]{1,14}\s*", fullmatch=True),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=0, max_value=LARGEST_MINUTES + 10).map(str),
)


@given(
    text=_minutes_text,
    now=st.integers(min_value=0, max_value=MAX_TIMESTAMP),
    max_minutes=st.sampled_from([0, 1, 60, 1440, 100 * 366 * 24 * 60]),
    allow_never=st.booleans(),
)
def test_property_expiry_minutes(text, now, max_minutes, allow_never):
    try:
        minutes = parse_expiry_minutes(
            text, now=now, max_minutes=max_minutes, allow_never=allow_never
        )
    except ValidationError as exc:
        assert exc.field == "minutes"
        return
    assert isinstance(minutes, int) and not isinstance(minutes, bool)
    assert minutes >= 0
    assert re.fullmatch(r"[0-9]+", text.strip())
    assert minutes == int(text.strip())
    if max_minutes:
        assert minutes <= max_minutes
    exp = expiry_timestamp(now, minutes)
    if minutes == 0:
        assert allow_never
        assert exp is None
    else:
        assert exp == now + 60 * minutes
        assert exp <= MAX_TIMESTAMP
        # Nothing downstream may overflow.
        datetime.fromtimestamp(exp, UTC).isoformat()


@given(minutes=st.integers(min_value=1, max_value=LARGEST_MINUTES + 1000))
def test_property_expiry_accepts_exactly_up_to_year_9999(minutes):
    fits = FROZEN_NOW + 60 * minutes <= MAX_TIMESTAMP
    try:
        parse_expiry_minutes(str(minutes), now=FROZEN_NOW)
    except ValidationError:
        assert not fits
    else:
        assert fits


@given(username=st.text(), password=st.text())
def test_property_basic_header(username, password):
    try:
        header = basic_header_value(username, password)
    except ValidationError as exc:
        assert exc.field == "username"
        assert ":" in username
        return
    assert ":" not in username
    assert header.startswith("Basic ")
    encoded = header[len("Basic ") :]
    assert "\n" not in header and "\r" not in header
    assert re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", encoded)
    assert len(encoded) % 4 == 0  # padding kept
    decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    assert decoded == f"{username}:{password}"
    user, _, pw = decoded.partition(":")
    assert (user, pw) == (username, password)


def test_basic_header_is_standard_base64_not_urlsafe():
    # b"\xfb\xff" encodes to "+/8=" in the standard alphabet, "-_8=" in the URL-safe one.
    header = basic_header_value("a", "\u00fb\u00ff\u00fe")
    encoded = header.removeprefix("Basic ")
    assert "-" not in encoded and "_" not in encoded
    assert base64.b64decode(encoded, validate=True) == "a:\u00fb\u00ff\u00fe".encode()
    with pytest.raises(binascii.Error):
        base64.b64decode("-_8=", validate=True)


@pytest.mark.parametrize(
    ("func", "args", "field"),
    [
        (validate_token_name, ("a\ud800",), "name"),
        (validate_username, ("a\udcff",), "username"),
        (basic_header_value, ("user", "pa\udcffss"), "password"),
    ],
)
def test_lone_surrogates_are_a_validation_error(func, args, field):
    """Text decoded with surrogateescape (e.g. from argv) must not crash the encoders."""
    with pytest.raises(ValidationError) as info:
        func(*args)
    assert info.value.field == field
