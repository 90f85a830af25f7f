"""The command line: ``kopitui user|token|logs …`` over the same service as the TUI.

Most stories run the real command in a child process (``python -m kopitui``) with an
explicit environment; the finer rules run in-process through ``cli.main`` to stay fast.
Every child run checks that no password ever reaches stdout or stderr.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kopitui import cli
from kopitui.config import resolve_paths
from kopitui.service import TokenService

from support import ADMIN, ADMIN_PASSWORD, FROZEN_NOW

USER, USER_PASSWORD = "alice", "alice password 1"
NEW_PASSWORD = "a brand new password"
#: Every password a test uses; none may ever be printed.
PASSWORDS = (ADMIN_PASSWORD, USER_PASSWORD, NEW_PASSWORD, "bob password 12", "s3cret-in-argv")

JWT_LINE = re.compile(r"Bearer eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+\n")
TOKEN_KEYS = {"id", "name", "type", "username", "created_at", "expires_at", "status", "fingerprint"}
USER_KEYS = {"username", "role", "created_at", "password_changed_at", "active_tokens"}
LOG_KEYS = {"at", "username", "source", "event", "description"}
VERDICT_KEYS = {"valid", "verdict", "reason", "type", "username", "token_name", "expires_at"}


# -- running the command --------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """Only what the child needs: no KOPITUI_USER/KOPITUI_PASSWORD from the outer shell."""
    home = Path(os.environ["HOME"])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "KOPITUI_HOME": os.environ["KOPITUI_HOME"],
        "XDG_CONFIG_HOME": str(home / "xdg_config_home"),
        "XDG_DATA_HOME": str(home / "xdg_data_home"),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra)
    return env


def assert_no_password(*outputs: str) -> None:
    for text in outputs:
        for secret in PASSWORDS:
            assert secret not in text


def kopitui(
    *args: str, stdin: bytes | None = None, python_flags: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess:
    """Run ``python -m kopitui ARGS``; stdin is /dev/null unless given (never a TTY)."""
    result = subprocess.run(
        [sys.executable, *python_flags, "-m", "kopitui", *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        env=child_env(**env),
        capture_output=True,
        timeout=60,
        check=False,
    )
    result.stdout = result.stdout.decode("utf-8")
    result.stderr = result.stderr.decode("utf-8")
    assert "Traceback" not in result.stderr
    assert_no_password(result.stdout, result.stderr)
    return result


def as_admin() -> dict[str, str]:
    return {"KOPITUI_USER": ADMIN, "KOPITUI_PASSWORD": ADMIN_PASSWORD}


def as_user() -> dict[str, str]:
    return {"KOPITUI_USER": USER, "KOPITUI_PASSWORD": USER_PASSWORD}


@pytest.fixture(autouse=True)
def _no_acting_user_from_outside(monkeypatch):
    monkeypatch.delenv("KOPITUI_USER", raising=False)
    monkeypatch.delenv("KOPITUI_PASSWORD", raising=False)


@pytest.fixture
def alice(service, admin):
    return service.add_user(admin, USER, USER_PASSWORD, role="user")


@pytest.fixture
def run(monkeypatch, capsys):
    """``cli.main`` in-process: stdin from bytes (not a TTY); returns (code, out, err)."""

    def call(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert_no_password(out, err)
        return code, out, err

    return call


@pytest.fixture
def terminal(monkeypatch):
    """Pretend stdin is a terminal; ``answers`` feed the no-echo prompts in order."""
    prompts: list[str] = []
    answers: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(cli, "stdin_is_tty", lambda: True)
    monkeypatch.setattr(cli, "_getpass", fake_getpass)
    return prompts, answers


def fresh_service() -> TokenService:
    """A second look at the store, as another process would have."""
    from kopitui.config import load_or_create

    paths = resolve_paths()
    return TokenService(load_or_create(paths.config_file), paths.database)


def one_line(text: str) -> str:
    assert text.endswith("\n") and text.count("\n") == 1, text
    assert text.startswith("kopitui: "), text
    return text


# -- users ----------------------------------------------------------------------------


def test_first_admin_without_sign_in_then_only_admins_add_users():
    first = kopitui(
        "user", "add", ADMIN, "--role", "admin", "--new-password-stdin",
        stdin=f"{ADMIN_PASSWORD}\n".encode(),
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert f"Added user '{ADMIN}'" in first.stdout

    added = kopitui(
        "user", "add", USER, "--user", ADMIN, "--password-stdin", "--new-password-stdin",
        stdin=f"{ADMIN_PASSWORD}\n{USER_PASSWORD}\n".encode(),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    refused = kopitui(
        "user", "add", "bob", "--new-password-stdin", stdin=b"bob password 12\n", **as_user()
    )
    assert refused.returncode == 2
    assert one_line(refused.stderr) == "kopitui: Only administrators can add users.\n"
    assert refused.stdout == ""

    # The door for the first administrator is shut now that a user exists.
    late = kopitui(
        "user", "add", "carol", "--role", "admin", "--new-password-stdin",
        stdin=b"bob password 12\n",
    )  # fmt: skip
    assert late.returncode == 2
    assert "--user" in one_line(late.stderr)

    svc = fresh_service()
    try:
        assert svc.authenticate(ADMIN, ADMIN_PASSWORD).is_admin
        assert not svc.authenticate(USER, USER_PASSWORD).is_admin
        assert svc.get_user("bob") is None and svc.get_user("carol") is None
        added_events = [e for e in svc.logs(svc.get_user(ADMIN)).rows if e.event == "user_added"]
        assert [e.source for e in added_events] == ["cli", "cli"]
    finally:
        svc.close()


def test_first_user_must_be_an_administrator(run):
    code, out, err = run("user", "add", ADMIN, "--new-password-stdin", stdin=b"long enough pw\n")
    assert code == 2 and out == ""
    assert one_line(err) == (
        "kopitui: --role: No user exists yet: the first user must be an administrator "
        "(add --role admin).\n"
    )
    svc = fresh_service()
    try:
        assert not svc.has_users()
    finally:
        svc.close()


def test_failed_sign_in_exit_codes_and_the_log_of_it(service, admin):
    wrong = kopitui("user", "list", KOPITUI_USER=ADMIN, KOPITUI_PASSWORD="not the password")
    assert wrong.returncode == 1
    assert wrong.stdout == ""
    assert one_line(wrong.stderr) == "kopitui: Invalid name or password.\n"

    no_source = kopitui("user", "list", "--user", ADMIN)  # stdin is /dev/null, no env
    assert no_source.returncode == 2
    assert "KOPITUI_PASSWORD" in one_line(no_source.stderr)
    assert "--password-stdin" in no_source.stderr

    logs = kopitui("logs", "--json", "--since", "all", **as_admin())
    assert logs.returncode == 0, logs.stderr
    entries = json.loads(logs.stdout)
    assert isinstance(entries, list) and entries
    assert all(set(e) == LOG_KEYS for e in entries)
    failed = [e for e in entries if e["event"] == "signin_failed"]
    assert len(failed) == 1
    assert failed[0]["username"] == ADMIN and failed[0]["source"] == "cli"
    assert isinstance(failed[0]["at"], int)
    assert entries[0]["event"] == "signin"  # newest first: this very sign-in


def test_user_list_json_and_table(service, admin, alice, run):
    listed = kopitui("user", "list", "--json", **as_admin())
    assert listed.returncode == 0, listed.stderr
    users = json.loads(listed.stdout)
    assert [u["username"] for u in users] == [ADMIN, USER]
    assert all(set(u) == USER_KEYS for u in users)
    assert users[0]["role"] == "admin" and users[0]["created_at"] == FROZEN_NOW

    code, out, _ = run("user", "list", "--user", ADMIN, "--password-stdin",
                       stdin=f"{ADMIN_PASSWORD}\n".encode())  # fmt: skip
    assert code == 0
    header, first, second = out.splitlines()
    assert header.split() == ["Username", "Role", "Created", "Password", "changed", "Active",
                              "tokens"]  # fmt: skip
    assert first.startswith("admin     admin  2023-11-14 22:13")
    assert second.startswith("alice     user ")

    code, out, err = run("user", "list", "--user", USER, "--password-stdin",
                         stdin=USER_PASSWORD.encode())  # fmt: skip
    assert code == 2 and out == ""
    assert one_line(err) == "kopitui: Only administrators can list users.\n"


def test_user_remove_disables_their_tokens(service, admin, alice, run):
    service.issue_jwt(alice, "ci", "0")
    # Without a terminal to ask at, like token delete: only with --yes.
    code, out, err = run("user", "remove", USER, "--user", ADMIN, "--password-stdin",
                         stdin=ADMIN_PASSWORD.encode())  # fmt: skip
    assert code == 2 and out == ""
    assert one_line(err) == (
        "kopitui: refusing to remove a user without confirmation: pass --yes.\n"
    )
    assert service.get_user(USER) is not None
    code, out, _ = run("user", "remove", USER, "--yes", "--user", ADMIN, "--password-stdin",
                       stdin=ADMIN_PASSWORD.encode())  # fmt: skip
    assert code == 0
    assert out == "Removed user 'alice'; 1 token(s) disabled.\n"
    assert service.get_user(USER) is None
    code, _, err = run("user", "remove", ADMIN, "--yes", "--user", ADMIN, "--password-stdin",
                       stdin=ADMIN_PASSWORD.encode())  # fmt: skip
    assert code == 2 and "cannot remove yourself" in err


def test_user_remove_at_a_terminal_asks_and_refuses_before_asking(
    service, admin, alice, run, terminal
):
    _, answers = terminal
    answers.append(ADMIN_PASSWORD)
    code, out, err = run("user", "remove", USER, "--user", ADMIN, stdin=b"n\n")
    assert code == 2 and out == ""
    assert "Remove user 'alice'?" in err and "nobody removed" in err
    assert service.get_user(USER) is not None

    # What would refuse it is said at once, not after a question.
    answers.append(ADMIN_PASSWORD)
    code, _, err = run("user", "remove", ADMIN, "--user", ADMIN, stdin=b"y\n")
    assert code == 2
    assert "Remove user" not in err and "cannot remove yourself" in err

    answers.append(ADMIN_PASSWORD)
    code, out, _ = run("user", "remove", USER, "--user", ADMIN, stdin=b"y\n")
    assert code == 0 and out == "Removed user 'alice'; 0 token(s) disabled.\n"
    assert service.get_user(USER) is None


def test_user_passwd_at_a_terminal_never_echoes(service, admin):
    """The real no-echo prompt: a child on a pseudo-terminal, which it controls."""
    import fcntl
    import select
    import termios
    import time

    master, slave = os.openpty()

    def take_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [sys.executable, "-m", "kopitui", "user", "passwd", "--user", ADMIN],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=child_env(),
        start_new_session=True,
        preexec_fn=take_terminal,  # the child makes the pty its controlling terminal
    )
    os.close(slave)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 20
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break

    try:
        for prompt, answer in (
            (b"Password for admin: ", ADMIN_PASSWORD),
            (b"New password for admin: ", NEW_PASSWORD),
            (b"Repeat the new password: ", NEW_PASSWORD),
        ):
            read_until(prompt)
            assert prompt in seen
            os.write(master, answer.encode() + b"\n")
        read_until(b"Password changed")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert "Password changed" in text
    assert_no_password(text)
    assert service.authenticate(ADMIN, NEW_PASSWORD)


def test_user_passwd_prompts_confirm_and_admin_reset(service, admin, alice, run, terminal):
    prompts, answers = terminal
    answers += [USER_PASSWORD, NEW_PASSWORD, "something else entirely"]
    code, _, err = run("user", "passwd", "--user", USER)
    assert code == 2 and one_line(err) == "kopitui: The two passwords do not match.\n"
    assert prompts == [
        "Password for alice: ",
        "New password for alice: ",
        "Repeat the new password: ",
    ]

    answers += [USER_PASSWORD]
    code, _, err = run("user", "passwd", ADMIN, "--user", USER)
    assert code == 2 and "Only administrators can reset" in err
    assert not answers

    answers += [ADMIN_PASSWORD, NEW_PASSWORD, NEW_PASSWORD]
    code, out, _ = run("user", "passwd", "ALICE", "--user", ADMIN)
    assert code == 0 and out.startswith("Password of 'alice' reset")
    assert service.authenticate(USER, NEW_PASSWORD)
    assert service.logs(admin).rows[0].description == "Password of 'alice' reset"


def test_keyboard_interrupt_at_a_prompt_exits_130(admin, run, monkeypatch, terminal):
    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_getpass", interrupted)
    code, out, err = run("user", "list", "--user", ADMIN)
    assert code == 130
    assert out == "" and err.strip() == ""


# -- stdin ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pw\n", "pw"),
        ("pw\r\n", "pw"),
        ("pw\n\n", "pw\n"),
        ("pw\r\n\r\n", "pw\r\n"),
        (" pw ", " pw "),
        (" pw \n", " pw "),
        ("pw\r", "pw\r"),
        ("", ""),
    ],
)
def test_one_trailing_newline_is_dropped(text, expected):
    assert cli.strip_one_newline(text) == expected


@pytest.mark.parametrize(
    ("stdin", "code"),
    [
        (b"%s\n", 0),
        (b"%s\r\n", 0),
        (b"%s", 0),
        (b"%s\n\n", 1),  # the second newline is part of the password: wrong
        (b" %s \n", 1),  # spaces are kept: wrong
    ],
)
def test_password_stdin_newline_rule(admin, run, stdin, code):
    data = stdin.replace(b"%s", ADMIN_PASSWORD.encode())
    result, _, err = run("user", "list", "--user", ADMIN, "--password-stdin", stdin=data)
    assert result == code, err


def test_spaces_in_a_password_from_stdin_are_kept(service, admin, run):
    spaced = "  " + NEW_PASSWORD + " "
    code, _, err = run(
        "user", "add", "bob", "--user", ADMIN, "--password-stdin", "--new-password-stdin",
        stdin=f"{ADMIN_PASSWORD}\r\n{spaced}\r\n".encode(),
    )  # fmt: skip
    assert code == 0, err
    assert service.authenticate("bob", spaced)
    code, _, _ = run("user", "list", "--user", "bob", "--password-stdin",
                     stdin=NEW_PASSWORD.encode())  # fmt: skip
    assert code == 1


def test_both_stdin_flags_need_two_parts(admin, run):
    code, _, err = run(
        "user", "passwd", "--user", ADMIN, "--password-stdin", "--new-password-stdin",
        stdin=ADMIN_PASSWORD.encode(),
    )  # fmt: skip
    assert code == 2 and "first line" in one_line(err)


def test_no_acting_user_is_a_usage_error(run, admin):
    code, _, err = run("token", "list", "--password-stdin", stdin=b"whatever\n")
    assert code == 2
    assert one_line(err) == "kopitui: who is acting? Pass --user NAME or set KOPITUI_USER.\n"


def test_with_no_user_yet_commands_say_how_to_make_the_first(run):
    code, _, err = run("token", "list", "--user", "admin", "--password-stdin", stdin=b"x\n")
    assert code == 2
    assert one_line(err).startswith("kopitui: no user exists yet: create the first")
    assert "kopitui user add NAME --role admin" in err


# -- no password in argv --------------------------------------------------------------

COMMANDS = [
    [],
    ["user", "add", "bob"],
    ["user", "passwd"],
    ["user", "passwd", "bob"],
    ["user", "list"],
    ["user", "remove", "bob"],
    ["token", "jwt", "--name", "n"],
    ["token", "basic"],
    ["token", "list"],
    ["token", "disable", "n"],
    ["token", "enable", "n"],
    ["token", "delete", "n"],
    ["token", "verify"],
    ["logs"],
]


def _subparsers(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield child
                yield from _subparsers(child)


def test_no_option_takes_a_password_value():
    parser = cli.build_parser()
    for sub in [parser, *_subparsers(parser)]:
        for action in sub._actions:
            if any("pass" in option for option in action.option_strings):
                # Either a flag (read from stdin) or the trap that refuses a value.
                assert action.nargs == 0 or isinstance(action, cli._RefusePassword), action


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "kopitui")
@pytest.mark.parametrize("form", ["separate", "equals"])
def test_password_as_argument_is_refused_without_echo(run, capsys, command, form):
    tail = ["--password", "s3cret-in-argv"] if form == "separate" else ["--password=s3cret-in-argv"]
    with pytest.raises(SystemExit) as exited:
        run(*command, *tail)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert "never taken as arguments" in err
    assert_no_password(out, err)


def test_new_password_argument_is_refused_too(run, capsys):
    with pytest.raises(SystemExit) as exited:
        run("user", "add", "bob", "--new-password", "s3cret-in-argv", "--role", "user")
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "never taken as arguments" in err and "s3cret-in-argv" not in err


# -- tokens ---------------------------------------------------------------------------


def test_token_jwt_prints_only_the_header_value_and_it_verifies(service, admin, alice):
    made = kopitui("token", "jwt", "--name", "ci deploy", "--expires", "5", **as_admin())
    assert made.returncode == 0, made.stderr
    assert JWT_LINE.fullmatch(made.stdout), made.stdout
    assert "expires" in made.stderr and "ci deploy" in made.stderr
    header_value = made.stdout.rstrip("\n")

    verified = kopitui("token", "verify", "-", stdin=made.stdout.encode())
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Valid: token 'ci deploy' of 'admin', expires ")

    as_json = kopitui("token", "verify", "--json", f"Auth-Token: {header_value}")
    assert as_json.returncode == 0
    verdict = json.loads(as_json.stdout)
    assert set(verdict) == VERDICT_KEYS
    assert verdict["valid"] is True and verdict["verdict"] == "valid"
    assert verdict["type"] == "JWT" and verdict["token_name"] == "ci deploy"

    listed = kopitui("token", "list", "--all", "--json", **as_admin())
    assert listed.returncode == 0, listed.stderr
    tokens = json.loads(listed.stdout)
    assert [t["name"] for t in tokens] == ["ci deploy"]
    assert set(tokens[0]) == TOKEN_KEYS
    assert tokens[0]["type"] == "JWT" and tokens[0]["status"] == "Active"
    assert tokens[0]["username"] == ADMIN and len(tokens[0]["fingerprint"]) == 64


def test_token_jwt_checks_input_before_asking_for_a_password(run):
    code, out, err = run("token", "jwt", "--name", "ci", "--expires", "1h")
    assert code == 2 and out == ""
    assert one_line(err).startswith("kopitui: --expires: Expiry must be a whole number")
    code, _, err = run("token", "jwt", "--name", "bad\x1b[2Jname")
    assert code == 2 and "\x1b" not in err and "U+001B" in err


def test_verify_an_expired_token(admin, config, monkeypatch):
    past = TokenService(config, resolve_paths().database, clock=lambda: FROZEN_NOW)
    try:
        issued = past.issue_jwt(admin, "short lived", "1")
    finally:
        past.close()
    result = kopitui("token", "verify", stdin=(issued.header_value + "\r\n").encode())
    assert result.returncode == 1
    assert result.stdout == "Expired at 2023-11-14 22:14:20 UTC.\n"


def test_disabled_and_deleted_tokens_stop_verifying(service, admin, alice):
    issued = service.issue_jwt(alice, "ci", "0")

    # An administrator disables alice's token by name.
    off = kopitui("token", "disable", "ci", "--owner", USER, **as_admin())
    assert off.returncode == 0, off.stderr
    assert off.stdout == "Disabled token 'ci' of 'alice'.\n"
    disabled = kopitui("token", "verify", "--json", stdin=issued.header_value.encode())
    assert disabled.returncode == 1
    assert json.loads(disabled.stdout)["verdict"] == "disabled"

    # No terminal to confirm on and no --yes: refused before anything happens.
    unconfirmed = kopitui("token", "delete", "ci", **as_user())
    assert unconfirmed.returncode == 2
    assert "--yes" in one_line(unconfirmed.stderr)

    # Alice may not delete what an administrator disabled (she could then make it again).
    refused = kopitui("token", "delete", "ci", "--yes", **as_user())
    assert refused.returncode == 2
    assert "only an administrator" in one_line(refused.stderr)

    gone = kopitui("token", "delete", "ci", "--owner", USER, "--yes", **as_admin())
    assert gone.returncode == 0, gone.stderr
    deleted = kopitui("token", "verify", issued.header_value)
    assert deleted.returncode == 1
    assert deleted.stdout == "Deleted: the token was deleted.\n"
    events = [e.event for e in service.logs(admin, limit=20).rows if e.source == "cli"]
    assert "token_disabled" in events and "token_deleted" in events


def test_stale_basic_token_after_user_passwd(service, admin, alice):
    basic = kopitui("token", "basic", **as_user())
    assert basic.returncode == 0, basic.stderr
    assert re.fullmatch(r"Basic [A-Za-z0-9+/]+=*\n", basic.stdout)
    assert "stops working when the password changes" in basic.stderr

    changed = kopitui(
        "user", "passwd", "--user", USER, "--password-stdin", "--new-password-stdin",
        stdin=f"{USER_PASSWORD}\r\n{NEW_PASSWORD}\n".encode(),
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.startswith("Password changed")

    stale = kopitui("token", "verify", stdin=basic.stdout.encode())
    assert stale.returncode == 1
    assert stale.stdout.startswith("Stale: the password of 'alice' changed on ")
    assert service.authenticate(USER, NEW_PASSWORD)


def test_token_list_table(service, admin, alice, run, monkeypatch):
    service.issue_jwt(admin, "名前 wide", "0")
    service.issue_jwt(admin, "nightly", "60")
    service.issue_jwt(alice, "alice's", "0")
    monkeypatch.setenv("KOPITUI_PASSWORD", ADMIN_PASSWORD)

    code, out, _ = run("token", "list", "--user", ADMIN)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Type", "Created", "Expiration", "Date", "Status",
                                "Username", "Fingerprint"]  # fmt: skip
    assert len(lines) == 3  # only the admin's own without --all
    # Aligned: every row's "JWT" sits where the header's "Type" does (名前 is 4 columns wide).
    column = lines[0].index("Type")
    assert lines[1].index("JWT") == column  # nightly
    assert lines[2].index("JWT") == column - 2  # 2 wide characters, 2 code points fewer
    assert "No Expiration" in lines[2] and "Expired" in lines[1]

    code, out, _ = run("token", "list", "--user", ADMIN, "--all", "--search", "alice")
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:]] == ["alice's"]

    code, out, err = run("token", "list", "--user", ADMIN, "--all", "--limit", "1", "--json")
    assert code == 0 and len(json.loads(out)) == 1
    assert one_line(err) == "kopitui: showing 1 of 3 tokens; use --limit to see more.\n"

    code, out, _ = run("token", "list", "--user", ADMIN, "--status", "disabled")
    assert code == 0 and out == "No tokens.\n"

    monkeypatch.setenv("KOPITUI_PASSWORD", USER_PASSWORD)
    code, _, err = run("token", "list", "--user", USER, "--all")
    assert code == 2 and "Only administrators" in one_line(err)


def test_disable_enable_and_confirmed_delete_at_a_terminal(service, admin, alice, run, terminal):
    _, answers = terminal
    service.issue_jwt(alice, "ci", "0")
    answers.append(USER_PASSWORD)
    code, out, _ = run("token", "disable", "CI", "--user", USER)
    assert code == 0 and out == "Disabled token 'CI' of 'alice'.\n"
    assert service.list_tokens(alice).rows[0].status == "Disabled"
    answers.append(USER_PASSWORD)
    assert run("token", "enable", "ci", "--user", USER)[0] == 0
    assert service.list_tokens(alice).rows[0].status == "Active"

    answers.append(USER_PASSWORD)
    code, out, err = run("token", "delete", "ci", "--user", USER, stdin=b"n\n")
    assert code == 2 and out == ""
    assert "Delete token 'ci' of 'alice'?" in err and "nothing deleted" in err
    assert service.list_tokens(alice).total == 1

    answers.append(USER_PASSWORD)
    code, out, _ = run("token", "delete", "ci", "--user", USER, stdin=b"y\n")
    assert code == 0 and out == "Deleted token 'ci' of 'alice'.\n"
    assert service.list_tokens(alice).total == 0

    # An ordinary user cannot reach another user's tokens, not even to learn their names.
    answers.append(USER_PASSWORD)
    code, _, err = run("token", "disable", "x", "--owner", ADMIN, "--user", USER)
    assert code == 2 and "Only administrators" in err


def test_verify_needs_no_sign_in_and_explains_malformed_input(run):
    code, out, _ = run("token", "verify", stdin=b"")
    assert (code, out) == (1, "Malformed: nothing to verify.\n")
    alg_none = (
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJjaS1ib3QiLCJqdGkiOiJjaS10b2tlbiIsImlh"
        "dCI6MTcwMDAwMDAwMH0."
    )
    code, out, _ = run("token", "verify", "--json", alg_none)
    assert code == 1 and json.loads(out)["verdict"] == "algorithm_not_allowed"


# -- logs -----------------------------------------------------------------------------


def test_a_name_nobody_has_is_never_written_down(service, admin, isolated_home):
    # Often it is a password typed into the Name field (escapes included, for good measure).
    typed = "\x1b[31mHunter2-my-real-password\x07"
    failed = kopitui("token", "list", "--user", typed, KOPITUI_PASSWORD="whatever it is")
    assert failed.returncode == 1
    shown = kopitui("logs", "--search", "not recorded", **as_admin())
    assert shown.returncode == 0, shown.stderr
    assert "signin_failed" in shown.stdout and "no user by the name typed" in shown.stdout
    assert "Hunter2" not in shown.stdout
    service.close()
    stored = b"".join(p.read_bytes() for p in isolated_home.glob("kopitui.db*"))
    assert b"Hunter2" not in stored and b"hunter2" not in stored


def test_logs_escape_whatever_the_store_holds(service, admin, run, monkeypatch):
    # Written straight to the store, past the service's own cleaning.
    service.audit("custom", "\x1b]0;pwned\x07", "desc \x1b[2J\u202e\x9b", "tui")
    monkeypatch.setenv("KOPITUI_PASSWORD", ADMIN_PASSWORD)
    code, out, _ = run("logs", "--user", ADMIN, "--search", "custom")
    assert code == 0
    row = out.splitlines()[1]
    assert "\\x1b]0;pwned\\x07" in row and "desc \\x1b[2J\\u202e\\x9b" in row
    assert not any(not ch.isprintable() for ch in out.replace("\n", ""))

    code, out, _ = run("logs", "--user", ADMIN, "--search", "custom", "--json")
    assert json.loads(out)[0]["description"] == "desc \x1b[2J\u202e\x9b"
    assert "\x1b" not in out


def test_logs_ranges_and_permissions(service, admin, alice, run, monkeypatch):
    monkeypatch.setenv("KOPITUI_PASSWORD", ADMIN_PASSWORD)
    # The seeded events are from 2023 (frozen clock); this run's sign-in is from today.
    code, out, _ = run("logs", "--user", ADMIN, "--since", "today", "--json")
    assert code == 0 and [e["event"] for e in json.loads(out)] == ["signin"]
    code, out, _ = run(
        "logs", "--user", ADMIN, "--since", "2023-11-14", "--until", "2023-11-14", "--json"
    )
    assert code == 0
    assert {e["event"] for e in json.loads(out)} == {"user_added"}
    assert all(e["at"] == FROZEN_NOW for e in json.loads(out))

    code, out, err = run("logs", "--user", ADMIN, "--since", "last week")
    assert code == 2 and out == ""
    assert one_line(err).startswith("kopitui: --since: Give a date")
    code, _, err = run("logs", "--user", ADMIN, "--since", "2024-02-01", "--until", "2024-01-01")
    assert code == 2 and one_line(err).startswith("kopitui: --until: ")

    monkeypatch.setenv("KOPITUI_PASSWORD", USER_PASSWORD)
    code, _, err = run("logs", "--user", USER)
    assert code == 2 and one_line(err) == "kopitui: Only administrators can read the logs.\n"


# -- the command itself ---------------------------------------------------------------


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for command in (
        "user add", "user passwd", "user list", "user remove", "token jwt", "token basic",
        "token list", "token disable|enable|delete", "token verify", "kopitui logs",
        "--password-stdin", "--new-password-stdin", "KOPITUI_PASSWORD", "exit codes",
    ):  # fmt: skip
        assert command in text


def test_no_command_opens_the_tui(monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "run_tui", lambda args: seen.append(args.config) or 0)
    assert cli.main(["--config", "/tmp/x.toml"]) == 0
    assert seen == ["/tmp/x.toml"]


def test_usage_errors_exit_2_with_one_line(run, capsys):
    for argv, says in (
        (["user"], "kopitui: user: the following arguments are required: ACTION"),
        (["token", "jwt"], "kopitui: token jwt: the following arguments are required: --name"),
        (["token", "list", "--status", "gone"], "kopitui: token list: argument --status"),
        (["nope"], "kopitui: argument COMMAND: invalid choice: 'nope'"),
        (["token", "verify", "--x\x1b[2J"], "kopitui: unrecognized arguments: --x"),
    ):
        with pytest.raises(SystemExit) as exited:
            run(*argv)
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert one_line(err).startswith(says), err
        assert "\x1b" not in err  # what was typed is shown inert
        assert err.rstrip().endswith("--help')")


def test_a_broken_config_is_one_line_exit_2(run, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[jwt\n")
    code, out, err = run("--config", str(bad), "token", "verify", "x")
    assert code == 2 and out == ""
    assert one_line(err).startswith(f"kopitui: {bad}: invalid TOML")


def test_shown_makes_outside_text_inert():
    assert cli.shown("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert cli.shown("\u202eevil\x9b\n") == "\\u202eevil\\x9b\\n"
    assert cli.shown("søren 名前 ok") == "søren 名前 ok"
    assert cli.shown(None) == "-"


def test_jwt_verify_imports_neither_textual_nor_argon2(service, admin):
    issued = service.issue_jwt(admin, "hygiene", "0")
    result = kopitui(
        "token", "verify", "-",
        stdin=issued.header_value.encode(),
        python_flags=("-X", "importtime"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Valid: token 'hygiene'")
    modules = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "kopitui.cli" in modules and "jwt" in modules  # the log is really there
    assert "textual" not in result.stderr
    assert "argon2" not in result.stderr
    assert "rich" not in modules
