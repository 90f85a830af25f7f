"""The token service over HTTP: a real uvicorn server on a free loopback port."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import warnings

import jwt
import pytest
import uvicorn

from kopitui.server import FailureLimiter, create_app, uvicorn_config

from support import ADMIN, ADMIN_PASSWORD, FROZEN_NOW


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningServer:
    def __init__(self, app) -> None:
        self.port = free_port()
        config = uvicorn_config(app, "127.0.0.1", self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)

    def request(self, path: str, headers: dict | None = None, method: str = "GET"):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()


@pytest.fixture
def server(service, admin):
    with RunningServer(create_app(service)) as running:
        yield running


def body(raw: bytes) -> dict:
    return json.loads(raw)


def test_health(server):
    status, _, raw = server.request("/health")
    assert (status, body(raw)) == (200, {"status": "ok"})


def test_valid_jwt_in_every_header_form(server, service, admin):
    token = service.issue_jwt(admin, "terraform", 60).header_value
    for headers in (
        {"Auth-Token": token},
        {"Authorization": token},
        {"Auth-Token": token.removeprefix("Bearer ")},
    ):
        status, response_headers, raw = server.request("/auth", headers)
        assert status == 200, raw
        data = body(raw)
        assert data["valid"] is True and data["verdict"] == "valid"
        assert data["username"] == ADMIN and data["token_name"] == "terraform"
        assert data["expires_at"] == FROZEN_NOW + 3600
        assert response_headers["X-Kopitui-User"] == ADMIN
    status, _, raw = server.request("/auth", {"Auth-Token": token}, method="HEAD")
    assert status == 200 and raw == b""


def test_valid_basic(server, service, admin):
    token = service.issue_basic(ADMIN, ADMIN_PASSWORD).header_value
    status, _, raw = server.request("/auth", {"Auth-Token": token})
    assert status == 200, raw
    assert body(raw)["type"] == "Basic"


@pytest.mark.parametrize(
    "setup",
    ["missing", "expired", "disabled", "deleted", "stale", "alg_none", "garbage", "bad_sig"],
)
def test_refusals_are_401_with_a_reason(server, service, admin, setup):
    headers = {}
    expected = setup
    if setup == "expired":
        token = service.issue_jwt(admin, "short", 1).header_value
        service._clock = lambda: FROZEN_NOW + 3600
        headers = {"Auth-Token": token}
    elif setup in ("disabled", "deleted"):
        issued = service.issue_jwt(admin, "x", 60)
        [token_id] = service.find_tokens(admin, "x")
        if setup == "disabled":
            service.set_token_enabled(admin, token_id, False)
        else:
            service.delete_token(admin, token_id)
        headers = {"Auth-Token": issued.header_value}
    elif setup == "stale":
        token = service.issue_basic(ADMIN, ADMIN_PASSWORD).header_value
        service.change_password(admin, ADMIN_PASSWORD, "a brand new passphrase", None)
        headers = {"Auth-Token": token}
    elif setup == "alg_none":
        none = (
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJjaS1ib3QiLCJqdGkiOiJjaS10b2tlbiIs"
            "ImlhdCI6MTcwMDAwMDAwMH0."
        )
        headers = {"Auth-Token": f"Bearer {none}"}
        expected = "algorithm_not_allowed"
    elif setup == "garbage":
        headers = {"Auth-Token": "Bearer not-a-token"}
        expected = "malformed"
    elif setup == "bad_sig":
        token = service.issue_jwt(admin, "y", 60).header_value
        headers = {"Auth-Token": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")}
        expected = "bad_signature"
    else:
        expected = "malformed"
    status, response_headers, raw = server.request("/auth", headers)
    assert status == 401, raw
    data = body(raw)
    assert data["valid"] is False and data["verdict"] == expected
    assert data["reason"]
    assert "WWW-Authenticate" in response_headers
    signature = headers.get("Auth-Token", "").split(".")[-1]
    if len(signature) > 8:
        assert signature not in raw.decode()


def test_jwks_publishes_no_hmac_secret(server, service, admin):
    service.issue_jwt(admin, "x", 60)
    status, _, raw = server.request("/.well-known/jwks.json")
    assert status == 200 and body(raw) == {"keys": []}


def test_failures_are_logged_without_the_token(server, service, admin):
    token = service.issue_jwt(admin, "x", 60).header_value
    server.request("/auth", {"Auth-Token": token + "x"})
    rows = service.store.read(
        "SELECT source, description FROM audit_log WHERE event = ?", ("verify_failed",)
    )
    assert rows and rows[-1]["source"].startswith("http ")
    assert all(token.split(".")[-1] not in r["description"] for r in rows)


def test_repeated_failures_are_refused_for_a_while(service, admin):
    clock = [0.0]
    limiter = FailureLimiter(max_failures=3, window=60, block=120, clock=lambda: clock[0])
    good = service.issue_jwt(admin, "ok", 60).header_value
    with RunningServer(create_app(service, limiter=limiter)) as server:
        for _ in range(3):
            assert server.request("/auth", {"Auth-Token": "Basic Ym9iOndyb25n"})[0] == 401
        status, headers, raw = server.request("/auth", {"Auth-Token": good})
        assert status == 429 and body(raw)["verdict"] == "throttled"
        assert headers["Retry-After"] == "120"
        clock[0] += 121
        assert server.request("/auth", {"Auth-Token": good})[0] == 200
    events = [r["event"] for r in service.store.read("SELECT event FROM audit_log")]
    assert "verify_throttled" in events


def test_forwarded_address_counts_only_from_a_trusted_proxy(service, admin):
    limiter = FailureLimiter(max_failures=2, window=60, block=60)
    app = create_app(service, limiter=limiter, trusted_proxies=("127.0.0.1",))
    with RunningServer(app) as server:
        bad = {"Auth-Token": "Basic Ym9iOndyb25n"}
        for _ in range(2):
            server.request("/auth", {**bad, "X-Real-IP": "203.0.113.7"})
        # Another client behind the same (loopback, trusted) proxy is not blocked.
        status, _, _ = server.request("/auth", {**bad, "X-Real-IP": "203.0.113.8"})
        assert status == 401
        status, _, _ = server.request("/auth", {**bad, "X-Real-IP": "203.0.113.7"})
        assert status == 429


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_asymmetric_keys_are_published_and_verify_elsewhere(tmp_path, admin, algorithm):
    from joserfc import jwt as jose_jwt
    from joserfc.jwk import KeySet

    from kopitui.config import Config
    from kopitui.service import TokenService

    svc = TokenService(Config().replace("jwt", "algorithm", algorithm), tmp_path / "k.db")
    try:
        user = svc.create_first_admin(ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD)
        token = svc.issue_jwt(user, "x", 60).header_value.removeprefix("Bearer ")
        with RunningServer(create_app(svc)) as server:
            status, _, raw = server.request("/.well-known/jwks.json")
        keys = body(raw)
        kty = {"RS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}[algorithm]
        assert status == 200 and [k["kty"] for k in keys["keys"]] == [kty]
        assert not {"d", "p", "q"} & set(keys["keys"][0])  # no private part
        with warnings.catch_warnings():
            # joserfc flags the name "EdDSA" (RFC 9864 prefers "Ed25519"); PyJWT uses it.
            warnings.simplefilter("ignore")
            decoded = jose_jwt.decode(token, KeySet.import_key_set(keys), algorithms=[algorithm])
        assert decoded.claims["sub"] == ADMIN
        assert jwt.get_unverified_header(token)["kid"] == keys["keys"][0]["kid"]
    finally:
        svc.close()


def test_basic_header_value_is_plain_base64(service, admin):
    value = service.issue_basic(ADMIN, ADMIN_PASSWORD).header_value
    assert base64.b64decode(value.removeprefix("Basic ")).decode() == f"{ADMIN}:{ADMIN_PASSWORD}"


def test_forwarded_addresses_are_ignored_unless_the_proxy_is_trusted(service, admin):
    # By default no proxy is trusted: a local process cannot pick the address it is
    # counted under (and so neither dodge the limit nor get someone else blocked).
    limiter = FailureLimiter(max_failures=2, window=60, block=60)
    with RunningServer(create_app(service, limiter=limiter)) as server:
        bad = {"Auth-Token": "Basic Ym9iOndyb25n"}
        server.request("/auth", {**bad, "X-Real-IP": "203.0.113.7"})
        server.request("/auth", {**bad, "X-Forwarded-For": "203.0.113.8"})
        for header in ("X-Real-IP", "X-Forwarded-For"):
            status, _, _ = server.request("/auth", {**bad, header: "203.0.113.9"})
            assert status == 429, header


def test_a_valid_token_does_not_wipe_earlier_failures(service, admin):
    limiter = FailureLimiter(max_failures=3, window=60, block=60)
    good = service.issue_jwt(admin, "ok", 60).header_value
    with RunningServer(create_app(service, limiter=limiter)) as server:
        bad = {"Auth-Token": "Basic Ym9iOndyb25n"}
        for _ in range(2):
            assert server.request("/auth", bad)[0] == 401
            assert server.request("/auth", {"Auth-Token": good})[0] == 200
        assert server.request("/auth", bad)[0] == 401  # the third failure blocks
        assert server.request("/auth", {"Auth-Token": good})[0] == 429


def test_the_limiter_forgets_old_clients(service):
    clock = [0.0]
    limiter = FailureLimiter(max_failures=5, window=60, block=60, clock=lambda: clock[0])
    for i in range(10_001):
        limiter.failed(f"10.0.{i // 256}.{i % 256}")
    clock[0] += 61
    limiter.failed("192.0.2.1")
    limiter._sweep(clock[0])
    assert list(limiter._failures) == ["192.0.2.1"]
