"""``kopitui`` and ``python -m kopitui``: the portal, or one command of the command line.

The portal alone (no arguments, or ``--config PATH``) starts without loading the command
line's parser and commands; nothing here imports Textual before the portal needs it.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from .launch import portal_config, run_portal

    portal, config = portal_config(argv)
    if portal:
        return run_portal(config)
    from . import cli

    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
