"""The TOML config: defaults, paths, strict loading and atomic saving.

Read with ``tomllib``, written with ``tomli-w``. A config that cannot be used is a
:class:`ConfigError` naming the file and the problem; it is never replaced by defaults.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .service.errors import ConfigError

APP_NAME = "kopitui"
CONFIG_FILE = "config.toml"
DB_FILE = "kopitui.db"

CLIPBOARD_METHODS = ("auto", "system", "tmux", "osc52", "none")
ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA")

#: Every setting: section -> key -> default. The type of the default is the type expected.
DEFAULTS: dict[str, dict[str, Any]] = {
    "jwt": {
        "issuer": "kopitui",
        "audience": "kopicloud-ad-api",
        "algorithm": "HS256",
        "default_expiry_minutes": 60,
        "max_expiry_minutes": 0,
        "allow_never_expires": True,
        "leeway_seconds": 30,
    },
    "security": {
        "min_password_length": 12,
        "lockout_attempts": 5,
        "lockout_minutes": 15,
    },
    "clipboard": {
        "method": "auto",
        "clear_after_seconds": 45,
    },
    "server": {
        "host": "127.0.0.1",
        "port": 8750,
        "max_failures": 10,
        "failure_window_seconds": 60,
        "block_seconds": 300,
        "trusted_proxies": [],
    },
    "ui": {
        "theme": "textual-dark",
        "mask_tokens": False,
    },
}

_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("clipboard", "method"): CLIPBOARD_METHODS,
    ("jwt", "algorithm"): ALGORITHMS,
}
_MINIMUMS: dict[tuple[str, str], int] = {
    ("jwt", "default_expiry_minutes"): 0,
    ("jwt", "max_expiry_minutes"): 0,
    ("jwt", "leeway_seconds"): 0,
    ("security", "min_password_length"): 8,
    ("security", "lockout_attempts"): 1,
    ("security", "lockout_minutes"): 1,
    ("server", "port"): 1,
    ("clipboard", "clear_after_seconds"): 0,
    ("server", "max_failures"): 1,
    ("server", "failure_window_seconds"): 1,
    ("server", "block_seconds"): 0,
}
_MAXIMUMS: dict[tuple[str, str], int] = {
    ("jwt", "leeway_seconds"): 600,
    ("security", "min_password_length"): 1024,
    ("security", "lockout_attempts"): 1000,
    ("security", "lockout_minutes"): 7 * 24 * 60,
    ("server", "port"): 65535,
    ("clipboard", "clear_after_seconds"): 24 * 3600,
    ("server", "failure_window_seconds"): 86400,
    ("server", "block_seconds"): 86400,
    # Well past any sensible token life, well short of year 9999.
    ("jwt", "default_expiry_minutes"): 100 * 366 * 24 * 60,
    ("jwt", "max_expiry_minutes"): 100 * 366 * 24 * 60,
}


@dataclass(frozen=True)
class Paths:
    """Where the config file and the data live."""

    config_file: Path
    data_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / DB_FILE


def resolve_paths(config_override: str | os.PathLike[str] | None = None) -> Paths:
    """``KOPITUI_HOME`` puts everything in one folder; otherwise the platform's folders."""
    home = os.environ.get("KOPITUI_HOME")
    if home:
        base = Path(home).expanduser()
        config_file, data_dir = base / CONFIG_FILE, base
    else:
        import platformdirs

        config_file = Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE
        data_dir = Path(platformdirs.user_data_dir(APP_NAME))
    if config_override is not None:
        config_file = Path(config_override).expanduser()
    return Paths(config_file=config_file, data_dir=data_dir)


@dataclass(frozen=True)
class Config:
    """The settings in force. Build with :func:`load` or :meth:`from_dict`."""

    values: dict[str, dict[str, Any]] = field(default_factory=lambda: _copy(DEFAULTS))

    # Convenience accessors, named as the settings are.
    @property
    def issuer(self) -> str:
        return self.values["jwt"]["issuer"]

    @property
    def audience(self) -> str:
        return self.values["jwt"]["audience"]

    @property
    def algorithm(self) -> str:
        return self.values["jwt"]["algorithm"]

    @property
    def default_expiry_minutes(self) -> int:
        return self.values["jwt"]["default_expiry_minutes"]

    @property
    def max_expiry_minutes(self) -> int:
        return self.values["jwt"]["max_expiry_minutes"]

    @property
    def allow_never_expires(self) -> bool:
        return self.values["jwt"]["allow_never_expires"]

    @property
    def leeway_seconds(self) -> int:
        return self.values["jwt"]["leeway_seconds"]

    @property
    def min_password_length(self) -> int:
        return self.values["security"]["min_password_length"]

    @property
    def lockout_attempts(self) -> int:
        return self.values["security"]["lockout_attempts"]

    @property
    def lockout_minutes(self) -> int:
        return self.values["security"]["lockout_minutes"]

    @property
    def clipboard_method(self) -> str:
        return self.values["clipboard"]["method"]

    @property
    def server_host(self) -> str:
        return self.values["server"]["host"]

    @property
    def server_port(self) -> int:
        return self.values["server"]["port"]

    @property
    def server_max_failures(self) -> int:
        return self.values["server"]["max_failures"]

    @property
    def server_failure_window(self) -> int:
        return self.values["server"]["failure_window_seconds"]

    @property
    def server_block_seconds(self) -> int:
        return self.values["server"]["block_seconds"]

    @property
    def server_trusted_proxies(self) -> list[str]:
        return self.values["server"]["trusted_proxies"]

    @property
    def clear_after_seconds(self) -> int:
        return self.values["clipboard"]["clear_after_seconds"]

    @property
    def mask_tokens(self) -> bool:
        return self.values["ui"]["mask_tokens"]

    @property
    def theme(self) -> str:
        return self.values["ui"]["theme"]

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> Config:
        """Merge ``data`` over the defaults, refusing unknown keys and wrong types."""
        values = _copy(DEFAULTS)
        for section, table in data.items():
            if section not in DEFAULTS:
                known = ", ".join(f"[{s}]" for s in DEFAULTS)
                raise ConfigError(f"{source}: unknown section [{section}] (known: {known}).")
            if not isinstance(table, dict):
                raise ConfigError(f"{source}: [{section}] must be a table.")
            for key, value in table.items():
                if key not in DEFAULTS[section]:
                    known = ", ".join(DEFAULTS[section])
                    raise ConfigError(
                        f"{source}: unknown key {section}.{key} (known in [{section}]: {known})."
                    )
                values[section][key] = _check(section, key, value, source)
        config = cls(values)
        if config.max_expiry_minutes and config.default_expiry_minutes > config.max_expiry_minutes:
            raise ConfigError(
                f"{source}: jwt.default_expiry_minutes ({config.default_expiry_minutes}) is "
                f"above jwt.max_expiry_minutes ({config.max_expiry_minutes})."
            )
        return config

    def replace(self, section: str, key: str, value: Any) -> Config:
        """A copy with one setting changed (checked like a loaded one)."""
        data = _copy(self.values)
        data[section][key] = value
        return Config.from_dict(data)


def _copy(values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        section: {k: list(v) if isinstance(v, list) else v for k, v in table.items()}
        for section, table in values.items()
    }


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "a whole number", str: "a string", list: "a list"}.get(
        type(value), type(value).__name__
    )


def _check(section: str, key: str, value: Any, source: str) -> Any:
    default = DEFAULTS[section][key]
    where = f"{source}: {section}.{key}"
    # bool is a subclass of int: compare exact types.
    if type(value) is not type(default):
        raise ConfigError(f"{where} must be {_type_name(default)}, not {value!r}.")
    choices = _CHOICES.get((section, key))
    if choices and value not in choices:
        raise ConfigError(f"{where} must be one of {', '.join(choices)}, not {value!r}.")
    low = _MINIMUMS.get((section, key))
    if low is not None and value < low:
        raise ConfigError(f"{where} must be at least {low}, not {value}.")
    high = _MAXIMUMS.get((section, key))
    if high is not None and value > high:
        raise ConfigError(f"{where} must be at most {high}, not {value}.")
    if isinstance(value, str) and (not value.strip() or not value.isprintable()):
        raise ConfigError(f"{where} must be a non-empty line of printable text.")
    if isinstance(value, list):
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_address(item if isinstance(item, str) else "")
            except ValueError:
                raise ConfigError(
                    f'{where} must list IP addresses (like "127.0.0.1"), not {item!r}.'
                ) from None
    return value


def load(path: Path) -> Config:
    """Read and check the config at ``path``. A missing file is an error here."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: the config file does not exist.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror}).") from None
    if not raw.strip():
        # A zero-byte file is what a reader sees mid-write; never treat it as defaults.
        raise ConfigError(f"{path}: the config file is empty; delete it to get the defaults.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}.") from None
    return Config.from_dict(data, source=str(path))


def load_or_create(path: Path) -> Config:
    """First run writes the defaults; afterwards the file is read (and never rewritten)."""
    if not path.exists():
        config = Config()
        try:
            save(config, path)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot write the config file ({exc.strerror}).") from None
        return config
    return load(path)


def update_setting(path: Path, section: str, key: str, value: Any) -> Config:
    """Change one setting in the file as it is on disk now — not as it was when this
    process read it — so other settings changed meanwhile are kept. (tomli-w cannot
    keep comments.)"""
    config = load(path).replace(section, key, value)
    save(config, path)
    return config


def dumps(config: Config) -> str:
    import tomli_w

    return tomli_w.dumps(config.values)


def save(config: Config, path: Path) -> None:
    """Write atomically: serialize first, temp file in the same folder, fsync, replace.

    On any failure the old file is left byte-identical.
    """
    text = dumps(config)  # may raise before anything touches the disk
    write_atomic(path, text.encode("utf-8"))


def _remove_abandoned_temps(path: Path, older_than: float = 60.0) -> None:
    """Temp files of saves that were killed before their rename (each has a random name,
    so no later save replaces it). Young ones may belong to a save still under way."""
    import time

    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if stale.stat().st_mtime < time.time() - older_than:
                stale.unlink()
        except OSError:
            pass


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    import tempfile  # only saving needs it (with shutil behind it): off the start-up path

    # Write through a symlink (dotfile managers link configs) instead of replacing it.
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _remove_abandoned_temps(path)
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
