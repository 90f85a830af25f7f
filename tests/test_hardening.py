"""Hardening: nonsense from any door gets an answer, never a traceback; names are one
name however they are typed."""

from __future__ import annotations

import io
import sys
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kopitui import cli
from kopitui.config import load
from kopitui.service import ConfigError

import helpers_core  # noqa: F401 - loads the hypothesis profile
from support import ADMIN, ADMIN_PASSWORD

COMPOSED = unicodedata.normalize("NFC", "søren-é")
DECOMPOSED = unicodedata.normalize("NFD", "søren-é")


def test_composed_and_decomposed_names_are_one_user_and_one_basic_token(service, admin):
    assert COMPOSED != DECOMPOSED
    service.add_user(admin, DECOMPOSED, "a long enough passphrase", role="user")
    with pytest.raises(Exception, match="already exists"):
        service.add_user(admin, COMPOSED, "a long enough passphrase", role="user")
    one = service.authenticate(COMPOSED, "a long enough passphrase")
    other = service.authenticate(DECOMPOSED, "a long enough passphrase")
    assert one.id == other.id and one.username == COMPOSED  # stored in NFC
    first = service.issue_basic(COMPOSED, "a long enough passphrase")
    second = service.issue_basic(DECOMPOSED, "a long enough passphrase")
    assert first.header_value == second.header_value
    assert service.verify(second.header_value).valid


@given(raw=st.binary(max_size=2048))
def test_any_bytes_as_a_config_file_is_a_config_or_a_config_error(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_bytes(raw)
        try:
            load(path)
        except ConfigError as exc:
            assert str(path) in str(exc)


_WORDS = st.sampled_from(
    [
        "user",
        "add",
        "passwd",
        "list",
        "remove",
        "token",
        "jwt",
        "basic",
        "disable",
        "enable",
        "delete",
        "verify",
        "logs",
        "key",
        "rotate",
        "retire",
        "export",
        "--name",
        "--expires",
        "--json",
        "--all",
        "--status",
        "--search",
        "--since",
        "--until",
        "--limit",
        "--owner",
        "--role",
        "--user",
        "--yes",
        "--include-secret",
        "--password-stdin",
        "--new-password-stdin",
        "-",
        "0",
        "60",
        "-5",
        "1e999",
        "admin",
    ]
)
_ARGS = st.lists(st.one_of(_WORDS, st.text(max_size=30)), min_size=1, max_size=8)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=_ARGS, stdin=st.binary(max_size=200))
def test_any_command_line_gets_an_exit_code_never_a_traceback(
    argv, stdin, service, admin, monkeypatch, capsys
):
    if argv[0] not in ("user", "token", "logs", "key"):
        argv = ["token", *argv]  # never the TUI (no command) or serve (a server)
    monkeypatch.setenv("KOPITUI_USER", ADMIN)
    monkeypatch.setenv("KOPITUI_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    monkeypatch.setattr(cli, "stdin_is_tty", lambda: False)
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's usage errors, --help
        code = exc.code
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err
    assert ADMIN_PASSWORD not in out + err


_TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
_TOML_TABLES = st.dictionaries(
    st.text(min_size=1, max_size=12),
    st.recursive(
        _TOML_SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=6,
    ),
    max_size=4,
)


@given(
    document=st.dictionaries(
        st.sampled_from(["jwt", "security", "clipboard", "server", "ui", "other"]),
        _TOML_TABLES,
        max_size=4,
    )
)
def test_any_toml_document_is_a_config_or_a_config_error(document):
    import tomli_w

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        try:
            path.write_text(tomli_w.dumps(document), encoding="utf-8")
        except (TypeError, ValueError, UnicodeEncodeError):
            return  # not representable as TOML at all
        try:
            load(path)
        except ConfigError as exc:
            assert str(path) in str(exc)


async def test_password_fields_are_emptied_when_their_screen_closes(make_app, admin):
    from kopitui.tui.widgets.fields import SecretInput

    from support import sign_in, type_text

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        await pilot.press("b")
        await pilot.pause()
        [secret] = app.screen.query(SecretInput)
        await type_text(pilot, "typed but not sent")
        assert secret.value == "typed but not sent"
        await pilot.press("escape")
        await pilot.pause()
        assert secret.value == ""


async def test_a_theme_change_keeps_settings_changed_on_disk_meanwhile(config, service, admin):
    from kopitui.config import load, resolve_paths, save
    from kopitui.tui.app import make_app

    path = resolve_paths().config_file
    save(config, path)
    app = make_app(config, service, config_path=path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # Someone tightens the lockout while the portal runs …
        save(load(path).replace("security", "lockout_attempts", 3), path)
        app.theme = "nord"  # … then the theme changes in the palette.
        await pilot.pause()
    saved = load(path)
    assert saved.theme == "nord"
    assert saved.lockout_attempts == 3


async def test_a_crash_report_never_shows_the_typed_password(
    make_app, service, admin, monkeypatch, capfd
):
    from support import type_text

    def broken(*args, **kwargs):
        raise RuntimeError("an unexpected fault")

    monkeypatch.setattr(service, "authenticate", broken)
    app = make_app()
    with pytest.raises(Exception):  # noqa: B017 - whatever Textual wraps the crash in
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await type_text(pilot, ADMIN)
            await pilot.press("enter")
            await type_text(pilot, "my secret passphrase")
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
    out, err = capfd.readouterr()
    report = out + err
    assert "an unexpected fault" in report  # the report is there …
    assert "my secret passphrase" not in report  # … without the password in it
