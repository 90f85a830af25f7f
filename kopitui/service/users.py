"""Users: first administrator, sign-in, adding, removing, passwords."""

from __future__ import annotations

from . import validation
from .errors import (
    AccountLocked,
    AuthenticationError,
    PermissionDenied,
    SetupError,
    ValidationError,
)
from .models import User, UserRecord

#: OWASP's recommended minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
ARGON2_PARAMS = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
ROLES = ("admin", "user")
#: Appended to a removed user's name key (with their id) to free the name.
REMOVED_MARK = "\x1fremoved-"  # no NUL: SQLite text functions stop at one
#: How many earlier passwords are kept to recognise a stale Basic token.
PASSWORD_HISTORY = 10


def inert(text: str, limit: int = 64) -> str:
    """Text typed by an outsider, made safe to store and show: no control characters."""
    cleaned = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text)
    return cleaned[:limit]


#: A failed sign-in under a name nobody has: the name is not recorded (often it is a
#: password typed into the wrong field).
UNKNOWN_NAME_FAILURE = "Sign-in failed: no user by the name typed (not recorded)"


class UsersMixin:
    _DUMMY_HASH: str | None = None

    # -- lookups ------------------------------------------------------------------------

    def has_users(self) -> bool:
        return bool(self.store.read("SELECT 1 FROM users WHERE removed_at IS NULL LIMIT 1"))

    def _find_user(self, username: str):
        """The active user row for ``username`` (NFC, case-insensitive), or None."""
        if not isinstance(username, str) or not validation.is_text(username):
            return None
        rows = self.store.read(
            "SELECT id, username, role, password_hash, password_epoch, password_changed_at "
            "FROM users WHERE username_key = ? AND removed_at IS NULL",
            (validation.name_key(username.strip()),),
        )
        return rows[0] if rows else None

    def _find_removed_user(self, username: str):
        """The most recently removed user who had ``username``, or None."""
        if not validation.is_text(username):
            return None
        prefix = validation.name_key(username.strip()) + REMOVED_MARK
        rows = self.store.read(
            "SELECT id, username, role, password_hash FROM users WHERE removed_at IS NOT NULL "
            "AND substr(username_key, 1, ?) = ? ORDER BY removed_at DESC LIMIT 1",
            (len(prefix), prefix),
        )
        return rows[0] if rows else None

    def _require_active(self, actor: User) -> User:
        """``actor`` as the database knows them now: a session outlives a removal or a
        change of role, so rights are read afresh, never taken from the session."""
        rows = self.store.read(
            "SELECT role FROM users WHERE id = ? AND removed_at IS NULL", (actor.id,)
        )
        if not rows:
            raise PermissionDenied("This account was removed; sign in again.")
        return User(actor.id, actor.username, rows[0]["role"])

    def get_user(self, username: str) -> User | None:
        row = self._find_user(username)
        return User(row["id"], row["username"], row["role"]) if row else None

    def _require_admin(self, actor: User, what: str) -> None:
        if not self._require_active(actor).is_admin:
            raise PermissionDenied(f"Only administrators can {what}.")

    # -- passwords ----------------------------------------------------------------------

    def _hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    def _verify_hash(self, password_hash: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        if not validation.is_text(password):
            return False
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _check_password(self, row, password: str) -> bool:
        return self._verify_hash(row["password_hash"], password)

    def _spend_equal_time(self, password: str) -> None:
        """Verify against a throwaway hash so an unknown name costs what a known one does."""
        if UsersMixin._DUMMY_HASH is None:
            import secrets  # lazily: it loads OpenSSL's hashlib

            UsersMixin._DUMMY_HASH = self.hasher.hash(secrets.token_hex(16))
        self._verify_hash(UsersMixin._DUMMY_HASH, password)

    def _new_password(self, password: str, confirm: str | None, username: str) -> str:
        validation.validate_new_password(
            password, confirm, min_length=self.config.min_password_length, username=username
        )
        return self._hash_password(password)

    # -- first run and sign-in ----------------------------------------------------------

    def create_first_admin(
        self, username: str, password: str, confirm: str | None = None, *, source: str = "tui"
    ) -> User:
        """First run only: create the administrator. Refused once any user exists."""
        username = validation.validate_username(username)
        password_hash = self._new_password(password, confirm, username)  # slow: before the lock
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE removed_at IS NULL LIMIT 1").fetchone():
                raise SetupError("An administrator already exists; sign in instead.")
            user = self._insert_user(conn, username, password_hash, "admin")
            self._audit(conn, "user_added", username, "First administrator created", source)
        return user

    def _insert_user(self, conn, username: str, password_hash: str, role: str) -> User:
        now = self.now()
        key = validation.name_key(username)
        if conn.execute("SELECT 1 FROM users WHERE username_key = ?", (key,)).fetchone():
            raise ValidationError("username", f"A user named {username!r} already exists.")
        cur = conn.execute(
            "INSERT INTO users (username, username_key, password_hash, role, created_at, "
            "password_changed_at) VALUES (?, ?, ?, ?, ?, ?)",
            (username, key, password_hash, role, now, now),
        )
        return User(cur.lastrowid, username, role)

    def authenticate(self, username: str, password: str, *, source: str = "tui") -> User:
        """Sign in. Any failure is the same :class:`AuthenticationError`; after too many
        failures for a name, :class:`AccountLocked` until the lock runs out."""
        self.check_lockout(username)
        row = self._find_user(username) if username.strip() else None
        if row is None:
            self._spend_equal_time(password)
            ok = False
        else:
            ok = self._check_password(row, password)
        if not ok:
            shown = row["username"] if row is not None else None
            what = "Sign-in failed" if row is not None else UNKNOWN_NAME_FAILURE
            self.audit("signin_failed", shown, what, source)
            self.record_failure(username, shown, source)
            raise AuthenticationError()
        self.clear_failures(username)
        self._rehash_if_needed(row, password)
        self.audit("signin", row["username"], "Signed in", source)
        return User(row["id"], row["username"], row["role"])

    # -- lockout ------------------------------------------------------------------------

    @staticmethod
    def _lock_key(username: str) -> str:
        """The name as counted for lockout: hashed, since a name nobody has is often a
        password typed into the wrong field, which the database must not keep."""
        import hashlib

        text = username if validation.is_text(username) else inert(username)
        key = validation.name_key(text.strip())
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def check_lockout(self, username: str) -> None:
        rows = self.store.read(
            "SELECT locked_until FROM signin_lockouts WHERE username_key = ?",
            (self._lock_key(username),),
        )
        until = rows[0]["locked_until"] if rows else None
        now = self.now()
        if until is not None and until > now:
            from datetime import datetime

            at = datetime.fromtimestamp(until).astimezone()
            minutes = -(-(until - now) // 60)
            raise AccountLocked(
                f"Too many failed sign-ins for this name: try again at {at:%H:%M %Z} "
                f"(in {minutes} min).",
                until,
            )

    def record_failure(self, username: str, shown: str | None, source: str) -> None:
        """Count a failed password for ``username``; lock it once there are too many."""
        key, now = self._lock_key(username), self.now()
        window = self.config.lockout_minutes * 60
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT failures, last_failure_at FROM signin_lockouts WHERE username_key = ?",
                (key,),
            ).fetchone()
            failures = (
                1
                if row is None or row["last_failure_at"] <= now - window
                else (row["failures"] + 1)
            )
            locked = now + window if failures >= self.config.lockout_attempts else None
            conn.execute(
                "INSERT INTO signin_lockouts (username_key, failures, last_failure_at, "
                "locked_until) VALUES (?, ?, ?, ?) ON CONFLICT (username_key) DO UPDATE SET "
                "failures = excluded.failures, last_failure_at = excluded.last_failure_at, "
                "locked_until = excluded.locked_until",
                (key, 0 if locked else failures, now, locked),
            )
            if locked:
                self._audit(
                    conn,
                    "signin_locked",
                    shown,
                    f"Locked for {self.config.lockout_minutes} min after {failures} failed "
                    "sign-ins",
                    source,
                )

    def clear_failures(self, username: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "DELETE FROM signin_lockouts WHERE username_key = ?", (self._lock_key(username),)
            )

    def _rehash_if_needed(self, row, password: str) -> None:
        if self.hasher.check_needs_rehash(row["password_hash"]):
            new_hash = self._hash_password(password)
            with self.store.transaction() as conn:
                conn.execute(
                    "UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, row["id"])
                )

    def sign_out(self, user: User, *, source: str = "tui") -> None:
        self.audit("signout", user.username, "Signed out", source)

    # -- administration -----------------------------------------------------------------

    def add_user(
        self,
        actor: User | None,
        username: str,
        password: str,
        confirm: str | None = None,
        *,
        role: str = "user",
        source: str = "tui",
    ) -> User:
        """An administrator adds a user. With no users yet, ``actor`` may be None and the
        first user must be an administrator (what the first-run screen does)."""
        if role not in ROLES:
            raise ValidationError("role", f"The role must be one of {', '.join(ROLES)}.")
        if actor is None:
            if self.has_users():
                raise PermissionDenied("Sign in as an administrator to add users.")
            if role != "admin":
                raise ValidationError("role", "The first user must be an administrator.")
            return self.create_first_admin(username, password, confirm, source=source)
        self._require_admin(actor, "add users")
        username = validation.validate_username(username)
        password_hash = self._new_password(password, confirm, username)
        with self.store.transaction() as conn:
            user = self._insert_user(conn, username, password_hash, role)
            self._audit(
                conn, "user_added", actor.username, f"User {username!r} added ({role})", source
            )
        return user

    def list_users(self, actor: User) -> list[UserRecord]:
        self._require_admin(actor, "list users")
        rows = self.store.read(
            "SELECT u.id, u.username, u.role, u.created_at, u.password_changed_at, "
            "(SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND t.status = 'active' "
            " AND (t.expires_at IS NULL OR t.expires_at > ?) "
            " AND NOT (t.kind = 'basic' AND t.password_epoch < u.password_epoch)) "
            "AS active_tokens "
            "FROM users u WHERE u.removed_at IS NULL ORDER BY u.username_key",
            (self.now(),),
        )
        return [UserRecord(**dict(row)) for row in rows]

    def _set_password(self, conn, row, password_hash: str) -> None:
        """Store a new password hash; the old one goes to the history (stale Basic tokens)."""
        now = self.now()
        conn.execute(
            "INSERT INTO password_history (user_id, epoch, password_hash, replaced_at) "
            "VALUES (?, ?, ?, ?)",
            (row["id"], row["password_epoch"], row["password_hash"], now),
        )
        conn.execute(
            "DELETE FROM password_history WHERE user_id = ? AND id NOT IN "
            "(SELECT id FROM password_history WHERE user_id = ? ORDER BY epoch DESC LIMIT ?)",
            (row["id"], row["id"], PASSWORD_HISTORY),
        )
        conn.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ?, "
            "password_epoch = password_epoch + 1 WHERE id = ?",
            (password_hash, now, row["id"]),
        )

    def _refuse_reuse(self, row, password: str) -> None:
        """A recent password may not come back: its old Basic tokens would live again."""
        history = self.store.read(
            "SELECT password_hash FROM password_history WHERE user_id = ?", (row["id"],)
        )
        if self._verify_hash(row["password_hash"], password) or any(
            self._verify_hash(old["password_hash"], password) for old in history
        ):
            raise ValidationError(
                "password", "That password was used before here; choose a new one."
            )

    def change_password(
        self, user: User, current: str, new: str, confirm: str | None = None, *, source="tui"
    ) -> None:
        """Every user changes their own password; Basic tokens made before go stale."""
        self._require_active(user)
        row = self._find_user(user.username)
        if row is None or not self._check_password(row, current):
            self.audit("password_change_failed", user.username, "Wrong current password", source)
            raise ValidationError("current", "The current password is not right.")
        if new == current:
            raise ValidationError("password", "The new password is the current one.")
        password_hash = self._new_password(new, confirm, row["username"])
        self._refuse_reuse(row, new)
        with self.store.transaction() as conn:
            self._set_password(conn, row, password_hash)
            self._audit(conn, "password_changed", row["username"], "Password changed", source)

    def reset_password(
        self, actor: User, username: str, new: str, confirm: str | None = None, *, source="tui"
    ) -> None:
        self._require_admin(actor, "reset passwords")
        row = self._find_user(username)
        if row is None:
            raise ValidationError("username", f"No user named {inert(username)!r}.")
        password_hash = self._new_password(new, confirm, row["username"])
        self._refuse_reuse(row, new)
        with self.store.transaction() as conn:
            self._set_password(conn, row, password_hash)
            self._audit(
                conn,
                "password_changed",
                actor.username,
                f"Password of {row['username']!r} reset",
                source,
            )

    def check_user_removal(self, actor: User, username: str) -> User:
        """Why ``actor`` may not remove ``username``, raised, before anyone is asked to
        confirm; else the user. ``remove_user`` checks it all again as it removes."""
        self._require_admin(actor, "remove users")
        row = self._find_user(username)
        if row is None:
            raise ValidationError("username", f"No user named {inert(username)!r}.")
        if row["id"] == actor.id:
            raise ValidationError("username", "You cannot remove yourself.")
        if row["role"] == "admin":
            self._refuse_last_admin(self.store.read)
        return User(row["id"], row["username"], row["role"])

    @staticmethod
    def _refuse_last_admin(read) -> None:
        admins = read("SELECT count(*) FROM users WHERE role = 'admin' AND removed_at IS NULL")
        if admins[0][0] <= 1:
            raise ValidationError("username", "The last administrator cannot be removed.")

    def remove_user(self, actor: User, username: str, *, source: str = "tui") -> int:
        """Remove a user and disable their tokens. Returns how many tokens were disabled."""
        target = self.check_user_removal(actor, username)
        now = self.now()
        with self.store.transaction() as conn:
            if target.is_admin:  # again, inside the write: another may have gone meanwhile
                self._refuse_last_admin(self.store.reader(conn))
            disabled = conn.execute(
                "UPDATE tokens SET status = 'disabled', status_changed_at = ?, "
                "disabled_by_admin = 1 WHERE user_id = ? AND status = 'active'",
                (now, target.id),
            ).rowcount
            # Keep the row (tokens and log lines refer to it) but free the name.
            conn.execute(
                "UPDATE users SET removed_at = ?, username_key = username_key || ? WHERE id = ?",
                (now, f"{REMOVED_MARK}{target.id}", target.id),
            )
            self._audit(
                conn,
                "user_removed",
                actor.username,
                f"User {target.username!r} removed; {disabled} token(s) disabled",
                source,
            )
        return disabled
