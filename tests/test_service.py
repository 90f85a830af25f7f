"""kopitui.service: first admin, sign-in, JWT and Basic tokens, the store (cases C06–C13)."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import stat
import time
import warnings
from pathlib import Path

import jwt
import pytest

from kopitui.config import ALGORITHMS, Config
from kopitui.service import (
    AuthenticationError,
    SetupError,
    StoreError,
    TokenService,
    User,
    ValidationError,
    fingerprint,
)
from kopitui.service.store import SCHEMA_VERSION
from kopitui.service.validation import basic_header_value

from helpers_core import FROZEN_NOW, isolate_home, make_config, make_service

ADMIN = "admin"
PASSWORD = "correct horse battery"
NONE_TOKEN = (
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJjaS1ib3QiLCJqdGkiOiJjaS10b2tlbiIsImlhdCI6MTcwMDAwMDAwMH0."
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    isolate_home(monkeypatch, tmp_path)


@pytest.fixture
def service(tmp_path):
    svc = make_service(tmp_path)
    yield svc
    svc.close()


@pytest.fixture
def admin(service) -> User:
    return service.create_first_admin(ADMIN, PASSWORD, PASSWORD)


def rows(service: TokenService, sql: str, params=()) -> list[dict]:
    return [dict(r) for r in service.store.read(sql, params)]


def decode(service: TokenService, token: str, **kwargs) -> dict:
    key = service.verification_key(jwt.get_unverified_header(token)["kid"])
    return jwt.decode(
        token,
        key,
        algorithms=[service.config.algorithm],
        audience=service.config.audience,
        issuer=service.config.issuer,
        **kwargs,
    )


def bare(issued) -> str:
    scheme, _, token = issued.header_value.partition(" ")
    assert scheme == "Bearer"
    return token


def add_user(service: TokenService, username: str, password: str, role: str = "user") -> User:
    """A second user, straight into the store (there is no API for it yet)."""
    from kopitui.service.validation import name_key

    with service.store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO users (username, username_key, password_hash, role, created_at, "
            "password_changed_at) VALUES (?, ?, ?, ?, ?, ?)",
            (username, name_key(username), service.hasher.hash(password), role, 0, 0),
        )
    return User(cur.lastrowid, username, role)


def every_stored_value(db: Path) -> list[object]:
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        values: list[object] = []
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                values.extend(row)
        return values
    finally:
        conn.close()


def assert_not_stored(db: Path, *secrets: str) -> None:
    """Neither through SQL (every table, every column) nor in the raw files."""
    values = every_stored_value(db)
    raw_files = [p.read_bytes() for p in db.parent.glob(db.name + "*")]
    for secret in secrets:
        needle = secret.encode("utf-8")
        for value in values:
            if isinstance(value, str):
                assert secret not in value
            elif isinstance(value, bytes):
                assert needle not in value
        for raw in raw_files:
            assert needle not in raw


# -- first administrator --------------------------------------------------------------------


def test_first_admin(service):
    assert not service.has_users()
    user = service.create_first_admin(ADMIN, PASSWORD, PASSWORD)
    assert user.username == ADMIN and user.is_admin
    assert service.has_users()
    [row] = rows(service, "SELECT username, role, password_hash FROM users")
    assert row["username"] == ADMIN and row["role"] == "admin"
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]
    assert rows(service, "SELECT event FROM audit_log WHERE event = 'user_added'")


def test_first_admin_only_once(service, admin):
    with pytest.raises(SetupError):
        service.create_first_admin("other", "another long password", "another long password")
    with pytest.raises(SetupError):
        service.create_first_admin(ADMIN, PASSWORD, PASSWORD)
    assert [r["username"] for r in rows(service, "SELECT username FROM users")] == [ADMIN]


def test_first_admin_once_across_restarts(tmp_path):
    first = make_service(tmp_path)
    first.create_first_admin(ADMIN, PASSWORD, PASSWORD)
    first.close()
    second = make_service(tmp_path)
    try:
        with pytest.raises(SetupError):
            second.create_first_admin("other", "another long password", None)
        assert second.authenticate(ADMIN, PASSWORD).username == ADMIN
    finally:
        second.close()


def test_password_min_length_comes_from_config(tmp_path):
    svc = make_service(tmp_path, make_config(security__min_password_length=16))
    try:
        with pytest.raises(ValidationError) as info:
            svc.create_first_admin(ADMIN, "x" * 15, "x" * 15)
        assert info.value.field == "password"
        assert "16" in info.value.message
        assert not svc.has_users()
        svc.create_first_admin(ADMIN, "x" * 16, "x" * 16)
        assert svc.has_users()
    finally:
        svc.close()


def test_password_may_not_be_the_username(service):
    with pytest.raises(ValidationError) as info:
        service.create_first_admin("administrator", "Administrator", "Administrator")
    assert info.value.field == "password"
    assert not service.has_users()


def test_confirm_mismatch(service):
    with pytest.raises(ValidationError) as info:
        service.create_first_admin(ADMIN, PASSWORD, PASSWORD + "!")
    assert info.value.field == "confirm"
    assert not service.has_users()


@pytest.mark.parametrize("username", ["", "  ", "10:10:5e:00:23:cf", "\x1b[31mroot", "a" * 65])
def test_first_admin_bad_username(service, username):
    with pytest.raises(ValidationError) as info:
        service.create_first_admin(username, PASSWORD, PASSWORD)
    assert info.value.field == "username"
    assert not service.has_users()


# -- sign in --------------------------------------------------------------------------------


def test_authenticate(service, admin):
    user = service.authenticate(ADMIN, PASSWORD)
    assert user == admin
    assert service.authenticate(" ADMIN ", PASSWORD) == admin  # names are case-insensitive
    events = [r["event"] for r in rows(service, "SELECT event FROM audit_log ORDER BY id")]
    assert events.count("signin") == 2


def test_wrong_name_and_wrong_password_look_the_same(service, admin):
    with pytest.raises(AuthenticationError) as wrong_password:
        service.authenticate(ADMIN, PASSWORD + "x")
    with pytest.raises(AuthenticationError) as wrong_name:
        service.authenticate("nobody", PASSWORD)
    with pytest.raises(AuthenticationError) as empty_name:
        service.authenticate("", PASSWORD)
    assert str(wrong_password.value) == str(wrong_name.value) == str(empty_name.value)
    assert str(wrong_password.value)
    failed = rows(
        service, "SELECT username, event FROM audit_log WHERE event = 'signin_failed' ORDER BY id"
    )
    # Names nobody has are not written down: often they are passwords in the wrong field.
    assert [r["username"] for r in failed] == [ADMIN, None, None]


def test_wrong_password_is_case_sensitive(service, admin):
    with pytest.raises(AuthenticationError):
        service.authenticate(ADMIN, PASSWORD.upper())


def test_a_typed_name_nobody_has_is_stored_nowhere(service, admin):
    typed = "\x1b[31mroot\x07\r\n\u202eevil\x9b2J" + "x" * 200
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            service.authenticate(typed, PASSWORD)
    failed = rows(
        service, "SELECT username, description FROM audit_log WHERE event = 'signin_failed'"
    )
    assert len(failed) == 3
    assert all(row["username"] is None for row in failed)
    assert not any("root" in row["description"] for row in failed)
    # The lockout still counts it, under a hash of the name.
    [lock] = rows(service, "SELECT username_key, failures FROM signin_lockouts")
    assert lock["failures"] == 3 and "root" not in lock["username_key"]


def test_lone_surrogate_password_is_a_failed_sign_in(service, admin):
    with pytest.raises(AuthenticationError):
        service.authenticate(ADMIN, "pass\udcffword")


# -- JWT ------------------------------------------------------------------------------------


def test_jwt_header_and_claims(service, admin):
    issued = service.issue_jwt(admin, "  ci deploy  ", "60")
    token = bare(issued)
    kid, secret = service.current_key()
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": kid}
    claims = decode(service, token, options={"verify_exp": False})
    assert claims == {
        "unique_name": "ci deploy",
        "sub": ADMIN,
        "iss": service.config.issuer,
        "aud": service.config.audience,
        "iat": FROZEN_NOW,
        "jti": issued.jti,
        "exp": 1700003600,  # C06
    }
    assert "nbf" not in claims  # C08: nothing in the future
    assert issued.kind == "jwt" and issued.name == "ci deploy" and issued.username == ADMIN
    assert issued.created_at == FROZEN_NOW and issued.expires_at == 1700003600


def test_c06_zero_minutes_means_no_exp(service, admin):
    issued = service.issue_jwt(admin, "forever", "0")
    claims = decode(service, bare(issued))  # no exp, so no expiry check to skip
    assert "exp" not in claims
    assert issued.expires_at is None
    [record] = rows(service, "SELECT expires_at FROM tokens WHERE jti = ?", (issued.jti,))
    assert record["expires_at"] is None


@pytest.mark.parametrize(
    ("minutes", "exp"), [(1, 1700000060), (60, 1700003600), (1440, 1700086400)]
)
def test_exp_is_iat_plus_sixty_times_minutes(service, admin, minutes, exp):
    issued = service.issue_jwt(admin, f"t{minutes}", minutes)
    claims = decode(service, bare(issued), options={"verify_exp": False})
    assert claims["iat"] == FROZEN_NOW
    assert claims["exp"] == exp


def test_issuer_and_audience_come_from_config(tmp_path):
    config = make_config(jwt__issuer="https://auth.example", jwt__audience="kopicloud-test")
    svc = make_service(tmp_path, config)
    try:
        user = svc.create_first_admin(ADMIN, PASSWORD, PASSWORD)
        claims = decode(svc, bare(svc.issue_jwt(user, "x", "0")))
        assert claims["iss"] == "https://auth.example"
        assert claims["aud"] == "kopicloud-test"
    finally:
        svc.close()


def test_full_verification_with_a_live_clock(tmp_path):
    now = int(time.time())
    svc = make_service(tmp_path, clock=lambda: now)
    try:
        user = svc.create_first_admin(ADMIN, PASSWORD, PASSWORD)
        claims = decode(svc, bare(svc.issue_jwt(user, "live", "60")))
        assert claims["exp"] == now + 3600
        with pytest.raises(jwt.InvalidAudienceError):
            jwt.decode(
                bare(svc.issue_jwt(user, "live2", "60")),
                svc.current_key()[1],
                algorithms=["HS256"],
                audience="someone-else",
            )
    finally:
        svc.close()


def test_c10_numeric_username_round_trips_as_a_string(service):
    user = service.create_first_admin("1234", PASSWORD, PASSWORD)
    issued = service.issue_jwt(user, "numeric", "0")
    claims = decode(service, bare(issued))
    assert claims["sub"] == "1234"
    assert isinstance(claims["sub"], str)


def test_jti_is_random_and_unique(service, admin):
    jtis = [service.issue_jwt(admin, f"token {i}", "0").jti for i in range(20)]
    assert len(set(jtis)) == 20
    assert all(len(j) >= 16 for j in jtis)
    claims = [decode(service, bare(service.issue_jwt(admin, f"again {i}", "0"))) for i in range(2)]
    assert claims[0]["jti"] != claims[1]["jti"]
    # Same name, user, clock and minutes: only the jti tells them apart, so tokens differ.
    assert claims[0]["iat"] == claims[1]["iat"]


def test_name_unique_per_user_case_insensitive(service, admin):
    service.issue_jwt(admin, "ci", "0")
    for again in ("CI", " ci ", "Ci"):
        with pytest.raises(ValidationError) as info:
            service.issue_jwt(admin, again, "0")
        assert info.value.field == "name"
    assert len(rows(service, "SELECT 1 FROM tokens")) == 1
    with pytest.raises(ValidationError) as info:
        service.check_token_name(admin, "CI")
    assert info.value.field == "name"


def test_another_user_may_reuse_a_name(service, admin):
    service.issue_jwt(admin, "ci", "0")
    bob = add_user(service, "bob", "bobs long password")
    issued = service.issue_jwt(bob, "CI", "0")
    assert decode(service, bare(issued))["sub"] == "bob"
    assert service.check_token_name(bob, "other") == "other"


@pytest.mark.parametrize(
    ("name", "minutes", "field"),
    [
        ("", "60", "name"),
        ("\x1b[31mred", "60", "name"),
        ("a\u202eb", "60", "name"),
        ("x" * 65, "60", "name"),
        ("ok", "1h", "minutes"),
        ("ok", "-5", "minutes"),
        ("ok", "3600.5", "minutes"),
        ("ok", "1e999", "minutes"),
        ("ok", "1000000000000", "minutes"),
        ("ok", "", "minutes"),
        ("ok", "4195038347", "minutes"),  # one past year 9999 from the frozen clock
    ],
)
def test_issue_jwt_refuses_bad_input(service, admin, name, minutes, field):
    with pytest.raises(ValidationError) as info:
        service.issue_jwt(admin, name, minutes)
    assert info.value.field == field
    assert not rows(service, "SELECT 1 FROM tokens")


def test_issue_jwt_largest_expiry(service, admin):
    issued = service.issue_jwt(admin, "far", "4195038346")
    assert issued.expires_at == 253402300760
    claims = decode(service, bare(issued))
    assert claims["exp"] == 253402300760


def test_issue_jwt_respects_max_and_allow_never(tmp_path):
    config = make_config(jwt__max_expiry_minutes=1440, jwt__allow_never_expires=False)
    svc = make_service(tmp_path, config)
    try:
        user = svc.create_first_admin(ADMIN, PASSWORD, PASSWORD)
        for minutes in ("1441", "0"):
            with pytest.raises(ValidationError) as info:
                svc.issue_jwt(user, "x", minutes)
            assert info.value.field == "minutes"
        assert svc.issue_jwt(user, "x", "1440").expires_at == FROZEN_NOW + 1440 * 60
        assert svc.preview_expiry("1440") == FROZEN_NOW + 1440 * 60
    finally:
        svc.close()


def test_preview_expiry(service):
    assert service.preview_expiry("0") is None
    assert service.preview_expiry(" 60 ") == 1700003600
    with pytest.raises(ValidationError):
        service.preview_expiry("1h")


def test_record_and_fingerprint(service, admin):
    issued = service.issue_jwt(admin, "ci", "60")
    expected = hashlib.sha256(issued.header_value.encode("utf-8")).hexdigest()
    assert issued.fingerprint == expected == fingerprint(issued.header_value)
    [record] = rows(service, "SELECT * FROM tokens")
    assert record["jti"] == issued.jti
    assert record["name"] == "ci"
    assert record["kind"] == "jwt"
    assert record["user_id"] == admin.id
    assert record["created_at"] == FROZEN_NOW
    assert record["expires_at"] == 1700003600
    assert record["status"] == "active"
    assert record["fingerprint"] == expected
    assert record["kid"] == service.current_key()[0]
    assert rows(service, "SELECT 1 FROM audit_log WHERE event = 'token_generated'")


def test_token_and_password_never_stored(tmp_path, service, admin):
    issued = service.issue_jwt(admin, "ci", "60")
    token = bare(issued)
    basic = service.issue_basic(ADMIN, PASSWORD)
    b64 = basic.header_value.removeprefix("Basic ")
    service.close()
    db = tmp_path / "data" / "kopitui.db"
    # The signature and payload parts too: a stored part would be as bad as the whole.
    _, payload, signature = token.split(".")
    assert_not_stored(db, token, issued.header_value, payload, signature, PASSWORD, b64)


def test_c09_signing_key_is_long_and_stable(tmp_path, service):
    kid, secret = service.current_key()
    assert isinstance(secret, bytes) and len(secret) >= 32
    assert service.current_key() == (kid, secret)
    assert service.verification_key(kid) == secret
    assert service.verification_key("no-such-kid") is None
    assert service.verification_key(None) is None
    service.close()
    again = make_service(tmp_path)
    try:
        assert again.current_key() == (kid, secret)
    finally:
        again.close()


def test_two_services_get_different_keys(tmp_path):
    a = TokenService(Config(), tmp_path / "a" / "kopitui.db")
    b = TokenService(Config(), tmp_path / "b" / "kopitui.db")
    try:
        assert a.current_key()[1] != b.current_key()[1]
        assert a.current_key()[0] != b.current_key()[0]
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_c09_mint_and_decode_raise_no_warning(tmp_path, algorithm):
    """PyJWT warns (InsecureKeyLengthWarning) when the key is shorter than the hash."""
    svc = make_service(tmp_path, make_config(jwt__algorithm=algorithm))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            user = svc.create_first_admin(ADMIN, PASSWORD, PASSWORD)
            issued = svc.issue_jwt(user, "strict", "0")
            token = bare(issued)
            assert jwt.get_unverified_header(token)["alg"] == algorithm
            claims = decode(svc, token)
        assert claims["sub"] == ADMIN
    finally:
        svc.close()


def test_c11_alg_none_is_rejected(service, admin):
    service.issue_jwt(admin, "make a key", "0")
    _, secret = service.current_key()
    with pytest.raises(jwt.InvalidTokenError):
        jwt.decode(NONE_TOKEN, secret, algorithms=[service.config.algorithm])
    for presented in (NONE_TOKEN, f"Bearer {NONE_TOKEN}", f"Auth-Token: Bearer {NONE_TOKEN}"):
        verdict = service.verify(presented)
        assert not verdict.valid
        assert verdict.code == "algorithm_not_allowed"
        assert "'none'" in verdict.reason


def test_c11_a_forged_signature_is_rejected(service, admin):
    token = bare(service.issue_jwt(admin, "real", "0"))
    header = jwt.get_unverified_header(token)
    forged = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}),
        b"k" * 32,
        algorithm="HS256",
        headers={"kid": header["kid"]},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        decode(service, forged)


# -- Basic ----------------------------------------------------------------------------------


def test_issue_basic_c12(tmp_path):
    svc = make_service(tmp_path, make_config(security__min_password_length=8))
    try:
        svc.create_first_admin("ops", "Pass:w$rd!", "Pass:w$rd!")
        issued = svc.issue_basic("ops", "Pass:w$rd!")
        assert issued.header_value == "Basic b3BzOlBhc3M6dyRyZCE="
        assert issued.header_value == basic_header_value("ops", "Pass:w$rd!")
        assert issued.scheme == "Basic"
    finally:
        svc.close()


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("søren", "SØREN", "Basic c8O4cmVuOlPDmFJFTg=="),
        ("test", "123£", "Basic dGVzdDoxMjPCow=="),
        ("dev", "pa🔑ss", "Basic ZGV2OnBh8J+UkXNz"),
    ],
)
def test_issue_basic_c13_utf8(service, admin, username, password, expected):
    add_user(service, username, password)  # short passwords: straight into the store
    issued = service.issue_basic(username, password)
    assert issued.header_value == expected
    raw = base64.b64decode(issued.header_value.removeprefix("Basic "), validate=True)
    assert raw.decode("utf-8") == f"{username}:{password}"


def test_issue_basic_uses_the_stored_spelling(service, admin):
    assert service.issue_basic(" ADMIN ", PASSWORD).header_value == basic_header_value(
        ADMIN, PASSWORD
    )


def test_issue_basic_wrong_pair_has_the_sign_in_message(service, admin):
    with pytest.raises(AuthenticationError) as sign_in:
        service.authenticate(ADMIN, "wrong password")
    with pytest.raises(AuthenticationError) as wrong_password:
        service.issue_basic(ADMIN, "wrong password")
    with pytest.raises(AuthenticationError) as unknown_user:
        service.issue_basic("nobody", PASSWORD)
    assert str(wrong_password.value) == str(unknown_user.value) == str(sign_in.value)
    assert not rows(service, "SELECT 1 FROM tokens")
    failed = rows(service, "SELECT username FROM audit_log WHERE event = 'basic_failed'")
    # A name nobody has is not written down (it may be a password in the wrong field).
    assert [r["username"] for r in failed] == [ADMIN, None]


@pytest.mark.parametrize("username", ["10:10:5e:00:23:cf", "admin:", ":admin"])
def test_issue_basic_colon_in_username(service, admin, username):
    with pytest.raises(ValidationError) as info:
        service.issue_basic(username, PASSWORD)
    assert info.value.field == "username"


def test_issue_basic_record(service, admin):
    issued = service.issue_basic(ADMIN, PASSWORD)
    assert issued.fingerprint is None and issued.expires_at is None
    [record] = rows(service, "SELECT * FROM tokens")
    assert record["kind"] == "basic"
    assert record["fingerprint"] is None
    assert record["expires_at"] is None
    assert record["user_id"] == admin.id
    assert record["created_at"] == FROZEN_NOW
    assert record["jti"] == issued.jti
    # The same user and password always make the same token: one record per password.
    again = service.issue_basic(ADMIN, PASSWORD)
    assert again.header_value == issued.header_value and again.jti == issued.jti
    assert len(rows(service, "SELECT 1 FROM tokens WHERE kind = 'basic'")) == 1


# -- the store ------------------------------------------------------------------------------


def test_store_file_modes(tmp_path, service, admin):
    service.issue_jwt(admin, "ci", "0")
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = list(data.glob("kopitui.db*"))
    assert data / "kopitui.db" in files
    for path in files:  # the WAL and shared-memory files too
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_schema_version(service):
    assert service.store.read("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    tables = {r[0] for r in service.store.read("SELECT name FROM sqlite_master")}
    assert {"users", "signing_keys", "tokens", "audit_log"} <= tables


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "data" / "kopitui.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError) as info:
        TokenService(Config(), db)
    assert str(db) in str(info.value)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    finally:
        conn.close()


@pytest.mark.parametrize(
    "content", [b"this is not a database\n" * 50, b"SQLite format 3\x00" + b"\xff" * 200]
)
def test_non_database_file_is_refused(tmp_path, content):
    db = tmp_path / "kopitui.db"
    db.write_bytes(content)
    with pytest.raises(StoreError) as info:
        TokenService(Config(), db)
    assert str(db) in str(info.value)
    assert db.read_bytes() == content


def test_database_in_an_unusable_place(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        TokenService(Config(), blocker / "kopitui.db")
