"""`kopitui key list|rotate|retire|export`, in-process through cli.main."""

from __future__ import annotations

import io
import json
import sys

import jwt
import pytest

from kopitui import cli
from kopitui.service import PermissionDenied, ValidationError

from support import ADMIN, ADMIN_PASSWORD


@pytest.fixture
def run(monkeypatch, capsys):
    def call(*argv: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8"))
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        assert "Traceback" not in err and ADMIN_PASSWORD not in out + err
        return code, out, err

    return call


@pytest.fixture
def as_admin(monkeypatch, admin):
    monkeypatch.setenv("KOPITUI_USER", ADMIN)
    monkeypatch.setenv("KOPITUI_PASSWORD", ADMIN_PASSWORD)


def test_rotate_keeps_old_tokens_valid_until_the_key_is_retired(run, service, admin, as_admin):
    old = service.issue_jwt(admin, "before", 60).header_value
    old_kid = jwt.get_unverified_header(old.removeprefix("Bearer "))["kid"]
    code, out, _ = run("key", "rotate")
    assert code == 0 and "New current signing key" in out
    new = service.issue_jwt(admin, "after", 60).header_value
    assert jwt.get_unverified_header(new.removeprefix("Bearer "))["kid"] != old_kid
    assert service.verify(old).valid and service.verify(new).valid

    code, out, _ = run("key", "list", "--json")
    keys = json.loads(out)
    assert [k["current"] for k in keys].count(True) == 1
    assert {k["kid"] for k in keys} >= {old_kid}

    # Without a terminal to ask at, only with --yes (as token delete and user remove).
    code, out, err = run("key", "retire", old_kid)
    assert code == 2 and out == "" and "pass --yes" in err
    assert service.verify(old).valid
    code, out, _ = run("key", "retire", old_kid, "--yes")
    assert code == 0 and "(1 active token(s) now listed Retired)" in out
    verdict = service.verify(old)
    assert verdict.code == "bad_signature" and "retired" in verdict.reason
    assert service.verify(new).valid
    # The Token List no longer calls the old token Active, and it cannot be enabled.
    statuses = {r.name: r.status for r in service.list_tokens(admin).rows}
    assert statuses == {"before": "Retired", "after": "Active"}
    assert [r.name for r in service.list_tokens(admin, status="retired").rows] == ["before"]
    assert service.list_tokens(admin, status="disabled").rows == []
    [old_id] = service.find_tokens(admin, "before")
    with pytest.raises(ValidationError, match="retired"):
        service.set_token_enabled(admin, old_id, True)


@pytest.mark.parametrize("kid", ["nope", "", "x" * 200, "../../etc", "' OR 1=1 --"])
def test_retiring_an_unknown_kid_is_a_clear_error(run, as_admin, kid):
    code, _, err = run("key", "retire", kid, "--yes")
    assert code == 2 and "No signing key has that kid" in err


def test_the_current_key_cannot_be_retired(run, service, admin, as_admin):
    kid, _ = service.current_key()
    code, _, err = run("key", "retire", kid, "--yes")
    assert code == 2 and "rotate first" in err


def test_retire_at_a_terminal_asks_after_the_checks(run, service, admin, as_admin, monkeypatch):
    monkeypatch.setattr(cli, "stdin_is_tty", lambda: True)
    current, _ = service.current_key()
    code, _, err = run("key", "retire", current)  # refused without a question
    assert code == 2 and "rotate first" in err and "Retire key" not in err
    service.issue_jwt(admin, "ci", 60)
    assert run("key", "rotate")[0] == 0
    monkeypatch.setattr(cli, "_confirm", lambda question: print(question, file=sys.stderr))
    code, out, err = run("key", "retire", current)
    assert code == 2 and out == ""
    assert f"Retire key {current}? Tokens it signed stop verifying; 1 active now." in err
    assert "nothing retired" in err
    assert service.verify(service.issue_jwt(admin, "later", 60).header_value).valid
    assert [r.status for r in service.list_tokens(admin).rows if r.name == "ci"] == ["Active"]


def test_export_gives_no_hmac_secret_without_the_flag(run, service, admin, as_admin):
    service.issue_jwt(admin, "x", 60)
    code, out, err = run("key", "export")
    assert code == 0 and json.loads(out) == {"keys": []}
    assert "--include-secret" in err
    code, out, err = run("key", "export", "--include-secret")
    assert code == 0 and "warning" in err
    [key] = json.loads(out)["keys"]
    assert key["kty"] == "oct" and key["kid"] == service.current_key()[0]
    events = [r["event"] for r in service.store.read("SELECT event FROM audit_log")]
    assert "key_exported" in events


def test_ordinary_users_cannot_rotate_or_export_secrets(run, service, admin, monkeypatch):
    service.add_user(admin, "bob", "bob's long passphrase", role="user")
    monkeypatch.setenv("KOPITUI_USER", "bob")
    monkeypatch.setenv("KOPITUI_PASSWORD", "bob's long passphrase")
    for argv in (("key", "rotate"), ("key", "export", "--include-secret")):
        code, _, err = run(*argv)
        assert code == 2 and "administrators" in err


@pytest.mark.parametrize("port", ["99999", "-1", "0", "http"])
def test_serve_refuses_a_port_that_cannot_be(run, port):
    with pytest.raises(SystemExit) as info:
        run("serve", "--port", port)
    assert info.value.code == 2


@pytest.mark.parametrize("argv", [("token", "disable", "\udcff"), ("key", "retire", "\udcff")])
def test_undecodable_names_are_a_clear_error(run, as_admin, argv):
    code, _, err = run(*argv)
    assert code == 2 and err.startswith("kopitui:")


def test_only_administrators_get_the_secret_from_the_service(service, admin):
    bob = service.add_user(admin, "bob", "bob's long passphrase", role="user")
    with pytest.raises(PermissionDenied):
        service.jwks(include_secret=True, actor=bob)
    with pytest.raises(PermissionDenied):
        service.jwks(include_secret=True)
    assert service.jwks(include_secret=True, actor=admin)["keys"][0]["kty"] == "oct"


def test_trusted_proxies_must_be_addresses(tmp_path):
    from kopitui.config import Config
    from kopitui.service import ConfigError

    with pytest.raises(ConfigError, match="IP addresses"):
        Config.from_dict({"server": {"trusted_proxies": ["localhost; rm -rf"]}})
    assert Config.from_dict({"server": {"trusted_proxies": ["127.0.0.1"]}})
