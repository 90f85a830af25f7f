"""Verification: every verdict, every accepted input form, the audit trail (issue 3).

The service under test has the frozen clock of conftest (FROZEN_NOW = 1700000000,
2023-11-14 22:13:20 UTC). Where a test needs another clock it opens a second
TokenService on the same database.
"""

from __future__ import annotations

import base64
import json
import os
import time

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kopitui.service import TokenService, User, Verdict
from kopitui.service.models import VERDICTS
from kopitui.service.verify import MAX_PRESENTED, parse_presented

from helpers_core import FROZEN_NOW, PROPERTY, any_text, make_config, make_service
from support import ADMIN, ADMIN_PASSWORD

#: Case C11, byte for byte.
NONE_TOKEN = (
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJjaS1ib3QiLCJqdGkiOiJjaS10b2tlbiIsImlhdCI6MTcwMDAwMDAwMH0."
)
BOB = "bob"
BOB_PASSWORD = "bob's long password"
LEEWAY = 30  # the default jwt.leeway_seconds

#: Basic verification hashes (argon2, ~25 ms): a quarter of the profile's examples.
#: Under the fuzz profile, every target runs its full 500.
HASHING = settings(
    max_examples=settings().max_examples
    if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
    else max(10, settings().max_examples // 4),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- helpers --------------------------------------------------------------------------------


class Clock:
    """A clock a test can move."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def bob(service, admin) -> User:
    return service.add_user(admin, BOB, BOB_PASSWORD, BOB_PASSWORD)


def bare(header_value: str) -> str:
    scheme, _, token = header_value.partition(" ")
    assert scheme in ("Bearer", "Basic")
    return token


def b64url(data: dict | list | str | int | None) -> str:
    raw = json.dumps(data).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def sign(service: TokenService, claims: dict, **kwargs) -> str:
    """A token signed with the service's own current key (or what kwargs say)."""
    kid, secret = service.current_key()
    key = kwargs.pop("key", secret)
    algorithm = kwargs.pop("algorithm", "HS256")
    headers = {"kid": kid, **kwargs.pop("headers", {})}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def own_claims(service: TokenService, **changes) -> dict:
    claims = {
        "unique_name": "made up",
        "sub": ADMIN,
        "iss": service.config.issuer,
        "aud": service.config.audience,
        "iat": FROZEN_NOW,
        "jti": "made-up-jti",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def audit_rows(service: TokenService, event: str | None = None) -> list[dict]:
    sql = "SELECT at, username, source, event, description FROM audit_log"
    params: tuple = ()
    if event is not None:
        sql += " WHERE event = ?"
        params = (event,)
    return [dict(r) for r in service.store.read(sql + " ORDER BY id", params)]


def token_id(service: TokenService, jti: str) -> int:
    return service.store.read("SELECT id FROM tokens WHERE jti = ?", (jti,))[0]["id"]


def assert_verdict(verdict: Verdict, code: str, **expected) -> None:
    assert isinstance(verdict, Verdict)
    assert verdict.code == code, verdict
    assert verdict.valid is (code == "valid")
    for name, value in expected.items():
        assert getattr(verdict, name) == value, (name, verdict)


# -- valid ----------------------------------------------------------------------------------


def test_valid_jwt_that_never_expires(service, admin):
    issued = service.issue_jwt(admin, "ci", "0")
    verdict = service.verify(issued.header_value)
    assert verdict == Verdict(
        "valid",
        "Valid: token 'ci' of 'admin', never expires.",
        kind="jwt",
        username=ADMIN,
        token_name="ci",
        expires_at=None,
    )
    assert verdict.as_json() == {
        "valid": True,
        "verdict": "valid",
        "reason": "Valid: token 'ci' of 'admin', never expires.",
        "type": "JWT",
        "username": ADMIN,
        "token_name": "ci",
        "expires_at": None,
    }
    assert audit_rows(service, "verify_failed") == []


def test_valid_jwt_with_an_expiry_under_the_services_clock(service, admin):
    # Minted and verified at FROZEN_NOW: 60 minutes left. The service's clock decides,
    # not the machine's wall clock.
    issued = service.issue_jwt(admin, "hourly", "60")
    verdict = service.verify(issued.header_value)
    assert verdict == Verdict(
        "valid",
        "Valid: token 'hourly' of 'admin', expires 2023-11-14 23:13:20 UTC.",
        kind="jwt",
        username=ADMIN,
        token_name="hourly",
        expires_at=FROZEN_NOW + 3600,
    )


def test_valid_basic(service, admin):
    issued = service.issue_basic(ADMIN, ADMIN_PASSWORD)
    verdict = service.verify(issued.header_value)
    assert verdict == Verdict(
        "valid",
        "Valid: Basic token of 'admin', never expires.",
        kind="basic",
        username=ADMIN,
        token_name="Basic admin",
        expires_at=None,
    )
    assert verdict.as_json()["type"] == "Basic"


# -- expired and not yet valid (leeway 30 s) ------------------------------------------------


@pytest.mark.parametrize(
    ("after_exp", "code"),
    [(0, "valid"), (LEEWAY - 1, "valid"), (LEEWAY, "expired"), (LEEWAY + 1, "expired")],
)
def test_expiry_leeway_under_the_services_clock(service, admin, services, after_exp, code):
    issued = service.issue_jwt(admin, "short", "1")  # exp = FROZEN_NOW + 60
    exp = FROZEN_NOW + 60
    assert issued.expires_at == exp
    later = services(Clock(exp + after_exp))
    verdict = later.verify(issued.header_value)
    assert_verdict(verdict, code, kind="jwt", username=ADMIN, token_name="short", expires_at=exp)
    if code == "expired":
        assert verdict.reason == "Expired at 2023-11-14 22:14:20 UTC."


@pytest.mark.parametrize(("margin", "code"), [(-10, "valid"), (10, "expired")])
def test_expiry_leeway_with_a_live_clock(service, admin, services, margin, code):
    # exp lands LEEWAY + margin seconds before the wall clock; 10 s of slack for slow runs.
    minter = services(lambda: time.time() - 60 - (LEEWAY + margin))
    issued = minter.issue_jwt(admin, "live", "1")
    verdict = services(time.time).verify(issued.header_value)
    assert_verdict(verdict, code, kind="jwt", username=ADMIN, token_name="live")
    assert verdict.expires_at == issued.expires_at


def test_expired_long_ago_still_names_its_owner(service, admin, services):
    issued = service.issue_jwt(admin, "old", "1")
    verdict = services(Clock(FROZEN_NOW + 3600)).verify(f"Bearer {bare(issued.header_value)}")
    assert_verdict(verdict, "expired", username=ADMIN, token_name="old")


@pytest.mark.parametrize(
    ("ahead", "code"), [(LEEWAY - 1, "valid"), (LEEWAY, "valid"), (LEEWAY + 1, "not_yet_valid")]
)
def test_not_yet_valid_under_the_services_clock(service, admin, services, ahead, code):
    # Another service on the same database whose clock runs ahead mints the token.
    minter = services(Clock(FROZEN_NOW + ahead))
    issued = minter.issue_jwt(admin, "from the future", "0")
    verdict = service.verify(issued.header_value)
    assert_verdict(verdict, code, kind="jwt", username=ADMIN, token_name="from the future")
    if code == "not_yet_valid":
        assert verdict.reason == (
            "Not yet valid: it becomes valid at 2023-11-14 22:13:51 UTC; the clock here may "
            "be behind the one that issued it."
        )


@pytest.mark.parametrize(("ahead", "code"), [(15, "valid"), (3600, "not_yet_valid")])
def test_not_yet_valid_with_a_live_clock(service, admin, services, ahead, code):
    minter = services(lambda: time.time() + ahead)
    issued = minter.issue_jwt(admin, "ahead", "0")
    verdict = services(time.time).verify(issued.header_value)
    assert_verdict(verdict, code, kind="jwt", username=ADMIN, token_name="ahead")


# -- disabled, deleted, unknown -------------------------------------------------------------


def test_disabled_then_enabled_jwt(service, admin):
    issued = service.issue_jwt(admin, "ci", "0")
    service.set_token_enabled(admin, token_id(service, issued.jti), False)
    assert service.verify(issued.header_value) == Verdict(
        "disabled", "Disabled: the token was disabled.", "jwt", ADMIN, "ci"
    )
    service.set_token_enabled(admin, token_id(service, issued.jti), True)
    assert service.verify(issued.header_value).code == "valid"


def test_disabled_basic(service, admin):
    issued = service.issue_basic(ADMIN, ADMIN_PASSWORD)
    service.set_token_enabled(admin, token_id(service, issued.jti), False)
    assert service.verify(issued.header_value) == Verdict(
        "disabled", "Disabled: the token was disabled.", "basic", ADMIN, "Basic admin"
    )


def test_deleted_jwt(service, admin):
    issued = service.issue_jwt(admin, "ci", "0")
    service.delete_token(admin, token_id(service, issued.jti))
    assert service.verify(issued.header_value) == Verdict(
        "deleted", "Deleted: the token was deleted.", "jwt", ADMIN, "ci"
    )
    # The name is free again, but the new token is another token.
    again = service.issue_jwt(admin, "ci", "0")
    assert service.verify(again.header_value).code == "valid"
    assert service.verify(issued.header_value).code == "deleted"


def test_deleted_basic_then_generated_again(service, admin):
    issued = service.issue_basic(ADMIN, ADMIN_PASSWORD)
    service.delete_token(admin, token_id(service, issued.jti))
    assert service.verify(issued.header_value) == Verdict(
        "deleted", "Deleted: the token was deleted.", "basic", ADMIN, "Basic admin"
    )
    again = service.issue_basic(ADMIN, ADMIN_PASSWORD)
    assert again.jti != issued.jti
    assert again.header_value == issued.header_value
    assert service.verify(issued.header_value).code == "valid"


def test_unknown_jti_signed_with_the_services_own_key(service, admin):
    service.issue_jwt(admin, "ci", "0")
    forged = sign(service, own_claims(service, jti="never-issued"))
    assert service.verify(forged) == Verdict(
        "unknown", "Unknown: this service has no record of the token.", kind="jwt"
    )


def test_unknown_jwt_whose_jti_names_a_basic_record(service, admin):
    basic_token = service.issue_basic(ADMIN, ADMIN_PASSWORD)
    forged = sign(service, own_claims(service, jti=basic_token.jti))
    assert_verdict(service.verify(forged), "unknown", kind="jwt")


def test_unknown_basic_right_credentials_but_never_generated(service, admin):
    # Exactly what a wrong password gets: /auth must not confirm a guessed password.
    verdict = service.verify(basic(ADMIN, ADMIN_PASSWORD))
    assert verdict == service.verify(basic(ADMIN, "a wrong password!"))
    assert verdict == Verdict(
        "unknown", "Unknown: no such user, or the password is wrong.", kind="basic"
    )


@pytest.mark.parametrize("spelling", ["ADMIN", " admin", "Admin"])
def test_basic_tokens_carry_the_name_as_stored(service, admin, spelling):
    service.issue_basic(ADMIN, ADMIN_PASSWORD)
    assert service.verify(basic(ADMIN, ADMIN_PASSWORD)).valid
    assert service.verify(basic(spelling, ADMIN_PASSWORD)).code == "unknown"


def test_unknown_basic_user(service, admin):
    assert service.verify(basic("nobody", ADMIN_PASSWORD)) == Verdict(
        "unknown", "Unknown: no such user, or the password is wrong.", kind="basic"
    )


# -- bad signature, issuer, audience, algorithm ---------------------------------------------


def test_bad_signature_altered(service, admin):
    token = bare(service.issue_jwt(admin, "ci", "0").header_value)
    head, payload, signature = token.split(".")
    # A middle character: every one of its bits is part of the signature.
    middle = len(signature) // 2
    swapped = "A" if signature[middle] != "A" else "B"
    altered = f"{head}.{payload}.{signature[:middle]}{swapped}{signature[middle + 1 :]}"
    assert service.verify(altered) == Verdict(
        "bad_signature", "Bad signature: the token was altered.", kind="jwt"
    )
    # Claims changed under the old signature are caught the same way.
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = "root"
    tampered = f"{head}.{b64url(claims)}.{signature}"
    assert service.verify(tampered).code == "bad_signature"


def test_bad_signature_other_key_same_kid(service, admin):
    service.issue_jwt(admin, "ci", "0")
    forged = sign(service, own_claims(service, jti="x"), key=b"k" * 32)
    assert_verdict(service.verify(forged), "bad_signature", kind="jwt")


def test_bad_signature_unknown_kid(service, admin):
    service.issue_jwt(admin, "ci", "0")
    forged = sign(service, own_claims(service), headers={"kid": "0123456789abcdef"})
    assert service.verify(forged) == Verdict(
        "bad_signature",
        "Bad signature: the token was not signed by a key of this service.",
        kind="jwt",
    )
    no_kid = jwt.encode(own_claims(service), service.current_key()[1], algorithm="HS256")
    assert_verdict(service.verify(no_kid), "bad_signature", kind="jwt")


RETIRED = "Bad signature: the key that signed it was retired."


def test_bad_signature_retired_key_in_sql(service, admin):
    issued = service.issue_jwt(admin, "ci", "0")
    assert service.verify(issued.header_value).code == "valid"
    with service.store.transaction() as conn:
        conn.execute("UPDATE signing_keys SET retired_at = ?", (FROZEN_NOW,))
    assert service.verify(issued.header_value) == Verdict("bad_signature", RETIRED, kind="jwt")
    # A new key signs what is issued from now on.
    fresh = service.issue_jwt(admin, "after", "0")
    assert service.verify(fresh.header_value).code == "valid"
    assert service.verify(issued.header_value).code == "bad_signature"


def test_bad_signature_after_rotate_and_retire(service, admin):
    old_kid = service.current_key()[0]
    before = service.issue_jwt(admin, "before", "0")
    service.rotate_key(admin)
    after = service.issue_jwt(admin, "after", "0")
    assert service.verify(before.header_value).code == "valid"  # rotated, not retired
    service.retire_key(admin, old_kid)
    assert service.verify(before.header_value) == Verdict("bad_signature", RETIRED, kind="jwt")
    assert service.verify(after.header_value).code == "valid"


def test_wrong_issuer(service, admin):
    issued = service.issue_jwt(admin, "ci", "0")
    claims = jwt.decode(bare(issued.header_value), options={"verify_signature": False})
    forged = sign(service, {**claims, "iss": "someone-else"})
    assert service.verify(forged) == Verdict(
        "wrong_issuer", "Wrong issuer: this service accepts 'kopitui'.", kind="jwt"
    )


def test_wrong_audience(service, admin):
    issued = service.issue_jwt(admin, "ci", "0")
    claims = jwt.decode(bare(issued.header_value), options={"verify_signature": False})
    forged = sign(service, {**claims, "aud": "someone-else"})
    assert service.verify(forged) == Verdict(
        "wrong_audience",
        "Wrong audience: this service accepts 'kopicloud-ad-api'.",
        kind="jwt",
    )


def test_issuer_and_audience_come_from_the_config(tmp_path):
    svc = make_service(tmp_path, make_config(jwt__issuer="acme", jwt__audience="acme-api"))
    try:
        user = svc.create_first_admin(ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD)
        issued = svc.issue_jwt(user, "ci", "0")
        assert svc.verify(issued.header_value).code == "valid"
        claims = jwt.decode(bare(issued.header_value), options={"verify_signature": False})
        default_iss = sign(svc, {**claims, "iss": "kopitui"})
        assert svc.verify(default_iss).reason == "Wrong issuer: this service accepts 'acme'."
    finally:
        svc.close()


@pytest.mark.parametrize(
    "form", [NONE_TOKEN, f"Bearer {NONE_TOKEN}", f"Auth-Token: Bearer {NONE_TOKEN}"]
)
def test_c11_alg_none(service, admin, form):
    service.issue_jwt(admin, "ci", "0")
    assert service.verify(form) == Verdict(
        "algorithm_not_allowed",
        "Algorithm not allowed: the token says 'none'; only HS256 is accepted.",
        kind="jwt",
    )


def test_c11_none_with_a_forged_jti_of_a_real_token_is_still_refused(service, admin):
    issued = service.issue_jwt(admin, "ci", "0")
    claims = jwt.decode(bare(issued.header_value), options={"verify_signature": False})
    unsigned = f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims)}."
    assert_verdict(service.verify(unsigned), "algorithm_not_allowed", kind="jwt")


def test_hs512_refused_when_the_config_says_hs256(service, admin):
    issued = service.issue_jwt(admin, "ci", "0")
    claims = jwt.decode(bare(issued.header_value), options={"verify_signature": False})
    other = sign(service, claims, algorithm="HS512", key=b"s" * 64)
    assert service.verify(other) == Verdict(
        "algorithm_not_allowed",
        "Algorithm not allowed: the token says 'HS512'; only HS256 is accepted.",
        kind="jwt",
    )


def test_hs256_refused_when_the_config_says_hs512(tmp_path):
    svc = make_service(tmp_path, make_config(jwt__algorithm="HS512"))
    try:
        user = svc.create_first_admin(ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD)
        issued = svc.issue_jwt(user, "ci", "0")
        assert jwt.get_unverified_header(bare(issued.header_value))["alg"] == "HS512"
        assert svc.verify(issued.header_value).code == "valid"
        claims = jwt.decode(bare(issued.header_value), options={"verify_signature": False})
        downgraded = sign(svc, claims, algorithm="HS256", key=b"s" * 32)
        assert svc.verify(downgraded).reason == (
            "Algorithm not allowed: the token says 'HS256'; only HS512 is accepted."
        )
    finally:
        svc.close()


# -- stale Basic tokens ---------------------------------------------------------------------


def test_stale_after_change_password(service, admin, services):
    old = service.issue_basic(ADMIN, ADMIN_PASSWORD)
    later = services(Clock(FROZEN_NOW + 86400))
    later.change_password(admin, ADMIN_PASSWORD, "a brand new passphrase", "a brand new passphrase")
    assert service.verify(old.header_value) == Verdict(
        "stale",
        "Stale: the password of 'admin' changed on 2023-11-15 22:13:20 UTC; "
        "generate a new Basic token.",
        kind="basic",
        username=ADMIN,
        token_name=old.name,  # the name the Token List shows it under
    )
    # The new password is right, but no Basic token was made with it yet: the answer is
    # the one a wrong password gets, so verification never confirms a guessed password.
    fresh = basic(ADMIN, "a brand new passphrase")
    assert_verdict(service.verify(fresh), "unknown", kind="basic", username=None)
    service.issue_basic(ADMIN, "a brand new passphrase")
    assert service.verify(fresh).code == "valid"
    assert service.verify(old.header_value).code == "stale"


def test_stale_after_reset_by_an_admin(service, admin, bob):
    old = service.issue_basic(BOB, BOB_PASSWORD)
    service.reset_password(admin, BOB, "reset by the admin", "reset by the admin")
    assert_verdict(service.verify(old.header_value), "stale", kind="basic", username=BOB)


def test_stale_after_two_changes(service, admin):
    first = service.issue_basic(ADMIN, ADMIN_PASSWORD)
    service.change_password(admin, ADMIN_PASSWORD, "second long password")
    second = service.issue_basic(ADMIN, "second long password")
    service.change_password(admin, "second long password", "third long password")
    assert service.verify(first.header_value).code == "stale"
    assert service.verify(second.header_value).code == "stale"


def test_a_password_that_never_was_the_users_is_unknown_not_stale(service, admin):
    service.issue_basic(ADMIN, ADMIN_PASSWORD)
    service.change_password(admin, ADMIN_PASSWORD, "a brand new passphrase")
    assert service.verify(basic(ADMIN, "never my password")) == Verdict(
        "unknown", "Unknown: no such user, or the password is wrong.", kind="basic"
    )


# -- malformed ------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


NO_COLON = f"Basic {_b64(b'no colon here')}"
NOT_UTF8 = "Basic " + _b64(b"\xff\xfe:secret")


EXPECTED_FORMS = "Malformed: expected eyJ…, 'Bearer …', 'Basic …' or 'Auth-Token: …'."
NOTHING = "Malformed: nothing to verify."
TOO_LONG = f"Malformed: longer than {MAX_PRESENTED} characters."
NOT_TEXT = "Malformed: the text is not valid UTF-8."
MALFORMED = {
    "garbage": ("garbage", EXPECTED_FORMS),
    "empty": ("", NOTHING),
    "white space": ("  \n\t ", NOTHING),
    "Bearer alone": ("Bearer", EXPECTED_FORMS),
    "Bearer and spaces": ("Bearer   ", EXPECTED_FORMS),
    "header name alone": ("Auth-Token:", NOTHING),
    "Basic !!!": ("Basic !!!", "Malformed: the Basic value is not base64."),
    "Basic, bad padding": ("Basic YWJjZA", "Malformed: the Basic value is not base64."),
    "Basic, no colon": (NO_COLON, "Malformed: a Basic value is base64 of 'username:password'."),
    "Basic, not UTF-8": (NOT_UTF8, "Malformed: the Basic value is not base64 of UTF-8 text."),
    "20 kB of text": ("x" * 20_000, TOO_LONG),
    "20 kB after eyJ": ("eyJ" + "a" * 20_000, TOO_LONG),
    "lone surrogate in a token": ("Bearer eyJ\ud800.x.y", NOT_TEXT),
    "lone surrogate alone": ("\udcff", NOT_TEXT),
    "one part": ("eyJhbGciOiJIUzI1NiJ9", None),
    "not base64url": ("Bearer eyJ!!.eyJ.sig", None),
    "header not JSON": ("Bearer eyJub3Q.eyJub3Q.c2ln", None),
    "header a JSON list": (f"{b64url(['HS256'])}.{b64url({})}.c2ln", None),
}


@pytest.mark.parametrize(("presented", "reason"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed(service, admin, presented, reason):
    verdict = service.verify(presented)
    assert verdict.code == "malformed"
    assert verdict.reason.startswith("Malformed: ")
    if reason is not None:
        assert verdict.reason == reason
    assert verdict.username is None and verdict.token_name is None


def test_malformed_signed_token_without_a_jti(service, admin):
    service.issue_jwt(admin, "ci", "0")
    forged = sign(service, own_claims(service, jti=None))
    assert service.verify(forged) == Verdict(
        "malformed", "Malformed: the 'jti' claim is missing.", kind="jwt"
    )


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", "1700003600"),
        ("exp", True),
        ("exp", 1700003600.5),
        ("iat", "1700000000"),
        ("iat", 1.5),
        ("nbf", [1]),
    ],
)
def test_malformed_times_in_a_signed_token(service, admin, claim, value):
    service.issue_jwt(admin, "ci", "0")
    forged = sign(service, own_claims(service, **{claim: value}))
    verdict = service.verify(forged)
    assert verdict == Verdict(
        "malformed", f"Malformed: the {claim!r} claim is not a whole number.", kind="jwt"
    )


def test_nbf_in_the_future_is_not_yet_valid(service, admin):
    issued = service.issue_jwt(admin, "ci", "0")
    claims = jwt.decode(bare(issued.header_value), options={"verify_signature": False})
    later = sign(service, {**claims, "nbf": FROZEN_NOW + LEEWAY + 1})
    verdict = service.verify(later)
    assert (verdict.code, verdict.username, verdict.token_name) == ("not_yet_valid", ADMIN, "ci")
    assert "2023-11-14 22:13:51 UTC" in verdict.reason
    soon = sign(service, {**claims, "nbf": FROZEN_NOW + LEEWAY})
    assert service.verify(soon).code == "valid"


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "HS256", "kid": 1},
        {"alg": "HS256", "kid": None},
        {"alg": "HS256", "kid": ["a"]},
        {"alg": "HS256", "crit": ["x"]},
        {"alg": "HS256", "crit": "x"},
    ],
    ids=["kid 1", "kid null", "kid list", "crit unknown", "crit not a list"],
)
def test_odd_headers_get_a_verdict_not_an_exception(service, admin, header):
    # Nothing signed: anyone can write these. A verdict, never a traceback.
    presented = f"{b64url(header)}.{b64url({'sub': 'x'})}.c2ln"
    verdict = service.verify(presented)
    assert verdict.code in ("malformed", "bad_signature")


# -- every accepted form gives the same verdict ---------------------------------------------


def _wrap(text: str, width: int, newline: str) -> str:
    return newline.join(text[i : i + width] for i in range(0, len(text), width))


BEARER_FORMS = {
    "bare": lambda t: t,
    "Bearer": lambda t: f"Bearer {t}",
    "bearer": lambda t: f"bearer {t}",
    "BEARER": lambda t: f"BEARER {t}",
    "Auth-Token header": lambda t: f"Auth-Token: Bearer {t}",
    "auth-token header": lambda t: f"auth-token:bearer {t}",
    "Authorization header": lambda t: f"Authorization: Bearer {t}",
    "surrounding white space": lambda t: f" \t\n Bearer {t} \r\n ",
    "bare, wrapped with \\n": lambda t: _wrap(t, 40, "\n"),
    "bare, wrapped with \\r\\n": lambda t: _wrap(t, 40, "\r\n"),
    "Bearer, wrapped with \\r\\n": lambda t: "Bearer " + _wrap(t, 50, "\r\n"),
    "header, wrapped with spaces": lambda t: "Auth-Token: Bearer " + _wrap(t, 30, "  "),
    "header, wrapped with \\n + indent": lambda t: "Auth-Token: Bearer " + _wrap(t, 64, "\n    "),
    "line break after the scheme": lambda t: f"Bearer\n{t}",
    "tab after the scheme": lambda t: f"Bearer\t{t}",
}


@pytest.mark.parametrize("form", BEARER_FORMS.values(), ids=BEARER_FORMS.keys())
def test_every_bearer_form_gives_the_same_verdict(service, admin, form):
    issued = service.issue_jwt(admin, "ci", "0")
    token = bare(issued.header_value)
    expected = service.verify(token)
    assert expected.code == "valid"
    assert service.verify(form(token)) == expected
    disabled = service.issue_jwt(admin, "off", "0")
    service.set_token_enabled(admin, token_id(service, disabled.jti), False)
    off = bare(disabled.header_value)
    assert service.verify(form(off)) == service.verify(off)
    assert service.verify(form(off)).code == "disabled"


BASIC_FORMS = {
    "Basic": lambda c: f"Basic {c}",
    "basic": lambda c: f"basic {c}",
    "Auth-Token header": lambda c: f"Auth-Token: Basic {c}",
    "Authorization header": lambda c: f"Authorization: Basic {c}",
    "surrounding white space": lambda c: f"\n  Basic {c}  \r\n",
    "wrapped with \\r\\n": lambda c: "Basic " + _wrap(c, 8, "\r\n"),
    "wrapped with spaces": lambda c: "Auth-Token: Basic " + _wrap(c, 8, " "),
}


@pytest.mark.parametrize("form", BASIC_FORMS.values(), ids=BASIC_FORMS.keys())
def test_every_basic_form_gives_the_same_verdict(service, admin, form):
    issued = service.issue_basic(ADMIN, ADMIN_PASSWORD)
    expected = service.verify(issued.header_value)
    assert expected.code == "valid"
    assert service.verify(form(bare(issued.header_value))) == expected


@pytest.mark.parametrize(
    ("presented", "expected"),
    [
        ("eyJa.b.c", ("bearer", "eyJa.b.c")),
        ("Bearer eyJa.b.c", ("bearer", "eyJa.b.c")),
        ("bearer  eyJa.b.c", ("bearer", "eyJa.b.c")),
        ("Auth-Token: Bearer eyJa.b.c", ("bearer", "eyJa.b.c")),
        ("AUTHORIZATION:  Basic YTpi", ("basic", "YTpi")),
        ("Auth-Token: eyJa.b.c", ("bearer", "eyJa.b.c")),
        ("eyJa\n.b\r\n.c ", ("bearer", "eyJa.b.c")),
        ("Basic YT\npi", ("basic", "YTpi")),
        ("Bearer not-a-jwt", ("bearer", "not-a-jwt")),
    ],
)
def test_parse_presented_examples(presented, expected):
    assert parse_presented(presented) == expected


@pytest.mark.parametrize(
    "presented",
    ["", "   ", "garbage", "Bearer", "Basic", "Basic   ", "X-Token: Bearer eyJ", "\ud800"],
)
def test_parse_presented_refusals(presented):
    with pytest.raises(ValueError, match=r".+"):
        parse_presented(presented)


# -- the audit trail ------------------------------------------------------------------------


def test_failures_are_audited_without_the_token_or_a_password(service, admin, bob):
    jwt_token = bare(service.issue_jwt(bob, "ci", "0").header_value)
    head, payload, signature = jwt_token.split(".")
    altered = f"{head}.{payload}.{signature[:-4]}AAAA"
    disabled = service.issue_jwt(bob, "off", "0")
    service.set_token_enabled(admin, token_id(service, disabled.jti), False)
    old_basic = service.issue_basic(BOB, BOB_PASSWORD)
    service.change_password(bob, BOB_PASSWORD, "bob's second password")
    wrong = basic(BOB, "a guess that never was")

    before = len(audit_rows(service, "verify_failed"))
    verdicts = [
        service.verify(altered),
        service.verify(f"Auth-Token: Bearer {disabled.header_value.removeprefix('Bearer ')}"),
        service.verify(old_basic.header_value),
        service.verify(wrong),
        service.verify(NONE_TOKEN),
        service.verify("complete garbage"),
    ]
    assert [v.code for v in verdicts] == [
        "bad_signature",
        "disabled",
        "stale",
        "unknown",
        "algorithm_not_allowed",
        "malformed",
    ]
    assert service.verify(jwt_token).code == "valid"  # a success is not a failure

    failed = audit_rows(service, "verify_failed")[before:]
    assert [(r["username"], r["source"], r["description"]) for r in failed] == [
        (None, "tui", "Verification failed: bad_signature"),
        (BOB, "tui", "Verification failed: disabled (token 'off')"),
        (BOB, "tui", "Verification failed: stale (token 'Basic bob')"),
        (None, "tui", "Verification failed: unknown"),
        (None, "tui", "Verification failed: algorithm_not_allowed"),
        (None, "tui", "Verification failed: malformed"),
    ]
    assert all(r["at"] == FROZEN_NOW for r in failed)

    secrets = [
        jwt_token,
        signature,
        altered,
        disabled.header_value,
        disabled.header_value.split(".")[2],
        old_basic.header_value,
        bare(old_basic.header_value),
        wrong,
        bare(wrong),
        BOB_PASSWORD,
        "bob's second password",
        "a guess that never was",
        ADMIN_PASSWORD,
        NONE_TOKEN,
    ]
    for row in audit_rows(service):
        for value in row.values():
            for secret in secrets:
                assert secret not in str(value), (secret, row)


def test_verify_source_is_recorded(service, admin):
    service.verify("nonsense", source="cli")
    [row] = audit_rows(service, "verify_failed")
    assert row["source"] == "cli"


# -- properties -----------------------------------------------------------------------------

ANY_TEXT = any_text(200)
PREFIXES = st.sampled_from(
    [
        "",
        "Bearer ",
        "bearer ",
        "Basic ",
        "basic ",
        "eyJ",
        "Auth-Token: ",
        "Auth-Token: Bearer ",
        "Authorization: Basic ",
        " \n",
    ]
)


@given(prefix=PREFIXES, text=ANY_TEXT)
def test_property_parse_presented_answers_or_raises_value_error(prefix, text):
    try:
        result = parse_presented(prefix + text)
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(result, tuple) and len(result) == 2
    scheme, credential = result
    assert scheme in ("bearer", "basic")
    assert isinstance(credential, str) and credential
    assert credential.split() == [credential]  # no white space left inside


@PROPERTY
@given(text=ANY_TEXT)
def test_property_verify_never_raises(service, admin, text):
    verdict = service.verify(text)
    assert isinstance(verdict, Verdict)
    assert verdict.code in VERDICTS
    assert not verdict.valid
    assert verdict.reason


@PROPERTY
@given(scheme=st.sampled_from(["Bearer ", "Auth-Token: Bearer ", "eyJ"]), text=ANY_TEXT)
def test_property_verify_bearer_never_raises(service, admin, scheme, text):
    verdict = service.verify(scheme + text)
    assert isinstance(verdict, Verdict)
    assert verdict.code in VERDICTS


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
HEADER_KEYS = st.sampled_from(["alg", "kid", "typ", "crit", "cty", "jku", "x5u"])
CLAIM_KEYS = st.sampled_from(["sub", "iss", "aud", "iat", "exp", "nbf", "jti", "unique_name"])


@PROPERTY
@given(
    header=st.dictionaries(HEADER_KEYS, JSON_VALUES, max_size=4)
    | st.fixed_dictionaries({"alg": st.just("HS256")}, optional={"kid": JSON_VALUES}),
    claims=st.dictionaries(CLAIM_KEYS, JSON_VALUES, max_size=6) | JSON_VALUES,
    signature=st.text("ABCDEFabcdef0123456789-_", max_size=43),
)
def test_property_verify_jwt_shaped_text_never_raises(service, admin, header, claims, signature):
    presented = f"Bearer {b64url(header)}.{b64url(claims)}.{signature}"
    verdict = service.verify(presented)
    assert isinstance(verdict, Verdict)
    assert verdict.code in VERDICTS
    assert not verdict.valid


@HASHING
@given(text=ANY_TEXT)
def test_property_verify_basic_never_raises(service, admin, text):
    verdict = service.verify("Basic " + text)
    assert isinstance(verdict, Verdict)
    assert verdict.code in VERDICTS


@HASHING
@given(username=st.text(max_size=20), password=st.text(max_size=30))
def test_property_verify_basic_credentials_never_raise(service, admin, username, password):
    verdict = service.verify(basic(username, password))
    assert isinstance(verdict, Verdict)
    # No Basic token was ever generated, so even admin's own name is only "unknown".
    assert verdict.code == "unknown"
