"""The command-line face of the token service. Must not import Textual.

``kopitui`` alone opens the TUI; ``kopitui user|token|logs …`` runs one command against
the same service and exits. Passwords come from a no-echo prompt, ``KOPITUI_PASSWORD``
or stdin — never from an argument. Text from outside (names, log descriptions) is made
inert before it reaches the terminal. argon2 and PyJWT are imported by the service only
when a command needs them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from . import __version__, launch
from .launch import open_service, shown
from .service.errors import AuthenticationError, KopituiError, PermissionDenied, ValidationError
from .service.logs import PRESETS as LOG_PRESETS
from .service.store import PAGE_LIMIT

SOURCE = "cli"
EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: More than any password (1,024) or token (16 KiB) kopitui accepts.
STDIN_LIMIT = 64 * 1024
#: Rows a listing shows unless ``--limit`` says otherwise.
DEFAULT_LIMIT = 1000
PAGE = PAGE_LIMIT  # the most the service returns in one page

#: Which option a service ValidationError's field was typed in, for the error line.
FIELD_OPTIONS = {
    "minutes": "--expires",
    "since": "--since",
    "until": "--until",
    "preset": "--since",
    "status": "--status",
    "role": "--role",
    "owner": "--owner",
}

EPILOG = """\
every command:
  kopitui                                      open the portal (TUI)
  kopitui user add NAME [--role admin|user]    add a user (admins; the very first
                                               user: --role admin, no sign-in)
  kopitui user passwd [NAME]                   change your password; admins: reset NAME's
  kopitui user list [--json]                   list users (admins)
  kopitui user remove NAME [--yes]             remove a user, disabling their tokens
  kopitui token jwt --name N [--expires MIN]   mint a JWT; prints only "Bearer ..."
  kopitui token basic                          your own Basic token; prints "Basic ..."
  kopitui token list [--all] [--status S] [--search TEXT] [--json]
  kopitui token disable|enable|delete NAME [--owner USER] [--yes]
  kopitui token verify [TOKEN|-] [--json]      no sign-in; exit 0 valid, 1 invalid
  kopitui logs [--since DATE|PRESET] [--until DATE] [--search TEXT] [--json]
  kopitui serve [--host H] [--port P]          the token service over HTTP
  kopitui key list|rotate|retire KID|export [--include-secret]

signing in (every command but `token verify`, `serve`, a public `key export` and the
first `user add`):
  user:      --user NAME or KOPITUI_USER
  password:  --password-stdin, else KOPITUI_PASSWORD, else a no-echo prompt when
             stdin is a terminal. Passwords are never taken as arguments.
  new password (user add, user passwd): --new-password-stdin, else a no-echo prompt
             asked twice. With both --password-stdin and --new-password-stdin, the
             first line of stdin is the current password and the rest the new one.
  Text read from stdin loses exactly one trailing newline (\\n or \\r\\n), nothing else.

exit codes:
  0 done / token valid   1 token invalid or sign-in failed
  2 usage, configuration, validation or permission error   130 interrupted
"""


class UsageError(KopituiError):
    """A command that cannot run as asked: no password source, no confirmation…"""


# -- showing outside text -------------------------------------------------------------


def _width(text: str) -> int:
    """Terminal columns of printable ``text``: wide East Asian characters take two."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def table(headers: list[str], rows: list[list[object]]) -> str:
    """Aligned columns; every cell is passed through :func:`shown`."""
    cells = [[shown(cell) for cell in row] for row in rows]
    widths = [_width(h) for h in headers]
    for row in cells:
        widths = [max(w, _width(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in [headers, *cells]:
        padded = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def local_time(timestamp: int | None, never: str = "-") -> str:
    """Compact local time for tables, ``YYYY-MM-DD HH:MM``; UTC where local overflows."""
    if timestamp is None:
        return never
    try:
        return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")  # noqa: DTZ006
    except (OverflowError, ValueError, OSError):
        try:
            return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
        except (OverflowError, ValueError, OSError):
            return str(timestamp)


def out(text: str = "") -> None:
    print(text, file=sys.stdout)


def note(text: str) -> None:
    print(text, file=sys.stderr)


def print_json(data: object) -> None:
    # ensure_ascii escapes every non-ASCII character, C1 controls included.
    out(json.dumps(data, indent=2))


# -- stdin and secrets ----------------------------------------------------------------


def strip_one_newline(text: str) -> str:
    """Drop exactly one trailing ``\\n`` or ``\\r\\n``; keep everything else."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def read_stdin() -> str:
    """All of stdin as UTF-8 text, newlines untranslated."""
    stream = sys.stdin
    if stream is None:
        raise UsageError("stdin is closed.")
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        data = buffer.read(STDIN_LIMIT + 1)
        if len(data) > STDIN_LIMIT:
            raise UsageError(f"stdin holds more than {STDIN_LIMIT} bytes.")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("stdin is not UTF-8 text.") from None
    text = stream.read(STDIN_LIMIT + 1)
    if len(text) > STDIN_LIMIT:
        raise UsageError(f"stdin holds more than {STDIN_LIMIT} characters.")
    return text


def stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or detached
        return False


def _getpass(prompt: str) -> str:
    import getpass

    return getpass.getpass(prompt)


class Secrets:
    """Where this run's passwords come from. stdin is read at most once."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.password_stdin = bool(getattr(args, "password_stdin", False))
        self.new_password_stdin = bool(getattr(args, "new_password_stdin", False))
        self._stdin: tuple[str | None, str | None] | None = None

    def _from_stdin(self) -> tuple[str | None, str | None]:
        if self._stdin is None:
            text = read_stdin()
            if self.password_stdin and self.new_password_stdin:
                first, newline, rest = text.partition("\n")
                if not newline:
                    raise UsageError(
                        "with --password-stdin and --new-password-stdin, stdin needs the "
                        "current password on its first line and the new one after it."
                    )
                current = first[:-1] if first.endswith("\r") else first
                self._stdin = (current, strip_one_newline(rest))
            elif self.password_stdin:
                self._stdin = (strip_one_newline(text), None)
            else:
                self._stdin = (None, strip_one_newline(text))
        return self._stdin

    def current(self, username: str) -> str:
        if self.password_stdin:
            return self._from_stdin()[0] or ""
        from_env = os.environ.get("KOPITUI_PASSWORD")
        if from_env:
            return from_env
        if stdin_is_tty():
            return _getpass(f"Password for {shown(username)}: ")
        raise UsageError(
            "no password: stdin is not a terminal; set KOPITUI_PASSWORD or pass --password-stdin."
        )

    def new(self, username: str) -> tuple[str, str | None]:
        """The new password and its confirmation (None when read from stdin)."""
        if self.new_password_stdin:
            return self._from_stdin()[1] or "", None
        if stdin_is_tty():
            first = _getpass(f"New password for {shown(username)}: ")
            return first, _getpass("Repeat the new password: ")
        raise UsageError("no new password: stdin is not a terminal; pass --new-password-stdin.")


def acting_username(args: argparse.Namespace) -> str:
    username = getattr(args, "user", None) or os.environ.get("KOPITUI_USER") or ""
    if not username.strip():
        raise UsageError("who is acting? Pass --user NAME or set KOPITUI_USER.")
    return username


def sign_in(service, args: argparse.Namespace, secrets: Secrets):
    """The acting user and the password they proved; AuthenticationError otherwise."""
    if not service.has_users():
        raise UsageError(
            "no user exists yet: create the first administrator with "
            "`kopitui user add NAME --role admin` (or open the portal: `kopitui`)."
        )
    username = acting_username(args)
    password = secrets.current(username)
    return service.authenticate(username, password, source=SOURCE), password


def _same_name(a: str, b: str) -> bool:
    from .service.validation import name_key

    return name_key(a.strip()) == name_key(b.strip())


def fetch_all(fetch: Callable[..., object], limit: int) -> tuple[list, int]:
    """Rows of a paged listing, up to ``limit``, and how many match in all."""
    rows: list = []
    total = 0
    while len(rows) < limit:
        page = fetch(offset=len(rows), limit=min(PAGE, limit - len(rows)))
        total = page.total
        rows.extend(page.rows)
        if not page.rows or len(rows) >= total:
            break
    return rows, total


def _more_note(shown_rows: int, total: int, what: str) -> None:
    if total > shown_rows:
        note(f"kopitui: showing {shown_rows} of {total} {what}; use --limit to see more.")


# -- user -----------------------------------------------------------------------------


def cmd_user_add(service, args, secrets: Secrets) -> int:
    from .service import validation

    username = validation.validate_username(args.name)
    if not service.has_users():
        if args.role != "admin":
            raise ValidationError(
                "role",
                "No user exists yet: the first user must be an administrator (add --role admin).",
            )
        actor = None
    else:
        actor, _ = sign_in(service, args, secrets)
        if not actor.is_admin:
            raise PermissionDenied("Only administrators can add users.")
    password, confirm = secrets.new(username)
    user = service.add_user(actor, username, password, confirm, role=args.role, source=SOURCE)
    first = ", the first administrator" if actor is None else ""
    out(f"Added user '{shown(user.username)}' ({user.role}){first}.")
    return EXIT_OK


def cmd_user_passwd(service, args, secrets: Secrets) -> int:
    actor, current = sign_in(service, args, secrets)
    if args.name and not _same_name(args.name, actor.username):
        if not actor.is_admin:
            raise PermissionDenied(
                "Only administrators can reset another user's password; "
                "leave out NAME to change your own."
            )
        target = service.get_user(args.name)
        if target is None:
            raise ValidationError("username", f"No user named '{shown(args.name)}'.")
        new, confirm = secrets.new(target.username)
        service.reset_password(actor, target.username, new, confirm, source=SOURCE)
        out(
            f"Password of '{shown(target.username)}' reset; Basic tokens made with the old "
            "password are now stale."
        )
        return EXIT_OK
    new, confirm = secrets.new(actor.username)
    service.change_password(actor, current, new, confirm, source=SOURCE)
    out(
        "Password changed; Basic tokens made with the old password are now stale "
        "(`kopitui token basic` gives the new one)."
    )
    return EXIT_OK


def cmd_user_list(service, args, secrets: Secrets) -> int:
    actor, _ = sign_in(service, args, secrets)
    users = service.list_users(actor)
    if args.json:
        print_json([u.as_json() for u in users])
        return EXIT_OK
    out(
        table(
            ["Username", "Role", "Created", "Password changed", "Active tokens"],
            [
                [
                    u.username,
                    u.role,
                    local_time(u.created_at),
                    local_time(u.password_changed_at),
                    u.active_tokens,
                ]
                for u in users
            ],
        )
    )
    return EXIT_OK


def cmd_user_remove(service, args, secrets: Secrets) -> int:
    if not args.yes and not stdin_is_tty():
        raise UsageError("refusing to remove a user without confirmation: pass --yes.")
    actor, _ = sign_in(service, args, secrets)
    target = service.check_user_removal(actor, args.name)  # refused before asking
    if not args.yes and not _confirm(
        f"Remove user '{shown(target.username)}'? Their active tokens are disabled."
    ):
        note("kopitui: nobody removed.")
        return EXIT_USAGE
    disabled = service.remove_user(actor, target.username, source=SOURCE)
    out(f"Removed user '{shown(target.username)}'; {disabled} token(s) disabled.")
    return EXIT_OK


# -- token ----------------------------------------------------------------------------


def cmd_token_jwt(service, args, secrets: Secrets) -> int:
    from .service import validation

    # Check the input before asking for a password.
    name = validation.validate_token_name(args.name)
    minutes = args.expires
    if minutes is None:
        minutes = str(service.config.default_expiry_minutes)
    service.parse_minutes(minutes)
    actor, _ = sign_in(service, args, secrets)
    issued = service.issue_jwt(actor, name, minutes, source=SOURCE)
    out(issued.header_value)
    until = (
        "never expires"
        if issued.expires_at is None
        else f"expires {local_time(issued.expires_at)} (local time)"
    )
    note(f"JWT '{shown(issued.name)}' of '{shown(issued.username)}': {until}.")
    return EXIT_OK


def cmd_token_basic(service, args, secrets: Secrets) -> int:
    actor, password = sign_in(service, args, secrets)
    issued = service.issue_basic(actor.username, password, actor=actor, source=SOURCE)
    out(issued.header_value)
    note(f"Basic token of '{shown(issued.username)}': it stops working when the password changes.")
    return EXIT_OK


def cmd_token_list(service, args, secrets: Secrets) -> int:
    actor, _ = sign_in(service, args, secrets)
    if args.all and not actor.is_admin:
        raise PermissionDenied("Only administrators can list everyone's tokens (--all).")
    records, total = fetch_all(
        lambda offset, limit: service.list_tokens(
            actor,
            search=args.search or "",
            status=args.status,
            all_users=args.all,
            offset=offset,
            limit=limit,
        ),
        args.limit,
    )
    if args.json:
        print_json([r.as_json() for r in records])
    elif not records:
        out("No tokens.")
    else:
        out(
            table(
                ["Name", "Type", "Created", "Expiration Date", "Status", "Username", "Fingerprint"],
                [
                    [
                        r.name,
                        r.type_label,
                        local_time(r.created_at),
                        local_time(r.expires_at, never="No Expiration"),
                        r.status,
                        r.username,
                        r.short_fingerprint,
                    ]
                    for r in records
                ],
            )
        )
    _more_note(len(records), total, "tokens")
    return EXIT_OK


def _confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def cmd_token_change(service, args, secrets: Secrets) -> int:
    """disable, enable and delete: every live token of that name (Basic tokens of
    several passwords share one)."""
    deleting = args.action == "delete"
    if deleting and not args.yes and not stdin_is_tty():
        raise UsageError("refusing to delete without confirmation: pass --yes.")
    actor, _ = sign_in(service, args, secrets)
    owner = args.owner
    if owner and not actor.is_admin and not _same_name(owner, actor.username):
        raise PermissionDenied("Only administrators can change other users' tokens.")
    ids = service.find_tokens(actor, args.name, owner)
    owner_user = service.get_user(owner) if owner else actor
    whose = f"'{shown(args.name.strip())}' of '{shown(owner_user.username)}'"
    if deleting:
        if not args.yes:
            count = f"{len(ids)} tokens named" if len(ids) > 1 else "token"
            if not _confirm(f"Delete {count} {whose}? It stops verifying at once."):
                note("kopitui: nothing deleted.")
                return EXIT_USAGE
        for token_id in ids:
            service.delete_token(actor, token_id, source=SOURCE)
        out(f"Deleted token {whose}." if len(ids) == 1 else f"Deleted {len(ids)} tokens {whose}.")
        return EXIT_OK
    enabled = args.action == "enable"
    for token_id in ids:
        service.set_token_enabled(actor, token_id, enabled, source=SOURCE)
    word = "Enabled" if enabled else "Disabled"
    out(f"{word} token {whose}." if len(ids) == 1 else f"{word} {len(ids)} tokens {whose}.")
    return EXIT_OK


def cmd_token_verify(service, args, secrets: Secrets) -> int:
    text = args.token
    if text is None or text == "-":
        if stdin_is_tty():
            note("Paste the token, then press Ctrl-D on an empty line:")
        text = strip_one_newline(read_stdin())
    verdict = service.verify(text, source=SOURCE)
    if args.json:
        print_json(verdict.as_json())
    else:
        out(shown(verdict.reason))
    return EXIT_OK if verdict.valid else EXIT_INVALID


# -- logs -----------------------------------------------------------------------------


def log_range(now: int, since_text: str | None, until_text: str | None):
    """``(since, until)`` from ``--since DATE|PRESET`` and ``--until DATE`` (a bare date
    includes that whole day)."""
    from .service.logs import parse_date, preset_range

    since = until = None
    if since_text is not None:
        preset = since_text.strip().lower().replace("-", "_")
        if preset in LOG_PRESETS:
            since, until = preset_range(preset, now)
        else:
            try:
                since = parse_date(since_text, "since")
            except ValidationError:
                raise ValidationError(
                    "since",
                    "Give a date (YYYY-MM-DD or YYYY-MM-DD HH:MM) or one of: "
                    f"{', '.join(LOG_PRESETS)}.",
                ) from None
    if until_text is not None:
        raw = until_text.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            try:
                raw = (date.fromisoformat(raw) + timedelta(days=1)).isoformat()
            except (ValueError, OverflowError):
                raise ValidationError(
                    "until", "Enter a date as YYYY-MM-DD (or YYYY-MM-DD HH:MM)."
                ) from None
        until = parse_date(raw, "until")
    return since, until


def cmd_logs(service, args, secrets: Secrets) -> int:
    since, until = log_range(service.now(), args.since, args.until)
    actor, _ = sign_in(service, args, secrets)
    if not actor.is_admin:
        raise PermissionDenied("Only administrators can read the logs.")
    entries, total = fetch_all(
        lambda offset, limit: service.logs(
            actor, since=since, until=until, search=args.search or "", offset=offset, limit=limit
        ),
        args.limit,
    )
    if args.json:
        print_json([e.as_json() for e in entries])
    elif not entries:
        out("No log entries.")
    else:
        out(
            table(
                ["Time", "User", "Source", "Event", "Description"],
                [[local_time(e.at), e.username, e.source, e.event, e.description] for e in entries],
            )
        )
    _more_note(len(entries), total, "entries")
    return EXIT_OK


# -- the parser -----------------------------------------------------------------------


class _RefusePassword(argparse.Action):
    """``--password VALUE`` is refused without echoing the value anywhere."""

    def __init__(self, option_strings, dest, **kwargs):
        kwargs.update(nargs=argparse.REMAINDER, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(
            f"{option_string}: passwords are never taken as arguments; use the prompt, "
            "KOPITUI_PASSWORD, --password-stdin or --new-password-stdin."
        )


def _positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _parents() -> dict[str, argparse.ArgumentParser]:
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS, help="use this config file"
    )
    for trap in ("--password", "--new-password", "--pass"):
        common.add_argument(trap, action=_RefusePassword)

    auth = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    group = auth.add_argument_group("signing in")
    group.add_argument(
        "--user",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="the acting user (default: $KOPITUI_USER)",
    )
    group.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the acting user's password from stdin (else $KOPITUI_PASSWORD, else a "
        "no-echo prompt)",
    )

    new_password = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    new_password.add_argument(
        "--new-password-stdin",
        action="store_true",
        help="read the new password from stdin (else a no-echo prompt, asked twice); with "
        "--password-stdin too, stdin's first line is the current password and the rest "
        "the new one",
    )

    as_json = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    as_json.add_argument("--json", action="store_true", help="print JSON for scripts")

    limit = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    limit.add_argument(
        "--limit",
        type=_positive_int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show at most N rows (default {DEFAULT_LIMIT})",
    )
    return {
        "common": common,
        "auth": auth,
        "new_password": new_password,
        "json": as_json,
        "limit": limit,
    }


class _Parser(argparse.ArgumentParser):
    """argparse with the command line's error style: one inert ``kopitui:`` line, exit 2
    (argparse's own is the usage block, then ``PROG: error: …``)."""

    def error(self, message: str):
        command = self.prog.removeprefix("kopitui").strip()
        where = f"{command}: " if command else ""
        self.exit(
            EXIT_USAGE,
            f"kopitui: {where}{shown(message)} (see '{shown(self.prog)} --help')\n",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kopitui",
        description="A terminal portal for minting and managing KopiCloud AD API tokens. "
        "Run without a command to open the portal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"kopitui {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="use this config file instead of the default one",
    )
    parser.add_argument(
        "--user", metavar="NAME", help="the acting user for commands (default: $KOPITUI_USER)"
    )
    for trap in ("--password", "--new-password", "--pass"):
        parser.add_argument(trap, action=_RefusePassword)

    p = _parents()
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def sub(group, name: str, help_text: str, *parents: str, handler=None):
        child = group.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=[p["common"], *(p[x] for x in parents)],
            allow_abbrev=False,
        )
        if handler is not None:
            child.set_defaults(handler=handler)
        return child

    # user
    user = sub(commands, "user", "add, list and remove users; change passwords")
    users = user.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    add = sub(
        users,
        "add",
        "add a user; with no users yet, `--role admin` creates the first administrator "
        "without signing in",
        "auth",
        "new_password",
        handler=cmd_user_add,
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", choices=("admin", "user"), default="user", help="default: user")
    passwd = sub(
        users,
        "passwd",
        "change your own password (asks the current one), or as an administrator reset "
        "NAME's; Basic tokens made with the old password go stale",
        "auth",
        "new_password",
        handler=cmd_user_passwd,
    )
    passwd.add_argument("name", metavar="NAME", nargs="?")
    sub(users, "list", "list users (administrators)", "auth", "json", handler=cmd_user_list)
    remove = sub(
        users,
        "remove",
        "remove a user (administrators); their tokens are disabled",
        "auth",
        handler=cmd_user_remove,
    )
    remove.add_argument("name", metavar="NAME")
    remove.add_argument(
        "--yes", action="store_true", help="do not ask (required without a terminal)"
    )

    # token
    token = sub(commands, "token", "mint, list, disable, enable, delete and verify tokens")
    tokens = token.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    jwt = sub(
        tokens,
        "jwt",
        "mint a JWT; stdout gets only the header value `Bearer …`",
        "auth",
        handler=cmd_token_jwt,
    )
    jwt.add_argument("--name", required=True, metavar="N", help="the token's name")
    jwt.add_argument(
        "--expires",
        metavar="MINUTES",
        help="minutes until it expires; 0 = never (default: jwt.default_expiry_minutes)",
    )
    sub(
        tokens,
        "basic",
        "your own Basic token; stdout gets only the header value `Basic …`",
        "auth",
        handler=cmd_token_basic,
    )
    listing = sub(
        tokens,
        "list",
        "list your tokens (administrators: --all for everyone's)",
        "auth",
        "json",
        "limit",
        handler=cmd_token_list,
    )
    listing.add_argument("--all", action="store_true", help="everyone's tokens (administrators)")
    listing.add_argument("--status", choices=("active", "expired", "disabled", "stale", "retired"))
    listing.add_argument("--search", metavar="TEXT", help="name, user, type or status")
    for action, what in (
        ("disable", "disable a token: it stops verifying at once"),
        ("enable", "enable a disabled token"),
        ("delete", "delete a token: it stops verifying at once and leaves the list"),
    ):
        change = sub(tokens, action, what, "auth", handler=cmd_token_change)
        change.add_argument("name", metavar="NAME")
        change.add_argument(
            "--owner", metavar="USER", help="whose token (default: yours; others: administrators)"
        )
        if action == "delete":
            change.add_argument(
                "--yes", action="store_true", help="do not ask (required without a terminal)"
            )
    verify = sub(
        tokens,
        "verify",
        "verify a token (eyJ…, 'Bearer …', 'Basic …' or 'Auth-Token: …'); no sign-in; "
        "exit 0 valid, 1 invalid",
        "json",
        handler=cmd_token_verify,
    )
    verify.add_argument(
        "token", metavar="TOKEN", nargs="?", help="the token, or - (the default) for stdin"
    )

    # logs
    logs = sub(
        commands,
        "logs",
        "read the audit log, newest first (administrators)",
        "auth",
        "json",
        "limit",
        handler=cmd_logs,
    )
    logs.add_argument(
        "--since",
        metavar="DATE|PRESET",
        help=f"YYYY-MM-DD[ HH:MM] or a preset: {', '.join(LOG_PRESETS)}",
    )
    logs.add_argument(
        "--until", metavar="DATE", help="YYYY-MM-DD[ HH:MM]; a bare date includes that day"
    )
    logs.add_argument("--search", metavar="TEXT", help="user, event, source or description")

    from . import cli_keys

    cli_keys.add_commands(commands, sub)
    return parser


# -- running --------------------------------------------------------------------------


def run_tui(args: argparse.Namespace) -> int:
    return launch.run_tui(args.config)


def run_command(args: argparse.Namespace) -> int:
    _, _, service = open_service(args.config)
    try:
        return args.handler(service, args, Secrets(args))
    finally:
        service.close()


def error_line(exc: KopituiError) -> str:
    message = shown(" ".join(str(exc).split()))
    option = FIELD_OPTIONS.get(getattr(exc, "field", ""))
    return f"kopitui: {option}: {message}" if option else f"kopitui: {message}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        if args.command is None:
            return run_tui(args)
        return run_command(args)
    except AuthenticationError as exc:
        note(error_line(exc))
        return EXIT_INVALID
    except KopituiError as exc:
        note(error_line(exc))
        return EXIT_USAGE
    except EOFError:  # Ctrl-D at a password prompt
        note("\nkopitui: no input; nothing done.")
        return EXIT_USAGE
    except KeyboardInterrupt:
        note("")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, without a second error at exit.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return EXIT_INVALID
