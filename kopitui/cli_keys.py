"""``kopitui serve`` and ``kopitui key …``: the HTTP service and the signing keys.

Registered on the parser by :func:`add_commands`; helpers come from :mod:`.cli`.
Starlette and uvicorn are imported only when ``serve`` runs.
"""

from __future__ import annotations

from . import cli


def cmd_serve(service, args, secrets) -> int:
    from .server import serve

    host = args.host or service.config.server_host
    port = args.port or service.config.server_port
    cli.note(f"kopitui: serving /auth, /health and /.well-known/jwks.json on {host}:{port}")
    return serve(service, host, port, warn=lambda text: cli.note(f"kopitui: warning: {text}"))


def cmd_key_list(service, args, secrets) -> int:
    cli.sign_in(service, args, secrets)
    keys = service.list_keys()
    if args.json:
        cli.print_json(keys)
        return cli.EXIT_OK
    rows = [
        [
            k["kid"],
            k["algorithm"],
            cli.local_time(k["created_at"]),
            "retired " + cli.local_time(k["retired_at"]) if k["retired_at"] else "verifies",
            "current" if k["current"] else "",
        ]
        for k in keys
    ]
    cli.out(cli.table(["KID", "ALGORITHM", "CREATED", "STATE", ""], rows))
    return cli.EXIT_OK


def cmd_key_rotate(service, args, secrets) -> int:
    user, _ = cli.sign_in(service, args, secrets)
    kid = service.rotate_key(user, source=cli.SOURCE)
    cli.out(f"New current signing key {kid}; older keys verify their tokens until retired.")
    return cli.EXIT_OK


def cmd_key_retire(service, args, secrets) -> int:
    if not args.yes and not cli.stdin_is_tty():
        raise cli.UsageError("refusing to retire a key without confirmation: pass --yes.")
    user, _ = cli.sign_in(service, args, secrets)
    kid = cli.shown(args.kid)
    active = service.check_key_retirement(user, args.kid)  # refused before asking
    if not args.yes and not cli._confirm(
        f"Retire key {kid}? Tokens it signed stop verifying; {active} active now."
    ):
        cli.note("kopitui: nothing retired.")
        return cli.EXIT_USAGE
    disabled = service.retire_key(user, args.kid, source=cli.SOURCE)
    cli.out(
        f"Retired key {kid}: tokens it signed no longer verify "
        f"({disabled} active token(s) now listed Retired)."
    )
    return cli.EXIT_OK


def cmd_key_export(service, args, secrets) -> int:
    user = None
    if args.include_secret:
        user, _ = cli.sign_in(service, args, secrets)
        if not user.is_admin:
            raise cli.PermissionDenied("Only administrators can export secret keys.")
        cli.note(
            "kopitui: warning: this JWK Set holds the HMAC signing secret: whoever has it "
            "can mint tokens. Keep it like a password."
        )
        service.audit("key_exported", user.username, "Secret signing keys exported", cli.SOURCE)
    keys = service.jwks(
        include_secret=args.include_secret, actor=user if args.include_secret else None
    )
    if not keys["keys"] and not args.include_secret:
        cli.note(
            f"kopitui: the {service.config.algorithm} key is a shared secret, so the public "
            "set is empty; --include-secret exports it (administrators)."
        )
    cli.print_json(keys)
    return cli.EXIT_OK


def _port(text: str) -> int:
    import argparse

    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 1 to 65535, not {text!r}")
    return int(text)


def add_commands(commands, sub) -> None:
    serve = sub(
        commands,
        "serve",
        "run the token service over HTTP (/auth, /health, JWKS)",
        handler=cmd_serve,
    )
    serve.add_argument("--host", help="address to listen on (default: [server] host)")
    serve.add_argument(
        "--port", type=_port, help="port to listen on, 1-65535 (default: [server] port)"
    )

    key = sub(commands, "key", "list, rotate, retire and export the signing keys")
    keys = key.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    sub(keys, "list", "list the signing keys", "auth", "json", handler=cmd_key_list)
    sub(
        keys,
        "rotate",
        "make a new current signing key (administrators)",
        "auth",
        handler=cmd_key_rotate,
    )
    retire = sub(
        keys,
        "retire",
        "retire a key: tokens it signed stop verifying (administrators)",
        "auth",
        handler=cmd_key_retire,
    )
    retire.add_argument("kid", metavar="KID")
    retire.add_argument(
        "--yes", action="store_true", help="do not ask (required without a terminal)"
    )
    export = sub(
        keys, "export", "print the verification keys as a JWK Set", "auth", handler=cmd_key_export
    )
    export.add_argument(
        "--include-secret",
        action="store_true",
        help="include HMAC signing secrets (administrators; whoever has them can mint tokens)",
    )
