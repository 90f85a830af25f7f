"""The command-line face of the token service. Must not import Textual."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .service.errors import KopituiError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kopitui",
        description="A terminal portal for minting and managing KopiCloud AD API tokens. "
        "Run without a command to open the portal.",
    )
    parser.add_argument("--version", action="version", version=f"kopitui {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="use this config file instead of the default one",
    )
    return parser


def open_service(config_override: str | None):
    """The config and service every face works with; first run writes the defaults."""
    from .config import load_or_create, resolve_paths
    from .service import TokenService

    paths = resolve_paths(config_override)
    config = load_or_create(paths.config_file)
    return paths, config, TokenService(config, paths.database)


def run_tui(args: argparse.Namespace) -> int:
    paths, config, service = open_service(args.config)
    from .tui.app import make_app  # Textual is imported only here

    app = make_app(config, service, config_path=paths.config_file)
    try:
        app.run()
    finally:
        service.close()
    return app.return_code or 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run_tui(args)
    except KopituiError as exc:
        print(f"kopitui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
