"""Shared helpers for the core (non-Textual) tests.

Importing this module registers and loads the hypothesis profiles: ``default``
(100 examples) and ``fuzz`` (500 examples), chosen with ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from kopitui.config import Config
from kopitui.service import TokenService

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: The frozen clock of cases C06/C07.
FROZEN_NOW = 1700000000

#: Variables that would let a test reach the real machine's home, clipboard or tmux.
_LEAKY = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "TMUX",
    "TMUX_PANE",
    "SSH_CONNECTION",
    "SSH_TTY",
    "SSH_CLIENT",
)


def isolate_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point KOPITUI_HOME, HOME and the XDG folders at ``tmp_path``; return the home."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    kopitui_home = tmp_path / "kopitui-home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KOPITUI_HOME", str(kopitui_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for name in _LEAKY:
        monkeypatch.delenv(name, raising=False)
    return kopitui_home


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An explicit environment for a child process, isolated to ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    env.update(
        HOME=str(tmp_path / "home"),
        KOPITUI_HOME=str(tmp_path / "kopitui-home"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
    )
    env.pop("PYTHONWARNINGS", None)
    env.update(extra)
    return env


def make_config(**settings_by_key: Any) -> Config:
    """A checked config with some settings changed: ``make_config(jwt__issuer="x")``."""
    data: dict[str, dict[str, Any]] = {}
    for dotted, value in settings_by_key.items():
        section, key = dotted.split("__", 1)
        data.setdefault(section, {})[key] = value
    return Config.from_dict(data)


def make_service(
    tmp_path: Path, config: Config | None = None, *, clock=lambda: FROZEN_NOW
) -> TokenService:
    """A service over a fresh database in ``tmp_path/data``. Close it when done."""
    return TokenService(config or Config(), tmp_path / "data" / "kopitui.db", clock=clock)


PYTHON = sys.executable


def any_text(max_size: int = 40):
    """Any code point, lone surrogates included. (st.characters() leaves those out by
    default, and st.text(alphabet) drops them even when offered, hence lists joined.)"""
    from hypothesis import strategies as st

    return st.lists(
        st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=max_size
    ).map("".join)


#: Property tests that share a function-scoped ``service`` across examples, on purpose.
PROPERTY = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
