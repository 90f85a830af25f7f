"""The local token service: plain Python and SQLite, no Textual."""

from .errors import (
    AuthenticationError,
    ConfigError,
    KopituiError,
    PermissionDenied,
    SetupError,
    StoreError,
    ValidationError,
)
from .service import IssuedToken, TokenService, User, fingerprint

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "IssuedToken",
    "KopituiError",
    "PermissionDenied",
    "SetupError",
    "StoreError",
    "TokenService",
    "User",
    "ValidationError",
    "fingerprint",
]
