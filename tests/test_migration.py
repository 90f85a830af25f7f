"""Schema v2 (issue 3) over a database written by schema v1 (issue 2).

The v1 database is built by hand from a frozen copy of the v1 schema, as a user of the
first release has it on disk, then opened with TokenService.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import jwt
import pytest
from argon2 import PasswordHasher

from kopitui.config import resolve_paths
from kopitui.service import StoreError, TokenService, ValidationError, fingerprint
from kopitui.service.store import _SCHEMA_V1, SCHEMA_VERSION
from kopitui.service.users import ARGON2_PARAMS

from helpers_core import FROZEN_NOW
from support import ADMIN, ADMIN_PASSWORD

#: The v1 schema as released; store._SCHEMA_V1 must never change (databases exist).
SCHEMA_V1 = """
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

V1_TIME = 1690000000  # 2023-07-22, months before FROZEN_NOW
KID = "0123456789abcdef"
SECRET = hashlib.sha256(b"a v1 signing key").digest()  # 32 bytes, as v1 made for HS256
OPS, OPS_PASSWORD = "Ops", "ops long password"
DANA, DANA_PASSWORD = "dana", "dana's long password"


def v1_jwt(jti: str = "jwt-1", name: str = "CI", sub: str = OPS) -> str:
    """A token as v1 minted it: never expires, signed with the stored key."""
    claims = {
        "unique_name": name,
        "sub": sub,
        "iss": "kopitui",
        "aud": "kopicloud-ad-api",
        "iat": V1_TIME,
        "jti": jti,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": KID})


def build_v1(path: Path, *, extra_sql: str = "") -> None:
    """A v1 database: an admin with a JWT and two Basic records (v1 made one per
    generation), a user with two Basic records too, a signing key and log lines."""
    hasher = PasswordHasher(**ARGON2_PARAMS)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA_V1)
        conn.execute("PRAGMA user_version = 1")
        conn.executemany(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (1, OPS, "ops", hasher.hash(OPS_PASSWORD), "admin", V1_TIME, V1_TIME),
                (2, DANA, "dana", hasher.hash(DANA_PASSWORD), "user", V1_TIME, V1_TIME),
            ],
        )
        conn.execute(
            "INSERT INTO signing_keys VALUES (?, 'HS256', ?, ?, NULL, 1)", (KID, SECRET, V1_TIME)
        )
        conn.executemany(
            "INSERT INTO tokens (id, jti, name, name_key, kind, user_id, created_at, "
            "expires_at, status, fingerprint, kid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (1, "jwt-1", "CI", "ci", "jwt", 1, V1_TIME, None, "active",
                 fingerprint(f"Bearer {v1_jwt()}"), KID),
                (2, "basic-1", "Basic Ops", "basic ops", "basic", 1, V1_TIME + 1, None,
                 "active", None, None),
                (3, "basic-2", "Basic Ops", "basic ops", "basic", 1, V1_TIME + 2, None,
                 "active", None, None),
                (4, "basic-3", "Basic dana", "basic dana", "basic", 2, V1_TIME + 3, None,
                 "active", None, None),
                (5, "basic-4", "Basic dana", "basic dana", "basic", 2, V1_TIME + 4, None,
                 "active", None, None),
            ],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO audit_log (at, username, source, event, description) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (V1_TIME, OPS, "tui", "user_added", "First administrator created"),
                (V1_TIME, None, "service", "key_created", f"Signing key {KID} created"),
                (V1_TIME, OPS, "tui", "token_generated", "JWT 'CI' (never expires)"),
            ],
        )
        if extra_sql:
            conn.executescript(extra_sql)
        conn.commit()
    finally:
        conn.close()


def read(path: Path, sql: str, params=()) -> list[dict]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def user_version(path: Path) -> int:
    return read(path, "PRAGMA user_version")[0]["user_version"]


@pytest.fixture
def v1_path() -> Path:
    path = resolve_paths().database
    build_v1(path)
    assert user_version(path) == 1
    return path


@pytest.fixture
def migrated(config, v1_path):
    svc = TokenService(config, v1_path, clock=lambda: FROZEN_NOW)
    yield svc
    svc.close()


def _words(sql: str) -> list[str]:
    return sql.split()


def test_the_v1_schema_in_store_is_unchanged():
    assert _words(_SCHEMA_V1) == _words(SCHEMA_V1)
    assert SCHEMA_VERSION >= 2


def test_migration_sets_the_version_and_keeps_users(migrated, v1_path):
    assert user_version(v1_path) == SCHEMA_VERSION  # 2 for issue 3; later versions on top
    users = read(v1_path, "SELECT * FROM users ORDER BY id")
    assert [
        {k: u[k] for k in ("id", "username", "username_key", "role", "created_at",
                           "password_changed_at", "removed_at", "password_epoch")}
        for u in users
    ] == [
        {"id": 1, "username": OPS, "username_key": "ops", "role": "admin",
         "created_at": V1_TIME, "password_changed_at": V1_TIME, "removed_at": None,
         "password_epoch": 1},
        {"id": 2, "username": DANA, "username_key": "dana", "role": "user",
         "created_at": V1_TIME, "password_changed_at": V1_TIME, "removed_at": None,
         "password_epoch": 1},
    ]  # fmt: skip
    assert all(u["password_hash"].startswith("$argon2id$") for u in users)
    assert read(v1_path, "SELECT * FROM password_history") == []
    admin = migrated.authenticate("ops", OPS_PASSWORD)
    assert (admin.id, admin.username, admin.role) == (1, OPS, "admin")
    assert [u.username for u in migrated.list_users(admin)] == [DANA, OPS]


def test_migration_resolves_duplicate_basic_records(migrated, v1_path):
    tokens = read(
        v1_path,
        "SELECT id, jti, kind, user_id, status, password_epoch, status_changed_at "
        "FROM tokens ORDER BY id",
    )
    assert tokens == [
        {"id": 1, "jti": "jwt-1", "kind": "jwt", "user_id": 1, "status": "active",
         "password_epoch": None, "status_changed_at": None},
        {"id": 2, "jti": "basic-1", "kind": "basic", "user_id": 1, "status": "active",
         "password_epoch": 1, "status_changed_at": None},
        {"id": 3, "jti": "basic-2", "kind": "basic", "user_id": 1, "status": "deleted",
         "password_epoch": 1, "status_changed_at": None},
        {"id": 4, "jti": "basic-3", "kind": "basic", "user_id": 2, "status": "active",
         "password_epoch": 1, "status_changed_at": None},
        {"id": 5, "jti": "basic-4", "kind": "basic", "user_id": 2, "status": "deleted",
         "password_epoch": 1, "status_changed_at": None},
    ]  # fmt: skip
    # The rest of every row is as v1 wrote it.
    jwt_row = read(v1_path, "SELECT * FROM tokens WHERE id = 1")[0]
    assert (jwt_row["name"], jwt_row["name_key"], jwt_row["created_at"], jwt_row["kid"]) == (
        "CI",
        "ci",
        V1_TIME,
        KID,
    )
    assert jwt_row["fingerprint"] == fingerprint(f"Bearer {v1_jwt()}")
    admin = migrated.authenticate(OPS, OPS_PASSWORD)
    page = migrated.list_tokens(admin, sort="created", descending=False)
    assert [(r.id, r.name, r.status) for r in page.rows] == [
        (1, "CI", "Active"),
        (2, "Basic Ops", "Active"),
        (4, "Basic dana", "Active"),
    ]
    assert page.total == 3


def test_migration_keeps_the_audit_log_and_the_key(migrated, v1_path):
    assert [(r["at"], r["event"]) for r in read(v1_path, "SELECT * FROM audit_log ORDER BY id")][
        :3
    ] == [(V1_TIME, "user_added"), (V1_TIME, "key_created"), (V1_TIME, "token_generated")]
    assert migrated.current_key() == (KID, SECRET)
    assert read(v1_path, "SELECT kid FROM signing_keys") == [{"kid": KID}]


def test_migration_adds_the_v2_indexes(migrated, v1_path):
    indexes = {
        r["name"]: r["sql"]
        for r in read(v1_path, "SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        if r["sql"]
    }
    assert {
        "tokens_user_name",
        "tokens_created_cover",  # v4 replaced v1's tokens_created
        "tokens_status_user",
        "audit_log_at",
        "password_history_user",
        "tokens_user_basic",
        "tokens_user_created",
        "tokens_name",
        "tokens_expires",
        "audit_log_event",
    } <= set(indexes)
    assert "status != 'deleted'" in indexes["tokens_user_name"]


def test_a_v1_jwt_still_verifies(migrated):
    verdict = migrated.verify(f"Auth-Token: Bearer {v1_jwt()}")
    assert (verdict.code, verdict.kind, verdict.username, verdict.token_name) == (
        "valid",
        "jwt",
        OPS,
        "CI",
    )
    # A made-up jti under the same key is still unknown; a forged signature still bad.
    assert migrated.verify(v1_jwt(jti="never-issued")).code == "unknown"
    forged = jwt.encode(
        jwt.decode(v1_jwt(), options={"verify_signature": False}),
        b"x" * 32,
        algorithm="HS256",
        headers={"kid": KID},
    )
    assert migrated.verify(forged).code == "bad_signature"


def test_v1_basic_tokens_after_migration(migrated):
    # The surviving record answers; generating again shows it, not a third one.
    ops_token = migrated.issue_basic(OPS, OPS_PASSWORD)
    assert ops_token.jti == "basic-1"
    verdict = migrated.verify(ops_token.header_value)
    assert (verdict.code, verdict.username, verdict.token_name) == ("valid", OPS, "Basic Ops")
    dana_token = migrated.issue_basic(DANA, DANA_PASSWORD)
    assert dana_token.jti == "basic-3"
    assert len(migrated.store.read("SELECT 1 FROM tokens WHERE kind = 'basic'")) == 4
    # The v2 rules hold for them: a password change makes dana's stale, not Ops's.
    dana = migrated.authenticate(DANA, DANA_PASSWORD)
    migrated.change_password(dana, DANA_PASSWORD, "dana's new password")
    stale = migrated.verify(dana_token.header_value)
    assert (stale.code, stale.username) == ("stale", DANA)
    assert migrated.verify(ops_token.header_value).code == "valid"


def test_v2_name_rules_after_migration(migrated):
    admin = migrated.authenticate(OPS, OPS_PASSWORD)
    with pytest.raises(ValidationError):
        migrated.issue_jwt(admin, "ci", "0")
    [tid] = migrated.find_tokens(admin, "CI")
    migrated.delete_token(admin, tid)
    assert migrated.verify(v1_jwt()).code == "deleted"
    again = migrated.issue_jwt(admin, "ci", "0")
    assert migrated.verify(again.header_value).code == "valid"


def test_reopening_a_migrated_database_changes_nothing(config, migrated, v1_path):
    migrated.close()
    before = {
        t: read(v1_path, f'SELECT * FROM "{t}"')
        for t in ("users", "tokens", "signing_keys", "audit_log", "password_history")
    }
    schema = read(v1_path, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
    again = TokenService(config, v1_path, clock=lambda: FROZEN_NOW)
    try:
        assert user_version(v1_path) == SCHEMA_VERSION
        assert read(v1_path, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
        for table, table_rows in before.items():
            assert read(v1_path, f'SELECT * FROM "{table}"') == table_rows
    finally:
        again.close()


def test_a_failed_migration_leaves_the_v1_database_as_it_was(config):
    # A stray table in the way of v2 makes the migration fail half-way through.
    path = resolve_paths().database
    build_v1(path, extra_sql="CREATE TABLE password_history (x INTEGER);")
    before = read(path, "SELECT * FROM users ORDER BY id")
    with pytest.raises(StoreError) as info:
        TokenService(config, path, clock=lambda: FROZEN_NOW)
    assert str(path) in str(info.value)
    assert user_version(path) == 1
    assert read(path, "SELECT * FROM users ORDER BY id") == before
    assert "removed_at" not in before[0]
    statuses = [r["status"] for r in read(path, "SELECT status FROM tokens ORDER BY id")]
    assert statuses == ["active"] * 5


def test_v6_drops_lockouts_keyed_by_the_typed_text(config, service, admin):
    # As a v5 kopitui left it: the lockout row holds the typed name (maybe a password).
    with service.store.transaction() as conn:
        conn.execute(
            "INSERT INTO signin_lockouts (username_key, failures, last_failure_at) "
            "VALUES ('hunter2-my-password', 2, ?)",
            (FROZEN_NOW,),
        )
        conn.execute("PRAGMA user_version = 5")
    path = service.store.path
    service.close()
    reopened = TokenService(config, path, clock=lambda: FROZEN_NOW)
    try:
        assert user_version(path) == SCHEMA_VERSION >= 6
        assert read(path, "SELECT * FROM signin_lockouts") == []
        assert reopened.authenticate(ADMIN, ADMIN_PASSWORD).username == ADMIN
    finally:
        reopened.close()
