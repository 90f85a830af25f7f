"""The core never imports Textual (STYLE.md: a thin Textual shell over a plain core)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers_core import child_env, isolate_home

CORE_MODULES = [
    "kopitui",
    "kopitui.service",
    "kopitui.service.validation",
    "kopitui.service.store",
    "kopitui.config",
    "kopitui.clipboard",
    "kopitui.cli",
    "kopitui.__main__",
]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    isolate_home(monkeypatch, tmp_path)


def run_python(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        env=child_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_core_imports_without_textual(tmp_path):
    code = (
        "import sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    __import__(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
        "print('clean')\n"
    )
    result = run_python(tmp_path, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_the_check_can_see_textual(tmp_path):
    """Guard against a vacuous test: importing Textual is visible to the same check."""
    code = "import sys, textual\nassert 'textual' in sys.modules\nprint('seen')\n"
    result = run_python(tmp_path, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "seen"


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_cli_flags_do_not_import_textual(tmp_path, flag):
    result = run_python(tmp_path, "-X", "importtime", "-m", "kopitui", flag)
    assert result.returncode == 0, result.stderr
    assert "kopitui" in result.stdout
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert any(name.startswith("kopitui") for name in imported), "importtime saw nothing"
    assert not [name for name in imported if name.split(".")[0] == "textual"]
    assert "textual" not in result.stderr


def test_version_output(tmp_path):
    from kopitui import __version__

    result = run_python(tmp_path, "-m", "kopitui", "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"kopitui {__version__}"
    assert result.stderr == ""
