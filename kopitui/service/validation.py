"""Parsers and rules for everything a person types. Pure functions, no I/O."""

from __future__ import annotations

import base64
import unicodedata

from .errors import ValidationError

#: The last second of year 9999 (UTC): ``datetime(9999, 12, 31, 23, 59, 59)``.
#: Nothing we store or show may pass it, or ``datetime`` overflows.
MAX_TIMESTAMP = 253402300799

NAME_MAX = 64
USERNAME_MAX = 64
PASSWORD_MAX = 1024


def is_text(value: str) -> bool:
    """True when ``value`` can be encoded as UTF-8 (no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable_problem(text: str) -> str | None:
    """Why ``text`` is not plain printable text, or None when it is.

    ``str.isprintable`` refuses control characters (escape sequences, ``\\r``, C1
    controls such as ``\\x9b``) and format characters such as bidirectional overrides.
    """
    for ch in text:
        if not ch.isprintable() and ch != " ":
            return f"must not contain control or invisible characters (found U+{ord(ch):04X})"
    return None


def validate_token_name(text: str) -> str:
    """A JWT token name: trimmed, 1–64 printable characters."""
    name = unicodedata.normalize("NFC", text.strip())
    if not name:
        raise ValidationError("name", "Enter a token name.")
    if len(name) > NAME_MAX:
        raise ValidationError("name", f"A token name has at most {NAME_MAX} characters.")
    problem = _printable_problem(name)
    if problem:
        raise ValidationError("name", f"The token name {problem}.")
    return name


def name_key(name: str) -> str:
    """The form names are compared in: NFC, case-folded."""
    return unicodedata.normalize("NFC", name).casefold()


def validate_username(text: str) -> str:
    """A username: trimmed, NFC, 1–64 printable characters and no colon (RFC 7617)."""
    username = unicodedata.normalize("NFC", text.strip())
    if not username:
        raise ValidationError("username", "Enter a username.")
    if len(username) > USERNAME_MAX:
        raise ValidationError("username", f"A username has at most {USERNAME_MAX} characters.")
    if ":" in username:
        raise ValidationError(
            "username", "A username cannot contain ':' (Basic authentication forbids it)."
        )
    problem = _printable_problem(username)
    if problem:
        raise ValidationError("username", f"The username {problem}.")
    return username


def validate_new_password(
    password: str, confirm: str | None, *, min_length: int, username: str | None = None
) -> str:
    """A new password: long enough, not the username, and confirmed when asked."""
    if len(password) < min_length:
        raise ValidationError("password", f"The password needs at least {min_length} characters.")
    if len(password) > PASSWORD_MAX:
        raise ValidationError("password", f"The password has at most {PASSWORD_MAX} characters.")
    if not is_text(password):
        raise ValidationError("password", "The password contains characters that are not text.")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise ValidationError("password", "The password must not contain control characters.")
    if username is not None and name_key(password) == name_key(username):
        raise ValidationError("password", "The password must not be the username.")
    if confirm is not None and confirm != password:
        raise ValidationError("confirm", "The two passwords do not match.")
    return password


def parse_expiry_minutes(
    text: str,
    *,
    now: int,
    max_minutes: int = 0,
    allow_never: bool = True,
) -> int:
    """Minutes until a JWT expires; 0 means it never expires.

    Only ASCII digits are accepted (surrounding spaces are trimmed): no sign, no
    fraction, no exponent, no units. The expiry must stay within year 9999 and under
    ``max_minutes`` when that is above 0.
    """
    raw = text.strip()
    if not raw:
        raise ValidationError("minutes", "Enter the minutes until expiry (0 = never expires).")
    if not (raw.isascii() and raw.isdigit()):
        if raw.startswith("-") and raw[1:].isdigit():
            reason = "cannot be negative"
        else:
            reason = "must be a whole number of minutes"
        raise ValidationError("minutes", f"Expiry {reason} (0 = never expires).")
    # Refuse absurd lengths before int() so nothing downstream works on huge numbers.
    if len(raw.lstrip("0")) > 12:
        raise ValidationError("minutes", "That expiry is past the year 9999.")
    minutes = int(raw)
    if minutes == 0:
        if not allow_never:
            raise ValidationError(
                "minutes", "Tokens that never expire are turned off in the config."
            )
        return 0
    if max_minutes and minutes > max_minutes:
        raise ValidationError("minutes", f"The configured maximum is {max_minutes} minutes.")
    if now + 60 * minutes > MAX_TIMESTAMP:
        raise ValidationError("minutes", "That expiry is past the year 9999.")
    return minutes


def expiry_timestamp(now: int, minutes: int) -> int | None:
    """The ``exp`` claim for ``minutes`` from ``now``; None (no claim) for 0."""
    return None if minutes == 0 else now + 60 * minutes


def basic_header_value(username: str, password: str) -> str:
    """``Basic <base64(user:password)>`` per RFC 7617 with UTF-8 as the charset."""
    if ":" in username:
        raise ValidationError(
            "username", "A username cannot contain ':' (Basic authentication forbids it)."
        )
    if not is_text(password):
        raise ValidationError("password", "The password contains characters that are not text.")
    if not is_text(username):
        raise ValidationError("username", "The username contains characters that are not text.")
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
