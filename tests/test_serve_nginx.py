"""`kopitui serve` as a real process, and behind a real nginx as its auth_request target."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kopitui.config import Config
from kopitui.service import TokenService

from support import ADMIN, ADMIN_PASSWORD

KOPITUI = Path(sys.executable).parent / "kopitui"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, headers: dict | None = None):
    req = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def stop(proc: subprocess.Popen, *, signalled: bool = False) -> str:
    """End ``proc`` (if still running) and close its pipes; returns what it wrote to stderr.
    ``signalled``: a signal was sent already; give it time to shut down by itself."""
    if not signalled and proc.poll() is None:
        proc.terminate()
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


def wait_until_up(url: str, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            if get(url)[0] < 500:
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} did not answer at {url}")


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "KOPITUI_HOME": str(home),
        "LANG": "C.UTF-8",
    }
    svc = TokenService(Config(), home / "kopitui.db")
    svc.create_first_admin(ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD)
    svc.close()
    return home, env


@pytest.fixture
def kopitui_serve(home):
    if not KOPITUI.exists():
        pytest.skip(f"the kopitui command is not installed next to {sys.executable}")
    home_dir, env = home
    port = free_port()
    proc = subprocess.Popen(
        [str(KOPITUI), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", proc, "kopitui serve")
        yield port, proc
    finally:
        stop(proc)


def test_serve_answers_and_stops_cleanly_on_sigterm(kopitui_serve, home):
    port, proc = kopitui_serve
    home_dir, _ = home
    svc = TokenService(Config(), home_dir / "kopitui.db")
    token = svc.issue_jwt(svc.get_user(ADMIN), "probe", 60).header_value
    svc.close()
    status, body = get(f"http://127.0.0.1:{port}/auth", {"Auth-Token": token})
    assert status == 200 and json.loads(body)["token_name"] == "probe"
    proc.send_signal(signal.SIGTERM)
    log = stop(proc, signalled=True)
    # A graceful shutdown; uvicorn then re-raises the signal, as Unix programs should.
    assert "Finished server process" in log, log
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "GET /auth" in log and "200" in log  # the access log …
    assert token.split(".")[-1] not in log  # … never has the token
    assert "Traceback" not in log


def test_serve_warns_when_listening_beyond_loopback(home):
    if not KOPITUI.exists():
        pytest.skip("the kopitui command is not installed")
    _, env = home
    port = free_port()
    proc = subprocess.Popen(
        [str(KOPITUI), "serve", "--host", "0.0.0.0", "--port", str(port)],  # noqa: S104
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", proc, "kopitui serve")
    finally:
        proc.send_signal(signal.SIGINT)
        log = stop(proc, signalled=True)
    assert "warning: listening on 0.0.0.0" in log
    assert "Finished server process" in log, log
    assert "Traceback" not in log


class _Upstream(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        body = f"upstream saw user={self.headers.get('X-User', '')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            auth_request /_kopitui;
            auth_request_set $kopitui_user $upstream_http_x_kopitui_user;
            proxy_set_header X-User $kopitui_user;
            proxy_pass http://127.0.0.1:{upstream};
        }}
        location = /_kopitui {{
            internal;
            proxy_pass http://127.0.0.1:{kopitui}/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Real-IP $remote_addr;
        }}
    }}
}}
"""


@pytest.fixture
def nginx(tmp_path, kopitui_serve):
    if NGINX is None:
        pytest.skip("nginx is not installed (.ci/run installs it)")
    kopitui_port, _ = kopitui_serve
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    folder = tmp_path / "nginx"
    folder.mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user="user root root;" if os.geteuid() == 0 else "",
            tmp=folder,
            port=port,
            upstream=upstream.server_address[1],
            kopitui=kopitui_port,
        )
    )
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(folder), "-e", str(folder / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, "nginx")
        yield port
    finally:
        stop(proc)
        upstream.shutdown()
        upstream.server_close()


def test_nginx_auth_request_lets_only_valid_tokens_through(nginx, home):
    home_dir, _ = home
    database = home_dir / "kopitui.db"
    svc = TokenService(Config(), database)
    admin = svc.get_user(ADMIN)
    valid = svc.issue_jwt(admin, "valid", 60).header_value
    disabled = svc.issue_jwt(admin, "disabled", 60).header_value
    deleted = svc.issue_jwt(admin, "deleted", 60).header_value
    [disabled_id] = svc.find_tokens(admin, "disabled")
    [deleted_id] = svc.find_tokens(admin, "deleted")
    svc.set_token_enabled(admin, disabled_id, False)
    svc.delete_token(admin, deleted_id)
    stale = svc.issue_basic(ADMIN, ADMIN_PASSWORD).header_value
    svc.change_password(admin, ADMIN_PASSWORD, "another long passphrase", None)
    basic = svc.issue_basic(ADMIN, "another long passphrase").header_value
    svc.close()
    past = TokenService(Config(), database, clock=lambda: time.time() - 7200)
    expired = past.issue_jwt(past.get_user(ADMIN), "expired", 60).header_value
    past.close()

    url = f"http://127.0.0.1:{nginx}/resource"
    assert get(url, {"Auth-Token": valid}) == (200, f"upstream saw user={ADMIN}")
    assert get(url, {"Auth-Token": basic}) == (200, f"upstream saw user={ADMIN}")
    for name, token in [
        ("expired", expired),
        ("disabled", disabled),
        ("deleted", deleted),
        ("stale", stale),
        ("missing", None),
    ]:
        status, _ = get(url, {"Auth-Token": token} if token else {})
        assert status == 401, f"{name} token got {status}"
