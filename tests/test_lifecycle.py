"""The token lifecycle in the service: users, passwords, the Token List, disable/delete.

Issue 3. The conftest service has a frozen clock (FROZEN_NOW); tokens made "earlier" or
"later" come from a second TokenService on the same database with its own clock.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kopitui.service import (
    AuthenticationError,
    Page,
    PermissionDenied,
    TokenRecord,
    TokenService,
    User,
    UserRecord,
    ValidationError,
    fingerprint,
)
from kopitui.service.tokens import SORTS

from helpers_core import FROZEN_NOW, PROPERTY, any_text, make_config, make_service
from support import ADMIN, ADMIN_PASSWORD

T = FROZEN_NOW
BOB, BOB_PASSWORD = "bob", "bob's long password"
CAROL, CAROL_PASSWORD = "carol", "carol's long password"
NEW_PASSWORD = "a brand new passphrase"

ANY_TEXT = any_text()


# -- helpers --------------------------------------------------------------------------------


@pytest.fixture
def bob(service, admin) -> User:
    return service.add_user(admin, BOB, BOB_PASSWORD, BOB_PASSWORD)


@pytest.fixture
def carol(service, admin) -> User:
    return service.add_user(admin, CAROL, CAROL_PASSWORD, CAROL_PASSWORD)


def rows(service: TokenService, sql: str, params=()) -> list[dict]:
    return [dict(r) for r in service.store.read(sql, params)]


def events(service: TokenService) -> list[tuple]:
    return [
        (r["event"], r["username"], r["description"])
        for r in rows(service, "SELECT event, username, description FROM audit_log ORDER BY id")
    ]


def names(page: Page) -> list[str]:
    return [record.name for record in page.rows]


def token_id(service: TokenService, jti: str) -> int:
    return service.store.read("SELECT id FROM tokens WHERE jti = ?", (jti,))[0]["id"]


def status_of(service: TokenService, jti: str) -> str:
    return service.store.read("SELECT status FROM tokens WHERE jti = ?", (jti,))[0]["status"]


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


# -- adding and listing users ---------------------------------------------------------------


def test_add_user_and_list_users(service, admin, at):
    later = at(T + 60)
    bob = later.add_user(admin, BOB, BOB_PASSWORD, BOB_PASSWORD)
    assert bob == User(bob.id, BOB, "user") and not bob.is_admin
    carol = service.add_user(admin, CAROL, CAROL_PASSWORD, role="admin")
    assert carol.is_admin
    service.issue_jwt(bob, "ci", "0")
    service.issue_jwt(bob, "gone", "0")
    service.delete_token(bob, service.find_tokens(bob, "gone")[0])
    assert service.list_users(admin) == [
        UserRecord(admin.id, ADMIN, "admin", T, T, 0),
        UserRecord(bob.id, BOB, "user", T + 60, T + 60, 1),
        UserRecord(carol.id, CAROL, "admin", T, T, 0),
    ]
    assert service.list_users(admin)[1].as_json() == {
        "username": BOB,
        "role": "user",
        "created_at": T + 60,
        "password_changed_at": T + 60,
        "active_tokens": 1,
    }
    assert service.authenticate(BOB, BOB_PASSWORD) == bob
    added = [e for e in events(service) if e[0] == "user_added"]
    assert added[1:] == [
        ("user_added", ADMIN, "User 'bob' added (user)"),
        ("user_added", ADMIN, "User 'carol' added (admin)"),
    ]


def test_list_users_counts_only_live_tokens(service, admin, bob, at):
    service.issue_jwt(bob, "live", "0")
    at(T - 7200).issue_jwt(bob, "expired", "1")
    off = service.issue_jwt(bob, "off", "0")
    service.set_token_enabled(admin, token_id(service, off.jti), False)
    service.issue_basic(BOB, BOB_PASSWORD)
    [_, record] = service.list_users(admin)
    assert record.active_tokens == 2  # "live" and the Basic token


def test_add_user_names_are_unique_case_insensitively(service, admin, bob):
    for name in ("bob", "BOB", " Bob "):
        with pytest.raises(ValidationError) as info:
            service.add_user(admin, name, "another long password")
        assert info.value.field == "username"
    assert [u.username for u in service.list_users(admin)] == [ADMIN, BOB]


@pytest.mark.parametrize("username", ["", "   ", "a:b", "\x1b[31mred", "x" * 65])
def test_add_user_refuses_bad_usernames(service, admin, username):
    with pytest.raises(ValidationError) as info:
        service.add_user(admin, username, "another long password")
    assert info.value.field == "username"
    assert len(service.list_users(admin)) == 1


def test_add_user_refuses_an_unknown_role(service, admin):
    with pytest.raises(ValidationError) as info:
        service.add_user(admin, BOB, BOB_PASSWORD, role="root")
    assert info.value.field == "role"
    assert service.get_user(BOB) is None


def test_add_user_without_an_actor_is_only_for_the_first_administrator(service):
    with pytest.raises(ValidationError) as info:
        service.add_user(None, ADMIN, ADMIN_PASSWORD, role="user")
    assert info.value.field == "role"
    first = service.add_user(None, ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD, role="admin")
    assert first.is_admin
    with pytest.raises(PermissionDenied):
        service.add_user(None, BOB, BOB_PASSWORD, role="admin")
    assert service.get_user(BOB) is None


# -- permissions ----------------------------------------------------------------------------


def test_ordinary_users_cannot_administer(service, admin, bob):
    with pytest.raises(PermissionDenied):
        service.add_user(bob, CAROL, CAROL_PASSWORD, CAROL_PASSWORD)
    with pytest.raises(PermissionDenied):
        service.add_user(bob, CAROL, CAROL_PASSWORD, role="admin")
    with pytest.raises(PermissionDenied):
        service.list_users(bob)
    with pytest.raises(PermissionDenied):
        service.remove_user(bob, ADMIN)
    with pytest.raises(PermissionDenied):
        service.reset_password(bob, ADMIN, NEW_PASSWORD, NEW_PASSWORD)
    with pytest.raises(PermissionDenied):
        service.logs(bob)
    assert service.get_user(CAROL) is None
    assert service.authenticate(ADMIN, ADMIN_PASSWORD) == admin


def test_ordinary_users_change_only_their_own_tokens(service, admin, bob):
    mine = service.issue_jwt(admin, "admin's", "0")
    admin_token = token_id(service, mine.jti)
    with pytest.raises(PermissionDenied):
        service.set_token_enabled(bob, admin_token, False)
    with pytest.raises(PermissionDenied):
        service.delete_token(bob, admin_token)
    assert status_of(service, mine.jti) == "active"
    # An administrator manages everyone's.
    theirs = service.issue_jwt(bob, "bob's", "0")
    assert service.set_token_enabled(admin, token_id(service, theirs.jti), False) == "disabled"
    service.delete_token(admin, token_id(service, theirs.jti))
    assert status_of(service, theirs.jti) == "deleted"


# -- passwords ------------------------------------------------------------------------------


def test_change_password(service, admin, bob, at):
    at(T + 90).change_password(bob, BOB_PASSWORD, NEW_PASSWORD, NEW_PASSWORD, source="cli")
    assert service.authenticate(BOB, NEW_PASSWORD) == bob
    with pytest.raises(AuthenticationError):
        service.authenticate(BOB, BOB_PASSWORD)
    [record] = [u for u in service.list_users(admin) if u.username == BOB]
    assert record.password_changed_at == T + 90
    assert record.created_at == T
    changed = rows(service, "SELECT * FROM audit_log WHERE event = 'password_changed'")
    assert [(r["at"], r["username"], r["source"], r["description"]) for r in changed] == [
        (T + 90, BOB, "cli", "Password changed")
    ]


def test_change_password_wrong_current(service, admin, bob):
    with pytest.raises(ValidationError) as info:
        service.change_password(bob, "not my password", NEW_PASSWORD, NEW_PASSWORD)
    assert info.value.field == "current"
    assert service.authenticate(BOB, BOB_PASSWORD) == bob
    failed = [e for e in events(service) if e[0] == "password_change_failed"]
    assert failed == [("password_change_failed", BOB, "Wrong current password")]


@pytest.mark.parametrize(
    ("new", "confirm", "field"),
    [
        ("short", "short", "password"),
        ("x" * 11, "x" * 11, "password"),  # min_password_length is 12 by default
        (BOB_PASSWORD, BOB_PASSWORD, "password"),  # the current one
        (NEW_PASSWORD, NEW_PASSWORD + "!", "confirm"),
    ],
    ids=["short", "one too short", "same as current", "confirm mismatch"],
)
def test_change_password_rules(service, admin, bob, new, confirm, field):
    with pytest.raises(ValidationError) as info:
        service.change_password(bob, BOB_PASSWORD, new, confirm)
    assert info.value.field == field
    assert service.authenticate(BOB, BOB_PASSWORD) == bob


def test_passwords_may_not_be_the_username(tmp_path):
    svc = make_service(tmp_path)
    try:
        admin = svc.create_first_admin(ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD)
        name = "Maximilian-Long"
        for attempt in (name, name.upper(), name.lower()):
            with pytest.raises(ValidationError) as info:
                svc.add_user(admin, name, attempt, attempt)
            assert info.value.field == "password"
        user = svc.add_user(admin, name, ADMIN_PASSWORD)
        with pytest.raises(ValidationError) as info:
            svc.change_password(user, ADMIN_PASSWORD, name.lower(), name.lower())
        assert info.value.field == "password"
        with pytest.raises(ValidationError) as info:
            svc.reset_password(admin, name, name, name)
        assert info.value.field == "password"
        assert svc.authenticate(name, ADMIN_PASSWORD) == user
    finally:
        svc.close()


def test_min_password_length_comes_from_the_config(tmp_path):
    svc = make_service(tmp_path, make_config(security__min_password_length=20))
    try:
        admin = svc.create_first_admin(ADMIN, "p" * 20, "p" * 20)
        with pytest.raises(ValidationError) as info:
            svc.add_user(admin, BOB, "b" * 19, "b" * 19)
        assert (info.value.field, info.value.message) == (
            "password",
            "The password needs at least 20 characters.",
        )
        bob = svc.add_user(admin, BOB, "b" * 20, "b" * 20)
        with pytest.raises(ValidationError) as info:
            svc.change_password(bob, "b" * 20, "c" * 19, "c" * 19)
        assert info.value.field == "password"
        with pytest.raises(ValidationError) as info:
            svc.reset_password(admin, BOB, "d" * 19, "d" * 19)
        assert info.value.field == "password"
        svc.change_password(bob, "b" * 20, "c" * 20, "c" * 20)
        assert svc.authenticate(BOB, "c" * 20) == bob
    finally:
        svc.close()


def test_add_user_confirm_mismatch(service, admin):
    with pytest.raises(ValidationError) as info:
        service.add_user(admin, BOB, BOB_PASSWORD, BOB_PASSWORD + " ")
    assert info.value.field == "confirm"
    assert service.get_user(BOB) is None


def test_reset_password(service, admin, bob):
    service.reset_password(admin, " BOB ", NEW_PASSWORD, NEW_PASSWORD)
    assert service.authenticate(BOB, NEW_PASSWORD) == bob
    with pytest.raises(AuthenticationError):
        service.authenticate(BOB, BOB_PASSWORD)
    assert ("password_changed", ADMIN, "Password of 'bob' reset") in events(service)


def test_reset_password_refusals(service, admin, bob):
    with pytest.raises(ValidationError) as info:
        service.reset_password(admin, "nobody", NEW_PASSWORD, NEW_PASSWORD)
    assert info.value.field == "username"
    with pytest.raises(ValidationError) as info:
        service.reset_password(admin, BOB, NEW_PASSWORD, "something else entirely")
    assert info.value.field == "confirm"
    with pytest.raises(ValidationError) as info:
        service.reset_password(admin, BOB, "short", "short")
    assert info.value.field == "password"
    assert service.authenticate(BOB, BOB_PASSWORD) == bob


# -- removing users -------------------------------------------------------------------------


def test_remove_user_disables_their_tokens(service, admin, bob, carol):
    jwt_token = service.issue_jwt(bob, "ci", "0")
    off = service.issue_jwt(bob, "already off", "0")
    service.set_token_enabled(bob, token_id(service, off.jti), False)
    gone = service.issue_jwt(bob, "gone", "0")
    service.delete_token(bob, token_id(service, gone.jti))
    basic_token = service.issue_basic(BOB, BOB_PASSWORD)
    carols = service.issue_jwt(carol, "carol's", "0")

    assert service.remove_user(admin, BOB) == 2  # "ci" and the Basic token
    assert status_of(service, jwt_token.jti) == "disabled"
    assert status_of(service, basic_token.jti) == "disabled"
    assert status_of(service, off.jti) == "disabled"
    assert status_of(service, gone.jti) == "deleted"
    assert status_of(service, carols.jti) == "active"

    jwt_verdict = service.verify(jwt_token.header_value)
    assert (jwt_verdict.code, jwt_verdict.username, jwt_verdict.token_name) == (
        "disabled",
        BOB,
        "ci",
    )
    assert jwt_verdict.reason == "Disabled: user 'bob' was removed."
    assert service.verify(carols.header_value).code == "valid"

    assert [u.username for u in service.list_users(admin)] == [ADMIN, CAROL]
    assert service.get_user(BOB) is None
    with pytest.raises(AuthenticationError):
        service.authenticate(BOB, BOB_PASSWORD)
    with pytest.raises(AuthenticationError):
        service.issue_basic(BOB, BOB_PASSWORD)
    listed = service.list_tokens(admin, search=BOB)
    assert sorted((r.name, r.status) for r in listed.rows) == [
        ("Basic bob", "Disabled"),
        ("already off", "Disabled"),
        ("ci", "Disabled"),
    ]
    assert ("user_removed", ADMIN, "User 'bob' removed; 2 token(s) disabled") in events(service)


def test_a_removed_users_basic_token_verifies_as_disabled(service, admin, bob):
    issued = service.issue_basic(BOB, BOB_PASSWORD)
    service.remove_user(admin, BOB)
    assert status_of(service, issued.jti) == "disabled"
    verdict = service.verify(issued.header_value)
    assert (verdict.code, verdict.kind, verdict.username) == ("disabled", "basic", BOB)


def test_a_removed_users_tokens_cannot_be_enabled_again(service, admin, bob):
    issued = service.issue_jwt(bob, "ci", "0")
    service.remove_user(admin, BOB)
    with pytest.raises(ValidationError) as info:
        service.set_token_enabled(admin, token_id(service, issued.jti), True)
    assert info.value.field == "token"
    assert status_of(service, issued.jti) == "disabled"
    assert service.verify(issued.header_value).code == "disabled"
    # Disabling again or deleting is still allowed.
    assert service.set_token_enabled(admin, token_id(service, issued.jti), False) == "disabled"
    service.delete_token(admin, token_id(service, issued.jti))
    assert service.verify(issued.header_value).code == "deleted"


def test_a_removed_name_can_be_added_again_without_the_old_tokens(service, admin, bob):
    old_jwt = service.issue_jwt(bob, "ci", "0")
    old_basic = service.issue_basic(BOB, BOB_PASSWORD)
    service.remove_user(admin, BOB)

    new_bob = service.add_user(admin, "Bob", BOB_PASSWORD, BOB_PASSWORD)
    assert new_bob.id != bob.id
    assert service.authenticate(BOB, BOB_PASSWORD) == new_bob
    page = service.list_tokens(new_bob)
    assert (page.rows, page.total) == ([], 0)
    with pytest.raises(ValidationError):
        service.find_tokens(new_bob, "ci")
    assert service.verify(old_jwt.header_value).code == "disabled"
    # The old token spells the name "bob"; the new user is "Bob" and has made no Basic
    # token yet: unknown, and nothing said about whose it might be.
    verdict = service.verify(old_basic.header_value)
    assert (verdict.code, verdict.username) == ("unknown", None)
    fresh = service.issue_basic(BOB, BOB_PASSWORD)
    assert fresh.jti != old_basic.jti
    assert service.verify(fresh.header_value).code == "valid"
    # The old "ci" belonged to the old bob: the name is free for the new one.
    service.issue_jwt(new_bob, "ci", "0")
    assert names(service.list_tokens(new_bob)) == ["ci", "Basic Bob"]
    assert service.verify(old_jwt.header_value).code == "disabled"


def test_cannot_remove_yourself(service, admin, carol):
    with pytest.raises(ValidationError) as info:
        service.remove_user(admin, ADMIN)
    assert (info.value.field, info.value.message) == ("username", "You cannot remove yourself.")
    assert service.get_user(ADMIN) == admin


def test_remove_unknown_user(service, admin):
    with pytest.raises(ValidationError) as info:
        service.remove_user(admin, "nobody")
    assert info.value.field == "username"


def test_an_admin_can_remove_another_admin_but_never_the_last(service, admin, carol):
    other = service.add_user(admin, "dave", "dave's long password", role="admin")
    assert service.remove_user(admin, "dave") == 0
    # The removed admin's stale session object tries to remove the last admin.
    with pytest.raises((ValidationError, PermissionDenied)):
        service.remove_user(other, ADMIN)
    assert service.get_user(ADMIN) == admin
    assert [u.username for u in service.list_users(admin) if u.role == "admin"] == [ADMIN]


def test_the_last_administrator_cannot_be_removed(service, admin):
    # Only reachable by an actor that is not itself a counted admin.
    ghost = User(10_000, "ghost", "admin")
    with pytest.raises((ValidationError, PermissionDenied)) as info:
        service.remove_user(ghost, ADMIN)
    if isinstance(info.value, ValidationError):
        assert (info.value.field, info.value.message) == (
            "username",
            "The last administrator cannot be removed.",
        )
    assert service.get_user(ADMIN) == admin


def test_a_removed_admins_session_can_no_longer_administer(service, admin):
    # Dave is signed in (the TUI holds his User) when another admin removes him.
    dave = service.add_user(admin, "dave", "dave's long password", role="admin")
    service.remove_user(admin, "dave")
    refused = (PermissionDenied, AuthenticationError)
    with pytest.raises(refused):
        service.add_user(dave, "mallory", "mallory's long password", role="admin")
    with pytest.raises(refused):
        service.reset_password(dave, ADMIN, "taken over by dave", "taken over by dave")
    with pytest.raises(refused):
        service.list_users(dave)
    assert service.get_user("mallory") is None
    assert service.authenticate(ADMIN, ADMIN_PASSWORD) == admin


# -- issuing Basic tokens: one record per password ------------------------------------------


def test_issue_basic_one_record_per_password(service, admin, bob):
    first = service.issue_basic(BOB, BOB_PASSWORD)
    again = service.issue_basic(" BOB ", BOB_PASSWORD)
    assert (again.jti, again.header_value, again.created_at) == (
        first.jti,
        first.header_value,
        first.created_at,
    )
    assert len(rows(service, "SELECT 1 FROM tokens WHERE kind = 'basic'")) == 1
    service.change_password(bob, BOB_PASSWORD, NEW_PASSWORD)
    second = service.issue_basic(BOB, NEW_PASSWORD)
    assert second.jti != first.jti
    assert second.header_value == basic(BOB, NEW_PASSWORD)
    basics = rows(
        service, "SELECT jti, password_epoch FROM tokens WHERE kind = 'basic' ORDER BY id"
    )
    assert basics == [
        {"jti": first.jti, "password_epoch": 1},
        {"jti": second.jti, "password_epoch": 2},
    ]


def test_issue_basic_refuses_a_disabled_token(service, admin, bob):
    issued = service.issue_basic(BOB, BOB_PASSWORD)
    service.set_token_enabled(admin, token_id(service, issued.jti), False)
    with pytest.raises(ValidationError) as info:
        service.issue_basic(BOB, BOB_PASSWORD)
    assert info.value.field == "password"
    assert "disabled" in info.value.message
    assert BOB_PASSWORD not in info.value.message
    assert len(rows(service, "SELECT 1 FROM tokens WHERE kind = 'basic'")) == 1
    # Enabled again, the same token is shown again.
    service.set_token_enabled(admin, token_id(service, issued.jti), True)
    assert service.issue_basic(BOB, BOB_PASSWORD).jti == issued.jti
    # A new password gives a new token even while the old one is disabled.
    service.set_token_enabled(admin, token_id(service, issued.jti), False)
    service.change_password(bob, BOB_PASSWORD, NEW_PASSWORD)
    fresh = service.issue_basic(BOB, NEW_PASSWORD)
    assert service.verify(fresh.header_value).code == "valid"


def test_issue_basic_after_delete_makes_a_new_record(service, admin, bob):
    issued = service.issue_basic(BOB, BOB_PASSWORD)
    service.delete_token(bob, token_id(service, issued.jti))
    fresh = service.issue_basic(BOB, BOB_PASSWORD)
    assert fresh.jti != issued.jti
    assert names(service.list_tokens(bob)) == ["Basic bob"]


# -- the Token List -------------------------------------------------------------------------


@pytest.fixture
def listed(service, admin, bob, carol, at):
    """Five listed tokens (and one deleted), made at distinct times, ids 1–6:

    1 alpha      admin JWT    created T-300   never expires   Active
    2 Bravo      bob   JWT    created T-200   exp T+400       Active
    3 Basic bob  bob   Basic  created T-100   never expires   Disabled
    4 delta      admin JWT    created T-7200  exp T-7140      Expired
    5 echo       carol JWT    created T-50    exp T+3550      Active
    6 zulu       carol JWT    created T-10    never           deleted (not listed)
    """
    tokens = {
        "alpha": at(T - 300).issue_jwt(admin, "alpha", "0"),
        "Bravo": at(T - 200).issue_jwt(bob, "Bravo", "10"),
        "Basic bob": at(T - 100).issue_basic(BOB, BOB_PASSWORD),
        "delta": at(T - 7200).issue_jwt(admin, "delta", "1"),
        "echo": at(T - 50).issue_jwt(carol, "echo", "60"),
        "zulu": at(T - 10).issue_jwt(carol, "zulu", "0"),
    }
    service.set_token_enabled(admin, token_id(service, tokens["Basic bob"].jti), False)
    service.delete_token(carol, token_id(service, tokens["zulu"].jti))
    return tokens


def test_list_tokens_records(service, admin, bob, listed):
    page = service.list_tokens(admin, sort="created", descending=False)
    assert page.total == 5 and page.offset == 0
    assert page.rows == [
        TokenRecord(
            4, listed["delta"].jti, "delta", "jwt", ADMIN, T - 7200, T - 7140, "Expired",
            fingerprint(listed["delta"].header_value),
        ),
        TokenRecord(
            1, listed["alpha"].jti, "alpha", "jwt", ADMIN, T - 300, None, "Active",
            fingerprint(listed["alpha"].header_value),
        ),
        TokenRecord(
            2, listed["Bravo"].jti, "Bravo", "jwt", BOB, T - 200, T + 400, "Active",
            fingerprint(listed["Bravo"].header_value),
        ),
        TokenRecord(
            3, listed["Basic bob"].jti, "Basic bob", "basic", BOB, T - 100, None, "Disabled",
            None,
        ),
        TokenRecord(
            5, listed["echo"].jti, "echo", "jwt", CAROL, T - 50, T + 3550, "Active",
            fingerprint(listed["echo"].header_value),
        ),
    ]  # fmt: skip
    assert page.rows[3].type_label == "Basic" and page.rows[3].short_fingerprint == "—"
    assert page.rows[0].short_fingerprint == fingerprint(listed["delta"].header_value)[:12]


def test_list_tokens_default_order_is_newest_first(service, admin, listed):
    assert names(service.list_tokens(admin)) == ["echo", "Basic bob", "Bravo", "alpha", "delta"]


def test_an_ordinary_user_sees_only_their_own(service, admin, bob, listed):
    for all_users in (True, False):
        page = service.list_tokens(bob, all_users=all_users)
        assert (names(page), page.total) == (["Basic bob", "Bravo"], 2)
    assert names(service.list_tokens(bob, search="alpha")) == []
    assert names(service.list_tokens(bob, search="carol")) == []
    assert names(service.list_tokens(bob, status="expired")) == []


def test_an_admin_sees_everyones_or_only_their_own(service, admin, listed):
    assert service.list_tokens(admin, all_users=True).total == 5
    assert names(service.list_tokens(admin, all_users=False)) == ["alpha", "delta"]


SORTED = {
    "name": ["alpha", "Basic bob", "Bravo", "delta", "echo"],
    "type": ["Basic bob", "alpha", "Bravo", "delta", "echo"],
    "created": ["delta", "alpha", "Bravo", "Basic bob", "echo"],
    "expires": ["delta", "Bravo", "echo", "alpha", "Basic bob"],
    "status": ["alpha", "Bravo", "echo", "Basic bob", "delta"],
    "username": ["alpha", "delta", "Bravo", "Basic bob", "echo"],
}
SORTED_DESCENDING = {
    "name": ["echo", "delta", "Bravo", "Basic bob", "alpha"],
    "type": ["echo", "delta", "Bravo", "alpha", "Basic bob"],  # ties: newest id first
    "created": ["echo", "Basic bob", "Bravo", "alpha", "delta"],
    "expires": ["Basic bob", "alpha", "echo", "Bravo", "delta"],
    "status": ["delta", "Basic bob", "echo", "Bravo", "alpha"],
    "username": ["echo", "Basic bob", "Bravo", "delta", "alpha"],
}


def test_every_sort_key_is_covered():
    assert set(SORTED) == set(SORTED_DESCENDING) == set(SORTS)


@pytest.mark.parametrize("key", SORTED)
def test_list_tokens_sorts(service, admin, listed, key):
    assert names(service.list_tokens(admin, sort=key, descending=False)) == SORTED[key]
    assert names(service.list_tokens(admin, sort=key, descending=True)) == SORTED_DESCENDING[key]


def test_list_tokens_refuses_an_unknown_sort(service, admin):
    with pytest.raises(ValidationError) as info:
        service.list_tokens(admin, sort="t.name; DROP TABLE tokens")
    assert info.value.field == "sort"


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ALP", ["alpha"]),
        ("bob", ["Basic bob", "Bravo"]),  # a name and a username
        ("  carol ", ["echo"]),
        ("jwt", ["echo", "Bravo", "alpha", "delta"]),
        ("JWT", ["echo", "Bravo", "alpha", "delta"]),
        ("basic", ["Basic bob"]),
        ("disabled", ["Basic bob"]),
        ("Expired", ["delta"]),
        ("active", ["echo", "Bravo", "alpha"]),
        ("zulu", []),  # deleted
        ("nothing like it", []),
        ("", ["echo", "Basic bob", "Bravo", "alpha", "delta"]),
    ],
)
def test_list_tokens_search(service, admin, listed, search, expected):
    page = service.list_tokens(admin, search=search)
    assert (names(page), page.total) == (expected, len(expected))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", ["echo", "Bravo", "alpha"]),
        ("Active", ["echo", "Bravo", "alpha"]),
        ("expired", ["delta"]),
        ("disabled", ["Basic bob"]),
    ],
)
def test_list_tokens_status_filter(service, admin, listed, status, expected):
    page = service.list_tokens(admin, status=status)
    assert (names(page), page.total) == (expected, len(expected))


@pytest.mark.parametrize("status", ["deleted", "", "Active; --"])
def test_list_tokens_refuses_an_unknown_status(service, admin, status):
    with pytest.raises(ValidationError) as info:
        service.list_tokens(admin, status=status)
    assert info.value.field == "status"


def test_expired_is_computed_from_the_clock(service, admin, at):
    at(T - 60).issue_jwt(admin, "expires now", "1")  # exp == T
    at(T - 59).issue_jwt(admin, "expires in a second", "1")  # exp == T + 1
    assert names(service.list_tokens(admin, status="expired")) == ["expires now"]
    assert names(service.list_tokens(admin, status="active")) == ["expires in a second"]
    assert names(at(T + 1).list_tokens(admin, status="expired")) == [
        "expires in a second",
        "expires now",
    ]
    assert names(at(T - 1).list_tokens(admin, status="expired")) == []


def test_list_tokens_paging(service, admin, listed):
    def page(offset, limit):
        return service.list_tokens(
            admin, sort="created", descending=False, offset=offset, limit=limit
        )

    assert [(names(p), p.total, p.offset) for p in (page(0, 2), page(2, 2), page(4, 2))] == [
        (["delta", "alpha"], 5, 0),
        (["Bravo", "Basic bob"], 5, 2),
        (["echo"], 5, 4),
    ]
    assert (names(page(5, 2)), page(5, 2).total) == ([], 5)
    assert (names(page(99, 2)), page(99, 2).total) == ([], 5)
    assert names(page(-3, 2)) == ["delta", "alpha"] and page(-3, 2).offset == 0
    assert names(page(0, 0)) == ["delta"]  # at least one row
    assert names(page(0, -1)) == ["delta"]
    assert len(page(0, 5000).rows) == 5
    assert page(1, 3).rows == service.list_tokens(admin, sort="created", descending=False).rows[1:4]


def test_paging_with_a_search_counts_the_matches(service, admin, listed):
    page = service.list_tokens(admin, search="jwt", limit=1, offset=1)
    assert (names(page), page.total) == (["Bravo"], 4)


def test_deleted_tokens_are_not_listed_and_free_their_name(service, admin):
    first = service.issue_jwt(admin, "ci", "0")
    with pytest.raises(ValidationError) as info:
        service.issue_jwt(admin, "CI", "0")
    assert info.value.field == "name"
    service.set_token_enabled(admin, token_id(service, first.jti), False)
    with pytest.raises(ValidationError):
        service.issue_jwt(admin, "ci", "0")  # disabled still holds the name
    service.delete_token(admin, token_id(service, first.jti))
    assert service.list_tokens(admin).total == 0
    assert service.check_token_name(admin, "Ci") == "Ci"
    second = service.issue_jwt(admin, "Ci", "0")
    page = service.list_tokens(admin)
    assert [(r.jti, r.name, r.status) for r in page.rows] == [(second.jti, "Ci", "Active")]
    service.delete_token(admin, token_id(service, second.jti))
    service.issue_jwt(admin, "ci", "0")  # and again
    assert len(rows(service, "SELECT 1 FROM tokens WHERE name_key = 'ci'")) == 3


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("%", ["100%"]),
        ("%%", []),
        ("_", ["a_b"]),
        ("a_b", ["a_b"]),
        ("\\", ["back\\slash"]),
        ("\\%", []),
        ("0%", ["100%"]),
        ("ax", ["axb"]),
    ],
)
def test_like_wildcards_are_literal(service, admin, search, expected):
    for name in ("100%", "a_b", "axb", "back\\slash", "plain"):
        service.issue_jwt(admin, name, "0")
    assert names(service.list_tokens(admin, search=search)) == expected


def test_search_is_case_and_normalization_insensitive(service, admin):
    service.issue_jwt(admin, "Café", "0")  # NFC é
    assert names(service.list_tokens(admin, search="CAFE\u0301")) == ["Café"]
    assert names(service.list_tokens(admin, search="café")) == ["Café"]


def test_list_tokens_search_with_a_lone_surrogate(service, admin):
    # The command line decodes undecodable argv bytes to lone surrogates
    # (`kopitui token list --search $'\xff'`): no match, not a crash.
    service.issue_jwt(admin, "ci", "0")
    page = service.list_tokens(admin, search="\udcff")
    assert (page.rows, page.total) == ([], 0)


@PROPERTY
@given(
    search=ANY_TEXT,
    sort=st.sampled_from(sorted(SORTS)),
    descending=st.booleans(),
    offset=st.integers(-10, 10),
    limit=st.integers(-10, 2000),
    all_users=st.booleans(),
)
def test_property_list_tokens_never_raises(
    service, admin, listed, search, sort, descending, offset, limit, all_users
):
    page = service.list_tokens(
        admin,
        search=search,
        sort=sort,
        descending=descending,
        offset=offset,
        limit=limit,
        all_users=all_users,
    )
    assert isinstance(page, Page)
    assert 0 <= len(page.rows) <= max(1, min(limit, 1000))
    assert 0 <= page.total <= 5
    assert {r.name for r in page.rows} <= set(listed) - {"zulu"}


# -- finding, disabling, enabling, deleting -------------------------------------------------


def test_find_tokens(service, admin, bob, listed):
    assert service.find_tokens(admin, "ALPHA") == [1]
    assert service.find_tokens(bob, " bravo ") == [2]
    assert service.find_tokens(admin, "Bravo", owner="BOB") == [2]
    assert service.find_tokens(bob, "basic bob") == [3]
    with pytest.raises(ValidationError) as info:
        service.find_tokens(admin, "Bravo")  # admin has none by that name
    assert (info.value.field, info.value.message) == ("name", "You have no token named 'Bravo'.")
    with pytest.raises(ValidationError) as info:
        service.find_tokens(admin, "zulu", owner=CAROL)  # deleted
    assert (info.value.field, info.value.message) == ("name", "'carol' has no token named 'zulu'.")
    with pytest.raises(ValidationError) as info:
        service.find_tokens(admin, "alpha", owner="nobody")
    assert info.value.field == "owner"


def test_set_token_enabled(service, admin, bob):
    issued = service.issue_jwt(bob, "ci", "0")
    tid = token_id(service, issued.jti)
    assert service.set_token_enabled(bob, tid, False) == "disabled"
    assert service.set_token_enabled(bob, tid, False) == "disabled"  # no change, no log line
    assert service.verify(issued.header_value).code == "disabled"
    assert [r.status for r in service.list_tokens(bob).rows] == ["Disabled"]
    assert service.set_token_enabled(admin, tid, True) == "active"
    assert service.verify(issued.header_value).code == "valid"
    toggles = [e for e in events(service) if e[0] in ("token_disabled", "token_enabled")]
    assert toggles == [
        ("token_disabled", BOB, "Token 'ci' of 'bob' disabled"),
        ("token_enabled", ADMIN, "Token 'ci' of 'bob' enabled"),
    ]


def test_delete_token(service, admin, bob):
    issued = service.issue_jwt(bob, "ci", "0")
    tid = token_id(service, issued.jti)
    service.delete_token(bob, tid)
    assert status_of(service, issued.jti) == "deleted"
    assert service.list_tokens(admin).total == 0
    assert ("token_deleted", BOB, "Token 'ci' of 'bob' deleted") in events(service)
    for change in (
        lambda: service.delete_token(admin, tid),
        lambda: service.set_token_enabled(admin, tid, True),
        lambda: service.set_token_enabled(admin, tid, False),
        lambda: service.delete_token(admin, 10_000),
    ):
        with pytest.raises(ValidationError) as info:
            change()
        assert info.value.field == "token"
    assert status_of(service, issued.jti) == "deleted"


def test_a_basic_token_from_an_old_password_lists_as_stale(service, admin, bob):
    service.issue_basic(BOB, BOB_PASSWORD)
    service.change_password(bob, BOB_PASSWORD, "bob's second passphrase", None)
    page = service.list_tokens(admin, status="stale")
    assert [(r.name, r.status) for r in page.rows] == [(f"Basic {BOB}", "Stale")]
    assert service.list_tokens(admin, status="active").total == 0
    [bob_record] = [u for u in service.list_users(admin) if u.username == BOB]
    assert bob_record.active_tokens == 0


def test_an_earlier_password_cannot_come_back(service, admin, bob):
    service.change_password(bob, BOB_PASSWORD, "bob's second passphrase", None)
    with pytest.raises(ValidationError) as info:
        service.change_password(bob, "bob's second passphrase", BOB_PASSWORD, None)
    assert info.value.field == "password" and "used before" in info.value.message
    with pytest.raises(ValidationError):
        service.reset_password(admin, BOB, BOB_PASSWORD, None)


def test_a_token_an_admin_disabled_stays_off_for_its_owner(service, admin, bob):
    jwt_token = service.issue_jwt(bob, "ci", 60)
    basic_token = service.issue_basic(BOB, BOB_PASSWORD)
    [jwt_id] = service.find_tokens(bob, "ci")
    [basic_id] = service.find_tokens(bob, f"Basic {BOB}")
    for token_id in (jwt_id, basic_id):
        service.set_token_enabled(admin, token_id, False)
        with pytest.raises(PermissionDenied):
            service.set_token_enabled(bob, token_id, True)
        with pytest.raises(PermissionDenied):
            service.delete_token(bob, token_id)  # … and make the same Basic token again
    with pytest.raises(ValidationError):
        service.issue_basic(BOB, BOB_PASSWORD)
    assert service.verify(jwt_token.header_value).code == "disabled"
    assert service.verify(basic_token.header_value).code == "disabled"
    service.set_token_enabled(admin, jwt_id, True)
    assert service.verify(jwt_token.header_value).valid


def test_a_token_its_owner_disabled_can_be_enabled_by_the_owner(service, admin, bob):
    issued = service.issue_jwt(bob, "ci", 60)
    [token_id] = service.find_tokens(bob, "ci")
    service.set_token_enabled(bob, token_id, False)
    service.set_token_enabled(bob, token_id, True)
    assert service.verify(issued.header_value).valid


def test_the_log_names_who_made_a_basic_token_for_someone_else(service, admin, bob):
    service.issue_basic(ADMIN, ADMIN_PASSWORD, actor=bob)
    [entry] = [e for e in service.logs(admin).rows if e.event == "token_generated"]
    assert (entry.username, entry.description) == (BOB, f"Basic token of {ADMIN!r}")


def test_a_duplicate_name_error_shows_the_existing_spelling(service, admin):
    service.issue_jwt(admin, "cli-1", 60)
    with pytest.raises(ValidationError, match="named 'cli-1'"):
        service.check_token_name(admin, "CLI-1")
