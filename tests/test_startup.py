"""Start-up: the collector is held until the first page is up, and always let go."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest
from textual.widgets import Input

from kopitui import launch
from kopitui.service.errors import ConfigError
from kopitui.tui.app import make_app
from kopitui.tui.screens.login import LoginScreen
from kopitui.tui.screens.setup import SetupScreen

from support import ADMIN, ADMIN_PASSWORD, settle, sign_in


@pytest.fixture(autouse=True)
def collector_restored():
    """Whatever a test does, the suite goes on with the collector running and nothing frozen."""
    was_enabled = gc.isenabled()
    yield
    launch._collector_paused = False
    gc.unfreeze()
    if was_enabled:
        gc.enable()


async def test_first_screen_hook_runs_once_sign_in_mounted_and_focused(config, admin, service):
    seen = []

    def first_screen() -> None:
        screen = app.screen
        seen.append((type(screen), screen.query_one("#username", Input).is_mounted, app.focused))

    app = make_app(config, service, on_first_screen=first_screen)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert len(seen) == 1
        screen_type, username_mounted, focused = seen[0]
        assert screen_type is LoginScreen and username_mounted
        assert focused is app.screen.query_one("#username", Input)
        # Signing in and out again brings Sign in back, but start-up was once.
        await sign_in(pilot, ADMIN, ADMIN_PASSWORD)
        app.action_sign_out()
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert len(seen) == 1


async def test_first_screen_hook_runs_on_first_run_too(config, service):
    seen = []
    app = make_app(config, service, on_first_screen=lambda: seen.append(type(app.screen)))
    async with app.run_test() as pilot:
        await settle(pilot)
        assert seen == [SetupScreen]


async def test_portal_holds_the_collector_until_the_first_page(admin):
    assert gc.isenabled()
    app, service = launch.build_portal(None)
    try:
        assert not gc.isenabled(), "start-up runs with the cyclic collector held"
        async with app.run_test() as pilot:
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen)
            assert gc.isenabled(), "the collector runs again once Sign in is up"
            assert gc.get_freeze_count() == 0, "nothing is kept out of collections for good"
    finally:
        service.close()


FRESH_START = """
import gc, json, sys
from kopitui import launch

app, service = launch.build_portal(None)

async def auto_pilot(pilot):
    while gc.isenabled() is False:
        await pilot.pause(0)
    print(json.dumps({
        "screen": type(app.screen).__name__,
        "youngest": len(gc.get_objects(generation=0)),
        "oldest": len(gc.get_objects(generation=2)),
        "frozen": gc.get_freeze_count(),
    }))
    app.exit()

app.run(headless=True, size=(80, 24), auto_pilot=auto_pilot)
service.close()
"""


def test_a_fresh_start_leaves_its_objects_in_the_oldest_generation(admin, isolated_home):
    # In a fresh interpreter, as `kopitui` starts: Textual itself is imported while held.
    done = subprocess.run(
        [sys.executable, "-c", FRESH_START],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KOPITUI_HOME": str(isolated_home)},
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["screen"] == "LoginScreen"
    assert seen["frozen"] == 0
    # Left in the youngest generation, the collector would walk all of it within moments.
    assert seen["oldest"] > 30_000
    assert seen["youngest"] < seen["oldest"] / 10


def test_run_tui_lets_the_collector_go_when_no_page_ever_came(admin, monkeypatch):
    from kopitui.tui.app import KopituiApp

    def crashed_before_the_first_page(self, *args, **kwargs):
        raise RuntimeError("terminal went away")

    monkeypatch.setattr(KopituiApp, "run", crashed_before_the_first_page)
    monkeypatch.setattr(launch, "has_terminal", lambda: True)
    with pytest.raises(RuntimeError):
        launch.run_tui(None)
    assert gc.isenabled()


def test_a_failed_start_lets_the_collector_go(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "config.toml").write_text("[jwt\n", encoding="utf-8")
    assert gc.isenabled()
    with pytest.raises(ConfigError):
        launch.build_portal(None)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_resume_only_undoes_its_own_pause():
    # Someone else (a host program, a debugger) turned the collector off: not ours to undo.
    gc.disable()
    launch.pause_collector()
    launch.resume_collector()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_portal_without_a_terminal_is_one_line_not_a_hang(admin, isolated_home):
    # `kopitui </dev/null >log` from a script: no screen to draw on, nobody to type.
    done = subprocess.run(
        [sys.executable, "-m", "kopitui"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "KOPITUI_HOME": str(isolated_home)},
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("kopitui: the portal needs a terminal")
    assert done.stderr.count("\n") == 1
