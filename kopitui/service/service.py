"""The local token service: users, signing keys, issued tokens and the audit log.

Plain Python over :class:`Store`; it knows nothing of Textual. Every method that takes
user input raises a typed error from :mod:`.errors` with a message fit to show. The
work is split by subject into mixins (users, tokens, verification, logs) that share
the plumbing defined here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .keys import KeysMixin, key_bytes
from .logs import LogsMixin
from .models import IssuedToken, User
from .store import Store
from .tokens import TokensMixin, fingerprint
from .users import ARGON2_PARAMS, UsersMixin
from .verify import VerifyMixin

if TYPE_CHECKING:  # config imports service.errors; avoid the cycle at run time
    from ..config import Config

__all__ = ["ARGON2_PARAMS", "IssuedToken", "TokenService", "User", "fingerprint", "key_bytes"]


class TokenService(UsersMixin, KeysMixin, TokensMixin, VerifyMixin, LogsMixin):
    """The one domain object both faces (TUI and CLI) talk to."""

    def __init__(
        self,
        config: Config,
        database: Path,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = Store(database)
        self._clock = clock
        self._hasher = None

    def now(self) -> int:
        return int(self._clock())

    @property
    def hasher(self):
        # argon2 is imported on first use so paths that never hash stay fast.
        if self._hasher is None:
            from argon2 import PasswordHasher

            self._hasher = PasswordHasher(**ARGON2_PARAMS)
        return self._hasher

    def close(self) -> None:
        self.store.close()

    def _audit(self, conn, event: str, username: str | None, description: str, source: str):
        conn.execute(
            "INSERT INTO audit_log (at, username, source, event, description) "
            "VALUES (?, ?, ?, ?, ?)",
            (self.now(), username, source, event, description),
        )

    def audit(self, event: str, username: str | None, description: str, source: str) -> None:
        with self.store.transaction() as conn:
            self._audit(conn, event, username, description, source)
