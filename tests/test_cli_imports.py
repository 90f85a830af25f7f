"""Which modules a command-line command imports (issue 6: the CLI answers like a small
script). Textual, Rich, argon2 and the HTTP stack are loaded only by the commands that
need them; ``token verify`` of a JWT needs PyJWT and nothing heavy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from support import ADMIN, ADMIN_PASSWORD

#: Top-level packages no plain command may load unless it needs them.
TUI = {"textual", "rich"}
HTTP = {"uvicorn", "starlette", "fastapi", "httpx", "h11", "anyio"}
HEAVY = TUI | HTTP | {"argon2"}


def run_kopitui(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    """``python -X importtime -m kopitui ARGS``: the result and the set of modules the
    process imported (every line of the import-time report names one)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kopitui", *args],
        input=stdin,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, imported_modules(result.stderr)


def imported_modules(importtime_report: str) -> set[str]:
    modules = set()
    for line in importtime_report.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[-1].strip()
            if name and name != "imported package":
                modules.add(name)
    return modules


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_report_is_read(tmp_path):
    """Guard against a vacuous check: a child that imports Textual and PyJWT is seen."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import textual.app, jwt"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = top_level(imported_modules(result.stderr))
    assert {"textual", "rich", "jwt"} <= seen


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_nothing_heavy(flag):
    result, modules = run_kopitui(flag)
    assert result.returncode == 0, result.stderr
    assert "kopitui" in top_level(modules)
    assert not top_level(modules) & (HEAVY | {"jwt", "cryptography"})


def test_verify_of_a_jwt_imports_pyjwt_and_nothing_heavy(service, admin):
    # Never expires: the child checks it against the real clock, not the frozen one.
    issued = service.issue_jwt(admin, "imports", "0")
    service.close()  # the child opens the same database (KOPITUI_HOME is isolated)

    result, modules = run_kopitui("token", "verify", "-", stdin=issued.header_value + "\n")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Valid"), result.stdout
    loaded = top_level(modules)
    assert "jwt" in loaded
    assert not loaded & HEAVY, sorted(loaded & HEAVY)


def test_verify_of_garbage_imports_nothing_heavy():
    result, modules = run_kopitui("token", "verify", "-", stdin="not a token\n")
    assert result.returncode == 1
    assert result.stdout.startswith("Malformed"), result.stdout
    assert not top_level(modules) & HEAVY


def test_signed_in_command_loads_argon2_but_no_tui(service, admin):
    """A command that checks a password needs argon2 — and still no Textual or HTTP."""
    service.close()
    env = dict(os.environ, KOPITUI_PASSWORD=ADMIN_PASSWORD)

    result, modules = run_kopitui("token", "list", "--user", ADMIN, env=env)

    assert result.returncode == 0, result.stderr
    loaded = top_level(modules)
    assert "argon2" in loaded
    assert not loaded & (TUI | HTTP | {"jwt"}), sorted(loaded & (TUI | HTTP | {"jwt"}))
