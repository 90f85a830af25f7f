"""The service's value objects: what it hands to the screens and the command line.

Named tuples rather than dataclasses: as immutable, and several times cheaper to define,
which every start of the CLI and the TUI pays.
"""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class User(NamedTuple):
    id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class IssuedToken(NamedTuple):
    """A freshly minted token. ``header_value`` is shown once and never stored."""

    kind: str  # "jwt" or "basic"
    name: str
    username: str
    header_value: str
    created_at: int
    expires_at: int | None
    jti: str
    fingerprint: str | None

    @property
    def scheme(self) -> str:
        return "Bearer" if self.kind == "jwt" else "Basic"


class TokenRecord(NamedTuple):
    """One row of the Token List: what is known of an issued token (never the token)."""

    id: int
    jti: str
    name: str
    kind: str
    username: str
    created_at: int
    expires_at: int | None
    status: str  # "Active", "Expired", "Disabled", "Retired", "Stale" or "Deleted"
    fingerprint: str | None

    @property
    def type_label(self) -> str:
        return "JWT" if self.kind == "jwt" else "Basic"

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:12] if self.fingerprint else "—"

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type_label,
            "username": self.username,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "status": self.status,
            "fingerprint": self.fingerprint,
        }


class UserRecord(NamedTuple):
    id: int
    username: str
    role: str
    created_at: int
    password_changed_at: int
    active_tokens: int

    def as_json(self) -> dict:
        return {
            "username": self.username,
            "role": self.role,
            "created_at": self.created_at,
            "password_changed_at": self.password_changed_at,
            "active_tokens": self.active_tokens,
        }


class LogEntry(NamedTuple):
    id: int
    at: int
    username: str | None
    source: str
    event: str
    description: str

    def as_json(self) -> dict:
        return {
            "at": self.at,
            "username": self.username,
            "source": self.source,
            "event": self.event,
            "description": self.description,
        }


class Page(NamedTuple, Generic[T]):
    """A slice of a long listing, and how many rows match in all."""

    rows: list[T]
    total: int
    offset: int = 0


#: Every verdict verification can reach, with whether it means "valid".
VERDICTS = (
    "valid",
    "expired",
    "not_yet_valid",
    "disabled",
    "deleted",
    "unknown",
    "bad_signature",
    "wrong_issuer",
    "wrong_audience",
    "algorithm_not_allowed",
    "stale",
    "malformed",
)


class Verdict(NamedTuple):
    """What verification concluded, with the reason in words."""

    code: str  # one of VERDICTS
    reason: str
    kind: str | None = None  # "jwt" or "basic" when that much could be read
    username: str | None = None
    token_name: str | None = None
    expires_at: int | None = None

    @property
    def valid(self) -> bool:
        return self.code == "valid"

    def as_json(self) -> dict:
        return {
            "valid": self.valid,
            "verdict": self.code,
            "reason": self.reason,
            "type": {"jwt": "JWT", "basic": "Basic"}.get(self.kind or ""),
            "username": self.username,
            "token_name": self.token_name,
            "expires_at": self.expires_at,
        }
