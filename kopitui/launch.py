"""Opening the service, and running the portal. Shared by both faces.

``kopitui`` alone (or with ``--config PATH``) comes straight here from ``__main__``
without loading the command line's parser and commands: the portal starts sooner.
"""

from __future__ import annotations

import gc
import sys


def shown(text: object) -> str:
    """``text`` made inert for a terminal: every non-printable character is escaped
    (``\\x1b``, ``\\u202e``…), so a name cannot move the cursor or recolour the screen."""
    if text is None:
        return "-"
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(text)
    )


def open_service(config_override: str | None):
    """The config and service every face works with; first run writes the defaults
    (where kopitui keeps its config; a file named with ``--config`` must exist)."""
    from .config import load_or_create, resolve_paths
    from .service import TokenService
    from .service.errors import ConfigError

    paths = resolve_paths(config_override)
    if config_override is not None and not paths.config_file.exists():
        # A typo would otherwise quietly start a fresh config with the defaults.
        raise ConfigError(
            f"{paths.config_file}: no such config file (--config reads an existing one; "
            f"without it, kopitui uses {resolve_paths().config_file})."
        )
    config = load_or_create(paths.config_file)
    return paths, config, TokenService(config, paths.database)


_collector_paused = False


def pause_collector() -> None:
    """Hold Python's cyclic garbage collector while the portal starts.

    Start-up creates some 77,000 long-lived objects (Textual's modules and classes, the
    parsed CSS, the first page's widgets) and very little garbage; the collector would
    walk them again and again, some 15 ms of a 0.2 s start. See ``resume_collector``.
    """
    global _collector_paused
    if gc.isenabled():
        gc.disable()
        _collector_paused = True


def resume_collector(*, started: bool = True) -> None:
    """Let the collector run again; does nothing unless ``pause_collector`` held it.

    Once the first page is up (``started``), what start-up made goes straight to the
    oldest generation (``gc.freeze`` then ``gc.unfreeze``, as documented). Re-enabled
    as they are, all of it would sit in the youngest generation and the collector would
    walk it twice within moments, two pauses of ~15 ms as the user starts typing
    (measured). In the oldest it waits for Python's next full collection like any
    long-lived object, which also frees the little garbage among it (and the first page,
    once closed): nothing is kept for good. A start that failed just lets go."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        if started:
            gc.freeze()
            gc.unfreeze()
        gc.enable()


def build_portal(config_override: str | None):
    """The App and its service, as ``kopitui`` starts them (the collector paused until
    the App shows its first page). Errors in the config or the store propagate."""
    pause_collector()
    try:
        paths, config, service = open_service(config_override)
        from .tui.app import make_app  # Textual is imported only here

        app = make_app(
            config, service, config_path=paths.config_file, on_first_screen=resume_collector
        )
    except BaseException:
        resume_collector(started=False)
        raise
    return app, service


def has_terminal() -> bool:
    """Whether stdin and stdout are a terminal, which the full-screen portal needs."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def run_tui(config_override: str | None) -> int:
    """Open the portal. Errors in the config or the store propagate as KopituiError."""
    app, service = build_portal(config_override)  # a broken config or store is said first
    try:
        if not has_terminal():
            # From a script or a pipe, the portal would draw into it and wait forever.
            from .service.errors import KopituiError

            raise KopituiError(
                "the portal needs a terminal (stdin and stdout); scripts use the commands: "
                "kopitui --help."
            )
        app.run()
    finally:
        service.close()
        resume_collector(started=False)  # if the first page never came
    return app.return_code or 0


def portal_config(argv: list[str]) -> tuple[bool, str | None]:
    """Whether ``argv`` asks for the portal alone, and the config it names."""
    if not argv:
        return True, None
    if len(argv) == 2 and argv[0] == "--config" and not argv[1].startswith("-"):
        return True, argv[1]
    return False, None


def run_portal(config_override: str | None) -> int:
    """``run_tui`` with the command line's error handling: one line, exit 2."""
    from .service.errors import KopituiError

    try:
        return run_tui(config_override)
    except KopituiError as exc:
        # One line, and nothing in it (a path, a TOML excerpt) can drive the terminal.
        print(f"kopitui: {shown(' '.join(str(exc).split()))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
