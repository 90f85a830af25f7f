"""Shared fixtures: an isolated home, a fake system clipboard, a frozen clock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kopitui import clipboard
from kopitui.config import Config, load_or_create, resolve_paths
from kopitui.service import TokenService

from support import ADMIN, ADMIN_PASSWORD, FROZEN_NOW


@dataclass
class FakeSystemClipboard:
    """Stands in for the desktop clipboard: tests never touch the machine's."""

    available: bool = False
    contents: list[str] = field(default_factory=list)

    def copy(self, text: str, env) -> None:
        if not self.available:
            raise clipboard._RouteFailed("no desktop session (fake clipboard unavailable)")
        self.contents.append(text)

    def paste(self, env) -> str:
        if not self.available:
            raise clipboard._RouteFailed("no desktop session (fake clipboard unavailable)")
        return self.contents[-1] if self.contents else ""


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "kopitui-home"
    monkeypatch.setenv("KOPITUI_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return home


@pytest.fixture
def fake_system_clipboard(monkeypatch: pytest.MonkeyPatch) -> FakeSystemClipboard:
    fake = FakeSystemClipboard()
    monkeypatch.setattr(clipboard, "copy_system", fake.copy)
    monkeypatch.setattr(clipboard, "read_system", fake.paste)
    return fake


@pytest.fixture
def config() -> Config:
    return load_or_create(resolve_paths().config_file)


@pytest.fixture
def service(config: Config):
    svc = TokenService(config, resolve_paths().database, clock=lambda: FROZEN_NOW)
    yield svc
    svc.close()


@pytest.fixture
def services(config: Config):
    """Open more services on the conftest database, each with its own clock."""
    opened: list[TokenService] = []

    def open_service(clock) -> TokenService:
        svc = TokenService(config, resolve_paths().database, clock=clock)
        opened.append(svc)
        return svc

    yield open_service
    for svc in opened:
        svc.close()


@pytest.fixture
def at(services):
    """``at(t)``: another service on the conftest database whose clock says ``t``."""
    return lambda now: services(lambda: now)


@pytest.fixture
def admin(service: TokenService):
    return service.create_first_admin(ADMIN, ADMIN_PASSWORD, ADMIN_PASSWORD)


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


@pytest.fixture
def deterministic_secrets(monkeypatch: pytest.MonkeyPatch):
    """Fixed key, kid and jti so screens that show tokens can be snapshot."""
    import secrets

    counter = _Counter()
    # The service imports secrets where it uses it, so the module's functions are patched.
    monkeypatch.setattr(secrets, "token_bytes", lambda n: bytes(range(n)))
    monkeypatch.setattr(secrets, "token_hex", lambda n: f"{counter.next():0{2 * n}x}")
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: f"jti-{counter.next():04d}")


@pytest.fixture
def make_app(config: Config, service: TokenService):
    from kopitui.tui.app import make_app as factory

    def build(**kwargs):
        app = factory(config, service, config_path=resolve_paths().config_file, **kwargs)
        return app

    return build
