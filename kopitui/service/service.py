"""The local token service: users, signing keys, issued tokens and the audit log.

Plain Python over :class:`Store`; it knows nothing of Textual. Every method that takes
user input raises a typed error from :mod:`.errors` with a message fit to show.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config imports service.errors; avoid the cycle at run time
    from ..config import Config
from . import validation
from .errors import AuthenticationError, SetupError, ValidationError
from .store import Store

#: OWASP's recommended minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
ARGON2_PARAMS = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
#: An HMAC key must be at least as long as the hash (RFC 7518 §3.2); PyJWT warns below.
KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


def key_bytes(algorithm: str) -> int:
    return KEY_BYTES.get(algorithm, 64)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class IssuedToken:
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


def fingerprint(token: str) -> str:
    """The SHA-256 of a token, as stored; the token itself never is."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenService:
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

    # -- plumbing -----------------------------------------------------------------------

    def now(self) -> int:
        return int(self._clock())

    @property
    def hasher(self):
        # argon2 is imported on first use so CLI paths that never hash stay fast.
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

    # -- users --------------------------------------------------------------------------

    def has_users(self) -> bool:
        return bool(self.store.read("SELECT 1 FROM users LIMIT 1"))

    def _hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    def create_first_admin(
        self, username: str, password: str, confirm: str | None = None, *, source: str = "tui"
    ) -> User:
        """First run only: create the administrator. Refused once any user exists."""
        username = validation.validate_username(username)
        validation.validate_new_password(
            password, confirm, min_length=self.config.min_password_length, username=username
        )
        password_hash = self._hash_password(password)  # slow: outside the transaction
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                raise SetupError("An administrator already exists; sign in instead.")
            now = self.now()
            cur = conn.execute(
                "INSERT INTO users (username, username_key, password_hash, role, created_at, "
                "password_changed_at) VALUES (?, ?, ?, 'admin', ?, ?)",
                (username, validation.name_key(username), password_hash, now, now),
            )
            self._audit(conn, "user_added", username, "First administrator created", source)
        return User(cur.lastrowid, username, "admin")

    def _find_user(self, username: str):
        rows = self.store.read(
            "SELECT id, username, role, password_hash FROM users WHERE username_key = ?",
            (validation.name_key(username.strip()),),
        )
        return rows[0] if rows else None

    def _check_password(self, row, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        if not validation.is_text(password):
            return False
        try:
            return self.hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            return False

    _DUMMY_HASH: str | None = None

    def _spend_equal_time(self, password: str) -> None:
        """Verify against a throwaway hash so an unknown name costs what a known one does."""
        if TokenService._DUMMY_HASH is None:
            TokenService._DUMMY_HASH = self.hasher.hash(secrets.token_hex(16))
        from argon2.exceptions import VerificationError

        try:
            self.hasher.verify(TokenService._DUMMY_HASH, password)
        except (VerificationError, UnicodeEncodeError):
            pass

    def authenticate(self, username: str, password: str, *, source: str = "tui") -> User:
        """Sign in. Any failure is the same :class:`AuthenticationError`."""
        row = self._find_user(username) if username.strip() else None
        if row is None:
            self._spend_equal_time(password)
            ok = False
        else:
            ok = self._check_password(row, password)
        shown = row["username"] if row is not None else _inert(username)
        if not ok:
            self.audit("signin_failed", shown, "Sign-in failed", source)
            raise AuthenticationError()
        self._rehash_if_needed(row, password)
        self.audit("signin", row["username"], "Signed in", source)
        return User(row["id"], row["username"], row["role"])

    def _rehash_if_needed(self, row, password: str) -> None:
        if self.hasher.check_needs_rehash(row["password_hash"]):
            new_hash = self._hash_password(password)
            with self.store.transaction() as conn:
                conn.execute(
                    "UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, row["id"])
                )

    def sign_out(self, user: User, *, source: str = "tui") -> None:
        self.audit("signout", user.username, "Signed out", source)

    # -- signing keys -------------------------------------------------------------------

    def current_key(self) -> tuple[str, bytes]:
        """The key that signs new tokens, created on first use: ``(kid, secret)``."""
        rows = self.store.read(
            "SELECT kid, secret FROM signing_keys WHERE is_current = 1 AND algorithm = ?",
            (self.config.algorithm,),
        )
        if rows:
            return rows[0]["kid"], bytes(rows[0]["secret"])
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT kid, secret FROM signing_keys WHERE is_current = 1 AND algorithm = ?",
                (self.config.algorithm,),
            ).fetchone()
            if row:  # another thread or process made it meanwhile
                return row["kid"], bytes(row["secret"])
            conn.execute("UPDATE signing_keys SET is_current = 0")
            kid = secrets.token_hex(8)
            secret = secrets.token_bytes(key_bytes(self.config.algorithm))
            conn.execute(
                "INSERT INTO signing_keys (kid, algorithm, secret, created_at, is_current) "
                "VALUES (?, ?, ?, ?, 1)",
                (kid, self.config.algorithm, secret, self.now()),
            )
            self._audit(conn, "key_created", None, f"Signing key {kid} created", "service")
        return kid, secret

    def verification_key(self, kid: str) -> bytes | None:
        """The secret for a known, unretired ``kid``; None for anything else."""
        if not isinstance(kid, str) or len(kid) > 64:
            return None
        rows = self.store.read(
            "SELECT algorithm, secret FROM signing_keys WHERE kid = ? AND retired_at IS NULL",
            (kid,),
        )
        if not rows:
            return None
        secret = bytes(rows[0]["secret"])
        return secret if len(secret) >= key_bytes(rows[0]["algorithm"]) else None

    # -- tokens -------------------------------------------------------------------------

    def parse_minutes(self, text: str) -> int:
        return validation.parse_expiry_minutes(
            text,
            now=self.now(),
            max_minutes=self.config.max_expiry_minutes,
            allow_never=self.config.allow_never_expires,
        )

    def preview_expiry(self, text: str) -> int | None:
        """The ``exp`` a token made now with ``text`` minutes would get (None: never)."""
        return validation.expiry_timestamp(self.now(), self.parse_minutes(text))

    def check_token_name(self, user: User, name: str) -> str:
        name = validation.validate_token_name(name)
        rows = self.store.read(
            "SELECT 1 FROM tokens WHERE user_id = ? AND name_key = ? AND kind = 'jwt'",
            (user.id, validation.name_key(name)),
        )
        if rows:
            raise ValidationError("name", f"You already have a token named {name!r}.")
        return name

    def issue_jwt(self, user: User, name: str, minutes: str | int, *, source: str = "tui"):
        """Mint a JWT for ``user``. Returns an :class:`IssuedToken`; stores only its record."""
        import jwt

        name = validation.validate_token_name(name)
        minutes = self.parse_minutes(str(minutes))
        now = self.now()
        expires = validation.expiry_timestamp(now, minutes)
        kid, secret = self.current_key()
        jti = secrets.token_urlsafe(16)
        claims = {
            "unique_name": name,
            "sub": str(user.username),
            "iss": self.config.issuer,
            "aud": self.config.audience,
            "iat": now,
            "jti": jti,
        }
        if expires is not None:
            claims["exp"] = expires
        token = jwt.encode(claims, secret, algorithm=self.config.algorithm, headers={"kid": kid})
        header_value = f"Bearer {token}"
        digest = fingerprint(header_value)
        import sqlite3

        try:
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT INTO tokens (jti, name, name_key, kind, user_id, created_at, "
                    "expires_at, fingerprint, kid) VALUES (?, ?, ?, 'jwt', ?, ?, ?, ?, ?)",
                    (jti, name, validation.name_key(name), user.id, now, expires, digest, kid),
                )
                when = "never expires" if expires is None else f"expires in {minutes} min"
                self._audit(
                    conn, "token_generated", user.username, f"JWT {name!r} ({when})", source
                )
        except sqlite3.IntegrityError:
            raise ValidationError("name", f"You already have a token named {name!r}.") from None
        return IssuedToken("jwt", name, user.username, header_value, now, expires, jti, digest)

    def issue_basic(self, username: str, password: str, *, source: str = "tui") -> IssuedToken:
        """A Basic token for an existing user whose password matches.

        A wrong pair gets the same vague error as sign-in: a Basic token made from a
        wrong password would only fail later, at the API.
        """
        username = username.strip()
        if ":" in username:
            raise ValidationError(
                "username", "A username cannot contain ':' (Basic authentication forbids it)."
            )
        if not username:
            raise ValidationError("username", "Enter a username.")
        row = self._find_user(username)
        if row is None or not self._check_password(row, password):
            if row is None:
                self._spend_equal_time(password)
            self.audit(
                "basic_failed",
                row["username"] if row is not None else _inert(username),
                "Basic token refused: invalid name or password",
                source,
            )
            raise AuthenticationError()
        # The stored spelling of the name, so NFC/case variants yield one token.
        header_value = validation.basic_header_value(row["username"], password)
        now = self.now()
        jti = secrets.token_urlsafe(16)
        name = f"Basic {row['username']}"
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO tokens (jti, name, name_key, kind, user_id, created_at, "
                "expires_at, fingerprint) VALUES (?, ?, ?, 'basic', ?, ?, NULL, NULL)",
                (jti, name, validation.name_key(name), row["id"], now),
            )
            self._audit(conn, "token_generated", row["username"], "Basic token", source)
        # No fingerprint for Basic: a plain hash of user:password would be a fast,
        # unsalted password hash at rest.
        return IssuedToken("basic", name, row["username"], header_value, now, None, jti, None)

    def token_records(self, user: User) -> list[dict]:
        rows = self.store.read(
            "SELECT jti, name, kind, created_at, expires_at, status, fingerprint FROM tokens "
            "WHERE user_id = ? ORDER BY created_at, id",
            (user.id,),
        )
        return [dict(row) for row in rows]


def _inert(text: str, limit: int = 64) -> str:
    """Text typed by an outsider, made safe to store and show: no control characters."""
    cleaned = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text)
    return cleaned[:limit]
