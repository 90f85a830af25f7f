"""The embedded SQLite store: schema, migrations and the connection.

The database file is created 0600 inside a 0700 folder. The schema version lives in
``PRAGMA user_version`` so later versions can migrate; a newer version is refused.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import StoreError

SCHEMA_VERSION = 6

_SCHEMA_V1 = """
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT NOT NULL,
    username_key        TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    algorithm  TEXT NOT NULL,
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    is_current INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    jti         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('jwt', 'basic')),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    status      TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'disabled', 'deleted')),
    fingerprint TEXT,
    kid         TEXT
);
-- A JWT token name is unique per user, compared case-insensitively (name_key).
CREATE UNIQUE INDEX tokens_user_name ON tokens (user_id, name_key) WHERE kind = 'jwt';
CREATE INDEX tokens_created ON tokens (created_at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    username    TEXT,
    source      TEXT NOT NULL,
    event       TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
"""

# v2: the token lifecycle. Users can be removed (their row stays, renamed out of the
# way, so their tokens and log lines keep a name) and change passwords; Basic tokens
# remember which password they were made with (password_epoch), old password hashes
# are kept to tell a stale Basic token from a wrong one; deleted tokens free their name.
_SCHEMA_V2 = """
ALTER TABLE users ADD COLUMN removed_at INTEGER;
ALTER TABLE users ADD COLUMN password_epoch INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tokens ADD COLUMN password_epoch INTEGER;
ALTER TABLE tokens ADD COLUMN status_changed_at INTEGER;
CREATE TABLE password_history (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    epoch         INTEGER NOT NULL,
    password_hash TEXT NOT NULL,
    replaced_at   INTEGER NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, epoch);
UPDATE tokens SET password_epoch = 1 WHERE kind = 'basic';
UPDATE tokens SET status = 'deleted' WHERE kind = 'basic' AND id NOT IN
    (SELECT min(id) FROM tokens WHERE kind = 'basic' GROUP BY user_id);
DROP INDEX tokens_user_name;
CREATE UNIQUE INDEX tokens_user_name ON tokens (user_id, name_key)
    WHERE kind = 'jwt' AND status != 'deleted';
CREATE UNIQUE INDEX tokens_user_basic ON tokens (user_id, password_epoch)
    WHERE kind = 'basic' AND status != 'deleted';
CREATE INDEX tokens_user_created ON tokens (user_id, created_at);
CREATE INDEX tokens_name ON tokens (name_key);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX audit_log_event ON audit_log (event, at);
"""

# v3: sign-in lockout, per typed name (known or not, so a lock reveals nothing) and
# kept in the database so it survives restarts.
_SCHEMA_V3 = """
CREATE TABLE signin_lockouts (
    username_key    TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until    INTEGER
);
"""

# v4: the Token List at 100,000 rows. The default order (newest first) and its count
# read one covering index instead of the table; filters by status and owner get theirs.
_SCHEMA_V4 = """
DROP INDEX tokens_created;
CREATE INDEX tokens_created_cover ON tokens (created_at, id, name_key, status, user_id);
CREATE INDEX tokens_status_user ON tokens (status, user_id);
"""

# v5: a token an administrator switched off stays off until an administrator switches
# it on; its owner can neither enable nor delete-and-regenerate it.
_SCHEMA_V5 = """
ALTER TABLE tokens ADD COLUMN disabled_by_admin INTEGER NOT NULL DEFAULT 0;
"""

# v6: lockouts are keyed by a SHA-256 of the typed name, not the name: a name nobody has
# is often a password typed into the wrong field. Rows keyed the old way go (they only
# ever lived minutes).
_SCHEMA_V6 = """
DELETE FROM signin_lockouts;
"""

MIGRATIONS = {
    1: _SCHEMA_V1,
    2: _SCHEMA_V2,
    3: _SCHEMA_V3,
    4: _SCHEMA_V4,
    5: _SCHEMA_V5,
    6: _SCHEMA_V6,
}


#: The most rows one page of a listing returns.
PAGE_LIMIT = 1000


def searchable(text: str) -> str:
    """Search text as SQLite can take it: trimmed, and no lone surrogates (which
    arrive from undecodable command-line bytes)."""
    return text.strip().encode("utf-8", "replace").decode("utf-8")


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE … ESCAPE '\\'``, with the wildcards in ``text`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _retry_while_locked(step, seconds: float = 10.0):
    """SQLite does not wait out its busy timeout when switching to WAL, so two processes
    opening a brand-new database at once would see "database is locked": wait instead."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class Store:
    """One SQLite connection shared by the threads of one process, behind a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = self._open(path)
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not os.access(path.parent, os.W_OK):
                raise StoreError(f"{path.parent}: the data folder is read-only.")
            if not path.exists():
                # Create the file ourselves so it is 0600 from its first byte.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            conn = sqlite3.connect(
                path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: cannot open the database ({exc}).") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 10000")
            _retry_while_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"{path}: not a usable kopitui database ({exc}).") from None
        return conn

    def _migrate(self) -> None:
        try:
            with self.transaction() as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: the database was written by a newer kopitui "
                        f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade kopitui."
                    )
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[step].split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {step}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable kopitui database ({exc}).") from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error. A write the disk refuses
        (full, read-only, I/O error) is a :class:`StoreError`; what was committed stays."""
        conn = self._conn
        with self._lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{self.path}: cannot write the database ({exc}).") from None

    @staticmethod
    def reader(conn: sqlite3.Connection):
        """``read`` inside a transaction: a check that runs both before a question and
        again in the write takes either."""
        return lambda sql, params=(): conn.execute(sql, params).fetchall()

    def read(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot read the database ({exc}).") from None

    def read_page(
        self, select_sql: str, count_sql: str, params: dict, *, limit: int, offset: int
    ) -> tuple[list[sqlite3.Row], int]:
        """One page of ``select_sql`` (which ends ``LIMIT :limit OFFSET :offset``) and the
        number of rows in all. A short page is the last one, so it needs no count."""
        params = {**params, "limit": max(1, min(limit, PAGE_LIMIT)), "offset": max(0, offset)}
        rows = self.read(select_sql, params)
        if 0 < len(rows) < params["limit"] or (not rows and not params["offset"]):
            return rows, params["offset"] + len(rows)
        return rows, self.read(count_sql, params)[0][0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
