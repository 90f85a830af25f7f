"""kopitui.config: paths, defaults, strict loading and atomic saving (cases C14–C16)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kopitui import config as config_mod
from kopitui.config import (
    ALGORITHMS,
    CLIPBOARD_METHODS,
    DEFAULTS,
    Config,
    load,
    load_or_create,
    resolve_paths,
    save,
)
from kopitui.service.errors import ConfigError

from helpers_core import child_env, isolate_home

MAX_EXPIRY = 100 * 366 * 24 * 60


@pytest.fixture(autouse=True)
def kopitui_home(monkeypatch, tmp_path) -> Path:
    return isolate_home(monkeypatch, tmp_path)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message, "the message must name the file"
    assert "\n" not in message, "one line"
    return message


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- paths ----------------------------------------------------------------------------------


def test_kopitui_home_puts_config_and_data_in_one_folder(kopitui_home):
    paths = resolve_paths()
    assert paths.config_file == kopitui_home / "config.toml"
    assert paths.data_dir == kopitui_home
    assert paths.database == kopitui_home / "kopitui.db"


def test_platform_folders_without_kopitui_home(monkeypatch, tmp_path):
    monkeypatch.delenv("KOPITUI_HOME")
    paths = resolve_paths()
    assert paths.config_file == tmp_path / "xdg-config" / "kopitui" / "config.toml"
    assert paths.data_dir == tmp_path / "xdg-data" / "kopitui"


def test_empty_kopitui_home_means_platform_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("KOPITUI_HOME", "")
    assert resolve_paths().config_file == tmp_path / "xdg-config" / "kopitui" / "config.toml"


def test_config_override_changes_only_the_config_file(kopitui_home, tmp_path):
    other = tmp_path / "elsewhere" / "my.toml"
    paths = resolve_paths(str(other))
    assert paths.config_file == other
    assert paths.data_dir == kopitui_home
    assert resolve_paths(other).config_file == other  # a Path works too


def test_config_override_expands_tilde(tmp_path):
    assert resolve_paths("~/k.toml").config_file == tmp_path / "home" / "k.toml"


# -- first run ------------------------------------------------------------------------------


def test_first_run_writes_the_defaults(kopitui_home):
    path = resolve_paths().config_file
    assert not path.exists()
    config = load_or_create(path)
    assert config == Config()
    assert config.values == DEFAULTS
    assert path.is_file()
    assert tomllib.loads(path.read_text("utf-8")) == DEFAULTS
    assert mode(path) == 0o600
    assert load(path) == config


def test_defaults_are_sane():
    config = Config()
    assert config.algorithm == "HS256"
    assert config.default_expiry_minutes == 60
    assert config.allow_never_expires is True
    assert config.min_password_length >= 8
    assert config.clipboard_method == "auto"
    assert config.issuer and config.audience and config.theme


def test_first_run_folder_is_private(kopitui_home):
    load_or_create(resolve_paths().config_file)
    assert mode(kopitui_home) == 0o700


def test_first_run_creates_missing_folders(tmp_path):
    path = tmp_path / "a" / "b" / "config.toml"
    load_or_create(path)
    assert path.is_file()


def test_existing_file_is_read_not_rewritten(tmp_path):
    path = write(tmp_path / "c.toml", '[jwt]\nissuer = "corp"\n\n# a comment I keep\n')
    before = path.read_bytes()
    config = load_or_create(path)
    assert config.issuer == "corp"
    assert config.audience == DEFAULTS["jwt"]["audience"]  # others default
    assert path.read_bytes() == before


def test_default_file_does_not_leak_into_defaults():
    """Changing a loaded config never changes DEFAULTS or another Config."""
    a = Config()
    b = a.replace("jwt", "issuer", "other")
    assert b.issuer == "other"
    assert a.issuer == DEFAULTS["jwt"]["issuer"] == Config().issuer


# -- strict loading -------------------------------------------------------------------------


def test_bad_toml_names_path_and_line(tmp_path):
    path = write(tmp_path / "c.toml", '[jwt]\nissuer = "ok"\naudience = \n')
    message = config_error(path)
    assert "line 3" in message


def test_bad_toml_is_never_overwritten(tmp_path):
    raw = b'[jwt\nissuer = "x"\n'
    path = write(tmp_path / "c.toml", raw)
    with pytest.raises(ConfigError):
        load_or_create(path)
    assert path.read_bytes() == raw


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[jwt]\nissuer = 5\n", "jwt.issuer"),
        ('[jwt]\ndefault_expiry_minutes = "60"\n', "jwt.default_expiry_minutes"),
        ("[jwt]\ndefault_expiry_minutes = 60.0\n", "jwt.default_expiry_minutes"),
        ('[security]\nmin_password_length = "12"\n', "security.min_password_length"),
        ("[ui]\ntheme = []\n", "ui.theme"),
        ("[clipboard]\nmethod = 1\n", "clipboard.method"),
    ],
)
def test_wrong_type_names_the_key(tmp_path, text, key):
    message = config_error(write(tmp_path / "c.toml", text))
    assert key in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[jwt]\nallow_never_expires = 1\n", "jwt.allow_never_expires"),
        ("[jwt]\nallow_never_expires = 0\n", "jwt.allow_never_expires"),
        ("[jwt]\ndefault_expiry_minutes = true\n", "jwt.default_expiry_minutes"),
        ("[security]\nmin_password_length = false\n", "security.min_password_length"),
    ],
)
def test_bool_is_not_int_and_int_is_not_bool(tmp_path, text, key):
    message = config_error(write(tmp_path / "c.toml", text))
    assert key in message


def test_unknown_section(tmp_path):
    message = config_error(write(tmp_path / "c.toml", "[jwtt]\nissuer = 'x'\n"))
    assert "jwtt" in message


def test_section_that_is_not_a_table(tmp_path):
    message = config_error(write(tmp_path / "c.toml", "jwt = 5\n"))
    assert "jwt" in message


def test_unknown_key(tmp_path):
    message = config_error(write(tmp_path / "c.toml", "[jwt]\nisuer = 'x'\n"))
    assert "jwt.isuer" in message


def test_unknown_top_level_key(tmp_path):
    message = config_error(write(tmp_path / "c.toml", "issuer = 'x'\n"))
    assert "issuer" in message


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ('[clipboard]\nmethod = "xclip"\n', "clipboard.method", "xclip"),
        ('[clipboard]\nmethod = "Auto"\n', "clipboard.method", "Auto"),
        ('[jwt]\nalgorithm = "none"\n', "jwt.algorithm", "none"),  # C11
        ('[jwt]\nalgorithm = "none"\n', "jwt.algorithm", "none"),
        ('[jwt]\nalgorithm = "hs256"\n', "jwt.algorithm", "hs256"),
    ],
)
def test_unknown_enum_value_lists_the_choices(tmp_path, text, key, value):
    message = config_error(write(tmp_path / "c.toml", text))
    assert key in message
    assert value in message
    choices = CLIPBOARD_METHODS if key.startswith("clipboard") else ALGORITHMS
    assert all(choice in message for choice in choices)


@pytest.mark.parametrize("method", CLIPBOARD_METHODS)
def test_every_clipboard_method_is_accepted(tmp_path, method):
    path = write(tmp_path / "c.toml", f'[clipboard]\nmethod = "{method}"\n')
    assert load(path).clipboard_method == method


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[jwt]\ndefault_expiry_minutes = -1\n", "jwt.default_expiry_minutes"),
        ("[jwt]\nmax_expiry_minutes = -1\n", "jwt.max_expiry_minutes"),
        (f"[jwt]\ndefault_expiry_minutes = {MAX_EXPIRY + 1}\n", "jwt.default_expiry_minutes"),
        ("[jwt]\nleeway_seconds = 601\n", "jwt.leeway_seconds"),
        ("[security]\nmin_password_length = 7\n", "security.min_password_length"),
        ('[jwt]\nissuer = ""\n', "jwt.issuer"),
        ('[jwt]\nissuer = "   "\n', "jwt.issuer"),
        ('[jwt]\naudience = "a\\u001b[31m"\n', "jwt.audience"),
        ('[jwt]\nissuer = "two\\nlines"\n', "jwt.issuer"),
    ],
)
def test_out_of_range_values(tmp_path, text, key):
    message = config_error(write(tmp_path / "c.toml", text))
    assert key in message
    assert "\x1b" not in message


def test_default_above_max_is_refused(tmp_path):
    text = "[jwt]\ndefault_expiry_minutes = 120\nmax_expiry_minutes = 60\n"
    message = config_error(write(tmp_path / "c.toml", text))
    assert "default_expiry_minutes" in message and "max_expiry_minutes" in message
    ok = "[jwt]\ndefault_expiry_minutes = 60\nmax_expiry_minutes = 60\n"
    assert load(write(tmp_path / "ok.toml", ok)).max_expiry_minutes == 60


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\n"])
def test_c16_empty_file_is_an_error_never_defaults(tmp_path, content):
    path = write(tmp_path / "c.toml", content)
    message = config_error(path)
    assert "empty" in message
    with pytest.raises(ConfigError):
        load_or_create(path)
    assert path.read_bytes() == content, "never replaced by the defaults"


def test_non_utf8_is_an_error(tmp_path):
    path = write(tmp_path / "c.toml", b'[jwt]\nissuer = "s' + b'\xf8ren"\n')
    message = config_error(path)
    assert "UTF-8" in message


def test_utf8_with_non_ascii_values_is_fine(tmp_path):
    path = write(tmp_path / "c.toml", '[jwt]\nissuer = "søren corp"\n')
    assert load(path).issuer == "søren corp"


def test_missing_file_is_an_error_for_load(tmp_path):
    config_error(tmp_path / "nope.toml")


def test_directory_instead_of_file(tmp_path):
    path = tmp_path / "c.toml"
    path.mkdir()
    config_error(path)
    with pytest.raises(ConfigError):
        load_or_create(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    path = write(tmp_path / "c.toml", '[jwt]\nissuer = "x"\n')
    path.chmod(0)
    try:
        config_error(path)
    finally:
        path.chmod(0o600)


def test_replace_checks_like_load():
    with pytest.raises(ConfigError):
        Config().replace("jwt", "issuer", None)
    with pytest.raises(ConfigError):
        Config().replace("clipboard", "method", "carrier-pigeon")
    with pytest.raises(ConfigError):
        Config().replace("jwt", "nope", 1)
    assert Config().replace("ui", "theme", "nord").theme == "nord"


# -- atomic save (C14) ----------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "cfg" / "config.toml"
    save(Config().replace("jwt", "issuer", "before"), path)
    return path, path.read_bytes()


def listing(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


@pytest.mark.parametrize(
    "values",
    [
        {"jwt": {"issuer": None}},
        {"jwt": {1: "x"}},
        {1: {"issuer": "x"}},
        {"jwt": {"issuer": "ok", "extra": None}},
        {"ui": {"theme": object()}},
    ],
)
def test_c14_unserializable_config_never_touches_the_disk(saved, values):
    path, before = saved
    with pytest.raises((TypeError, ConfigError)):
        save(Config(values), path)
    assert path.read_bytes() == before
    assert listing(path) == ["config.toml"]


def test_c14_unserializable_config_does_not_create_a_file(tmp_path):
    path = tmp_path / "new" / "config.toml"
    with pytest.raises((TypeError, ConfigError)):
        save(Config({"jwt": {"issuer": None}}), path)
    assert not path.exists()


def _boom(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("target", ["replace", "fsync"])
def test_c14_failure_while_writing_leaves_old_file_and_no_temp(saved, monkeypatch, target):
    path, before = saved
    monkeypatch.setattr(os, target, _boom)
    with pytest.raises((OSError, ConfigError)):
        save(Config().replace("jwt", "issuer", "after"), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert listing(path) == ["config.toml"]


def test_c14_interrupt_during_replace_leaves_no_temp(saved, monkeypatch):
    path, before = saved

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(Config().replace("jwt", "issuer", "after"), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert listing(path) == ["config.toml"]


def test_save_replaces_and_is_0600(saved):
    path, _ = saved
    path.chmod(0o644)
    save(Config().replace("jwt", "issuer", "after"), path)
    assert load(path).issuer == "after"
    assert mode(path) == 0o600
    assert listing(path) == ["config.toml"]


def test_save_goes_through_os_replace(saved, monkeypatch):
    """The new content arrives by rename, never by writing into the old file."""
    path, _ = saved
    calls = []
    real_replace = os.replace

    def spy(src, dst, *args, **kwargs):
        calls.append((Path(src), Path(dst)))
        assert Path(src).parent == path.parent  # same folder, so the rename is atomic
        assert Path(src).read_bytes() == config_mod.dumps(new).encode()
        return real_replace(src, dst, *args, **kwargs)

    new = Config().replace("jwt", "issuer", "after")
    monkeypatch.setattr(os, "replace", spy)
    save(new, path)
    assert len(calls) == 1 and calls[0][1] == path


# -- round trip (C15) -----------------------------------------------------------------------

_printable = st.text(
    alphabet=st.characters(
        exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
        include_characters=" \"'\\#=[]{}",
    ),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip())


@st.composite
def valid_configs(draw) -> dict:
    max_minutes = draw(st.integers(min_value=0, max_value=MAX_EXPIRY))
    default_high = max_minutes if max_minutes else MAX_EXPIRY
    return {
        "jwt": {
            "issuer": draw(_printable),
            "audience": draw(_printable),
            "algorithm": draw(st.sampled_from(ALGORITHMS)),
            "default_expiry_minutes": draw(st.integers(min_value=0, max_value=default_high)),
            "max_expiry_minutes": max_minutes,
            "allow_never_expires": draw(st.booleans()),
            "leeway_seconds": draw(st.integers(min_value=0, max_value=600)),
        },
        "security": {
            "min_password_length": draw(st.integers(min_value=8, max_value=1024)),
            "lockout_attempts": draw(st.integers(min_value=1, max_value=1000)),
            "lockout_minutes": draw(st.integers(min_value=1, max_value=7 * 24 * 60)),
        },
        "clipboard": {
            "method": draw(st.sampled_from(CLIPBOARD_METHODS)),
            "clear_after_seconds": draw(st.integers(min_value=0, max_value=24 * 3600)),
        },
        "server": {
            "host": draw(_printable),
            "port": draw(st.integers(min_value=1, max_value=65535)),
            "max_failures": draw(st.integers(min_value=1, max_value=1000)),
            "failure_window_seconds": draw(st.integers(min_value=1, max_value=86400)),
            "block_seconds": draw(st.integers(min_value=0, max_value=86400)),
            "trusted_proxies": draw(st.lists(st.sampled_from(["127.0.0.1", "::1", "10.1.2.3"]))),
        },
        "ui": {"theme": draw(_printable), "mask_tokens": draw(st.booleans())},
    }


@given(data=valid_configs())
def test_c15_round_trip(data):
    config = Config.from_dict(data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        save(config, path)
        loaded = load(path)
        assert loaded == config
        assert loaded.values == data
        save(loaded, path)  # and again: stable
        assert load(path) == config


@given(data=valid_configs(), drop=st.sets(st.sampled_from(sorted(DEFAULTS))))
def test_partial_configs_fill_in_defaults(data, drop):
    partial = {k: v for k, v in data.items() if k not in drop}
    config = Config.from_dict(partial)
    for section in DEFAULTS:
        expected = DEFAULTS[section] if section in drop else data[section]
        assert config.values[section] == expected


@given(text=st.text())
def test_property_any_text_is_a_config_or_config_error(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text(text, "utf-8")
        try:
            config = load(path)
        except ConfigError as exc:
            assert str(path) in str(exc)
        else:
            assert set(config.values) == set(DEFAULTS)


# -- the command line with a broken config --------------------------------------------------


def run_kopitui(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kopitui", *args],
        env=child_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'[jwt]\nissuer = "ok"\naudience = \n', "line 3"),
        (b"", "empty"),
        (b'[clipboard]\nmethod = "xclip"\n', "clipboard.method"),
        (b"[jwt]\nallow_never_expires = 1\n", "jwt.allow_never_expires"),
        (b"\xff\xfe[jwt]\n", "UTF-8"),
    ],
)
def test_cli_broken_config_exits_2_with_one_line(tmp_path, content, says):
    path = write(tmp_path / "broken.toml", content)
    result = run_kopitui(tmp_path, "--config", str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    assert says in lines[0]
    assert path.read_bytes() == content, "a broken config is never overwritten"
    # Nothing was created next to the data either.
    assert not (tmp_path / "kopitui-home" / "kopitui.db").exists()


def test_cli_version(tmp_path):
    from kopitui import __version__

    result = run_kopitui(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"kopitui {__version__}"


def test_cli_help(tmp_path):
    result = run_kopitui(tmp_path, "--help")
    assert result.returncode == 0
    assert "--config" in result.stdout
    assert not (tmp_path / "kopitui-home").exists(), "--help must not write a config"
