"""Typed errors of the token service. Screens and the CLI turn these into messages."""

from __future__ import annotations


class KopituiError(Exception):
    """Base of every error kopitui reports to a person instead of a traceback."""


class ValidationError(KopituiError):
    """Input that breaks a rule; ``field`` names the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class AuthenticationError(KopituiError):
    """Wrong name or password. Deliberately never says which of the two."""

    def __init__(self, message: str = "Invalid name or password.") -> None:
        super().__init__(message)


class AccountLocked(AuthenticationError):
    """Too many failed sign-ins for a name: refused until ``until`` without a check."""

    def __init__(self, message: str, until: int) -> None:
        super().__init__(message)
        self.until = until


class PermissionDenied(KopituiError):
    """The acting user may not do this."""


class SetupError(KopituiError):
    """First-run setup asked for when it is no longer allowed (a user exists)."""


class StoreError(KopituiError):
    """The database cannot be used (newer schema, unreadable, read-only…)."""


class ConfigError(KopituiError):
    """The config file is unusable; the message names the file and what is wrong."""
