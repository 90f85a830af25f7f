"""One start of a TUI, headless, for the "TUI ready" benchmark.

    python tui_child.py kopitui|kopitui-collecting|baseline|baseline-held FD

Starts the app the way its command does, waits until its first screen is mounted,
focused and has processed every pending event (one render forced), then writes
``ready`` to file descriptor FD and exits. The parent times spawn → ready line.

``kopitui`` follows ``kopitui`` with no arguments (kopitui/launch.py ``run_tui``):
``build_portal`` opens the config and the service and builds the App with the factory
(holding the garbage collector until the first page is up, as the command does), then
it runs — headless and with an auto-pilot, so no product flag is needed. The home
(KOPITUI_HOME) already holds one user, so the first screen is Sign in.
``kopitui-collecting`` is the same without holding the collector: what the hold buys.

``baseline`` is the floor: a bare Textual app with a Header, two Inputs, a Button and a
Footer, focused on its first Input. ``baseline-held`` is that app holding its collector
the way kopitui does: like for like, what kopitui's own start-up costs.
"""

from __future__ import annotations

import os
import sys


def kopitui_app(hold_collector: bool = True):
    from kopitui import launch

    if hold_collector:
        # As `kopitui` with no arguments does (kopitui/__main__.py → launch.run_tui).
        app, service = launch.build_portal(None)
    else:
        # The same App, with Python's garbage collector left running all along.
        from kopitui.tui.app import make_app

        paths, config, service = launch.open_service(None)
        app = make_app(config, service, config_path=paths.config_file)
    from kopitui.tui.screens.login import LoginScreen

    def ready() -> bool:
        if isinstance(app.screen, LoginScreen):
            return app.focused is not None
        if len(app.screen_stack) > 1:  # another first page: this home has no user
            raise SystemExit(f"expected Sign in, got {type(app.screen).__name__}")
        return False

    return app, ready, service.close


def baseline_app(hold_collector: bool = False):
    if hold_collector:
        # The same hold as kopitui.launch.pause_collector / resume_collector, by hand:
        # the floor for what is left once both sides skip those collections.
        import gc

        gc.disable()

        def resume() -> None:
            gc.freeze()
            gc.unfreeze()
            gc.enable()

    from textual.app import App, ComposeResult
    from textual.widgets import Button, Footer, Header, Input

    class Baseline(App):
        TITLE = "baseline"

        def compose(self) -> ComposeResult:
            yield Header()
            yield Input(placeholder="Name")
            yield Input(placeholder="Password", password=True)
            yield Button("Sign in")
            yield Footer()

        def on_mount(self) -> None:
            self.query_one(Input).focus()
            if hold_collector:
                self.screen.call_after_refresh(resume)

    app = Baseline()

    def ready() -> bool:
        return app.screen.is_mounted and app.focused is not None

    return app, ready, lambda: None


def main() -> int:
    which, fd = sys.argv[1], int(sys.argv[2])
    if which.startswith("baseline"):
        app, ready, close = baseline_app(hold_collector=which == "baseline-held")
    else:
        app, ready, close = kopitui_app(hold_collector=which == "kopitui")

    async def auto_pilot(pilot) -> None:
        while not ready():
            await pilot.pause(0)
        await pilot.pause(0)  # the screen's pending events done, and one render forced
        os.write(fd, b"ready\n")
        os.close(fd)
        app.exit()

    try:
        app.run(headless=True, size=(80, 24), auto_pilot=auto_pilot)
    finally:
        close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
