#!/usr/bin/env python3
"""Regenerate the README screenshots in ``screenshots/``.

They are the snapshot tests' own SVGs (every tests/test_snapshots*.py; 80×24, frozen
clock, fixed key), so what the README shows is exactly what the tests check. Steps:
refresh the snapshots with ``pytest --snapshot-update``, then copy each
``test_<name>.svg`` to ``screenshots/<name>.svg``.

Usage: python scripts/screenshots.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "__snapshots__"
SCREENSHOTS = ROOT / "screenshots"


def main() -> int:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_snapshots*.py")),
            "--snapshot-update",
            "-k",
            "not readme_screenshots",
        ],
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        print("snapshot tests failed; screenshots not updated", file=sys.stderr)
        return result.returncode
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("*.svg"):
        old.unlink()
    for snapshot in sorted(SNAPSHOTS.glob("test_snapshots*/test_*.svg")):
        target = SCREENSHOTS / (snapshot.stem.removeprefix("test_") + ".svg")
        shutil.copyfile(snapshot, target)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
