"""``kopitui`` and ``python -m kopitui``: parse arguments, then the TUI or a command.

Nothing here imports Textual unless the TUI is what was asked for.
"""

from __future__ import annotations

import sys

from . import cli


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
