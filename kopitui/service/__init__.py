"""The local token service: plain Python and SQLite, no Textual."""

from .errors import (
    AccountLocked,
    AuthenticationError,
    ConfigError,
    KopituiError,
    PermissionDenied,
    SetupError,
    StoreError,
    ValidationError,
)
from .models import IssuedToken, LogEntry, Page, TokenRecord, User, UserRecord, Verdict
from .service import TokenService, fingerprint

__all__ = [
    "AccountLocked",
    "AuthenticationError",
    "ConfigError",
    "IssuedToken",
    "KopituiError",
    "LogEntry",
    "Page",
    "PermissionDenied",
    "SetupError",
    "StoreError",
    "TokenRecord",
    "TokenService",
    "User",
    "UserRecord",
    "ValidationError",
    "Verdict",
    "fingerprint",
]
