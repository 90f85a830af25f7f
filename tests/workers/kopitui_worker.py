"""A child process for the concurrency and crash-safety tests (not a test module).

Run as ``python tests/workers/kopitui_worker.py MODE …`` with ``KOPITUI_HOME`` set. Every
mode prints ``ready`` once it is set up; modes that take part in a start barrier then
wait for one line on stdin, so several workers begin at the same moment.

- ``mint``: mint JWTs with the names given and print one JSON line of results:
  ``{"results": [[name, "ok", jti] | [name, "taken", message] | [name, "error", type,
  message] …], "seconds": …}``.
- ``first-run``: for each ``FOLDER[<tab>full]`` read from stdin (one a line), open a
  brand-new data folder there and, with ``full``, make the first administrator and mint
  ``shared`` and ``own-TAG``; print one JSON line per folder. Several of these race when
  the test sends them the same folder.
- ``loop``: mint ``PREFIX-0``, ``PREFIX-1``, … until ``--stop-file`` exists (or forever),
  printing each jti the moment the call has returned. Killed from outside.
- ``save-config``: save config A, config B, A, B … forever. Killed from outside. With
  ``--stall-before-replace`` the second save stops just before its rename (and says so).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from kopitui.config import CONFIG_FILE, DB_FILE, Config, load, load_or_create, resolve_paths, save
from kopitui.service import TokenService
from kopitui.service.errors import KopituiError, SetupError, ValidationError

THEMES = ("theme-a", "theme-b")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def barrier() -> None:
    say("ready")
    sys.stdin.readline()


def open_service() -> TokenService:
    paths = resolve_paths()
    return TokenService(load_or_create(paths.config_file), paths.database)


def config_variant(which: int) -> Config:
    """Config A or B: they differ in the theme and in a number, and in their length."""
    config = Config().replace("ui", "theme", THEMES[which])
    return config.replace("jwt", "default_expiry_minutes", 15 if which == 0 else 123456)


def mint(args: argparse.Namespace) -> None:
    results: list[list] = []
    service = open_service()
    barrier()
    start = time.perf_counter()
    try:
        user = service.get_user(args.user)
        for name in args.names.split(","):
            try:
                issued = service.issue_jwt(user, name, args.minutes, source="cli")
            except ValidationError as exc:
                results.append([name, "taken", exc.message])
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
                results.append([name, "error", type(exc).__name__, str(exc)])
            else:
                results.append([name, "ok", issued.jti])
    finally:
        service.close()
    say(json.dumps({"results": results, "seconds": time.perf_counter() - start}))


def first_run(args: argparse.Namespace) -> None:
    say("ready")
    for line in sys.stdin:
        where, _, what = line.rstrip("\n").partition("\t")
        folder = Path(where)
        result: dict = {"folder": str(folder)}
        try:
            # The database first (the config is written with an fsync, which would
            # spread the processes apart); its config is read only when minting.
            service = TokenService(Config(), folder / DB_FILE)
            service.config = load_or_create(folder / CONFIG_FILE)
        except KopituiError as exc:
            result["open_error"] = f"{type(exc).__name__}: {exc}"
            say(json.dumps(result))
            continue
        if what != "full":  # only open it
            service.close()
            say(json.dumps(result))
            continue
        try:
            try:
                service.create_first_admin(args.user, args.password, args.password)
                result["admin"] = "ok"
            except SetupError:
                result["admin"] = "taken"
            user = service.get_user(args.user)
            for name in ("shared", f"own-{args.tag}"):
                try:
                    service.issue_jwt(user, name, "60")
                    result[name] = "ok"
                except ValidationError as exc:
                    result[name] = f"taken: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            result["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            service.close()
        say(json.dumps(result))


def loop(args: argparse.Namespace) -> None:
    service = open_service()
    user = service.get_user(args.user)
    stop = Path(args.stop_file) if args.stop_file else None
    import jwt  # noqa: F401 - warm up, so every mint after "ready" takes a millisecond

    service.current_key()
    say("ready")
    errors = 0
    count = 0
    while stop is None or not stop.exists():
        try:
            issued = service.issue_jwt(user, f"{args.prefix}-{count}", args.minutes, source="cli")
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            errors += 1
            say(f"error {type(exc).__name__}: {exc}")
        else:
            say(f"jti {issued.jti}")
        count += 1
    service.close()
    say(f"done {count} {errors}")


def save_config(args: argparse.Namespace) -> None:
    path = Path(args.path)
    variants = [config_variant(0), config_variant(1)]
    save(variants[0], path)
    load(path)  # the first save is whole before anyone may kill us
    if args.stall_before_replace:
        # Stop a save where a kill leaves the most behind: the temp file written and
        # synced, the rename not yet done.
        def stall(src, dst):
            say(f"stalled {src}")
            time.sleep(3600)

        os.replace = os.rename = stall
    say("ready")
    which = 1
    while True:
        save(variants[which], path)
        which = 1 - which


def main() -> None:
    parser = argparse.ArgumentParser()
    modes = parser.add_subparsers(dest="mode", required=True)
    m = modes.add_parser("mint")
    m.add_argument("--user", required=True)
    m.add_argument("--names", required=True, help="comma-separated")
    m.add_argument("--minutes", default="60")
    m.set_defaults(run=mint)
    fr = modes.add_parser("first-run")
    fr.add_argument("--user", required=True)
    fr.add_argument("--password", required=True)
    fr.add_argument("--tag", required=True)
    fr.set_defaults(run=first_run)
    lp = modes.add_parser("loop")
    lp.add_argument("--user", required=True)
    lp.add_argument("--prefix", required=True)
    lp.add_argument("--minutes", default="60")
    lp.add_argument("--stop-file")
    lp.set_defaults(run=loop)
    sc = modes.add_parser("save-config")
    sc.add_argument("path")
    sc.add_argument("--stall-before-replace", action="store_true")
    sc.set_defaults(run=save_config)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
