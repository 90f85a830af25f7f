"""``kopitui serve``: the token service over HTTP, answering the way the KopiCloud API does.

``GET|HEAD /auth`` checks ``Auth-Token`` (or ``Authorization``): 200 with the identity, or
401 with the reason in words — the same verdicts as ``kopitui token verify``, from the same
code. It fits nginx's ``auth_request``. ``/health`` says the service is up, and
``/.well-known/jwks.json`` publishes the public verification keys.

Starlette and uvicorn are imported only by this module, which only ``serve`` loads.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .service import TokenService

log = logging.getLogger("kopitui.server")

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class FailureLimiter:
    """Slows brute force on Basic tokens: after ``max_failures`` failed checks within
    ``window`` seconds, a client is refused for ``block`` seconds without a check."""

    def __init__(
        self,
        max_failures: int,
        window: int,
        block: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures, self.window, self.block = max_failures, window, block
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again; 0 when it may now."""
        with self._lock:
            until = self._blocked.get(client)
            now = self._clock()
            if until is None:
                return 0
            if until <= now:
                del self._blocked[client]
                return 0
            return max(1, int(until - now + 0.999))

    def failed(self, client: str) -> bool:
        """Count a failure; True when it got the client blocked."""
        with self._lock:
            now = self._clock()
            recent = self._failures.setdefault(client, deque())
            recent.append(now)
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if len(recent) >= self.max_failures:
                self._blocked[client] = now + self.block
                recent.clear()
                return True
            if len(self._failures) > 10_000:  # bound memory under a spray of addresses
                self._sweep(now)
            return False

    def _sweep(self, now: float) -> None:
        for client in list(self._failures):
            recent = self._failures[client]
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if not recent:
                del self._failures[client]
        for client, until in list(self._blocked.items()):
            if until <= now:
                del self._blocked[client]


def client_address(request: Request, trusted_proxies: tuple[str, ...]) -> str:
    """The caller's address; behind a trusted proxy, the one it forwards."""
    peer = request.client.host if request.client else "unknown"
    if peer in trusted_proxies:
        forwarded = request.headers.get("x-real-ip") or request.headers.get("x-forwarded-for")
        if forwarded:
            candidate = forwarded.split(",")[-1].strip()
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return peer


def presented_token(request: Request) -> str | None:
    return request.headers.get("auth-token") or request.headers.get("authorization")


def create_app(
    service: TokenService,
    *,
    limiter: FailureLimiter | None = None,
    trusted_proxies: tuple[str, ...] | None = None,
) -> Starlette:
    config = service.config
    if trusted_proxies is None:
        # Opt-in: otherwise any local process could pick the address it is counted under.
        trusted_proxies = tuple(config.server_trusted_proxies)
    limiter = limiter or FailureLimiter(
        config.server_max_failures, config.server_failure_window, config.server_block_seconds
    )

    async def auth(request: Request) -> Response:
        client = client_address(request, trusted_proxies)
        wait = limiter.retry_after(client)
        if wait:
            return JSONResponse(
                {
                    "valid": False,
                    "verdict": "throttled",
                    "reason": f"Too many failed checks from this client; retry in {wait} s.",
                },
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        value = presented_token(request)
        if value is None:
            body = {
                "valid": False,
                "verdict": "malformed",
                "reason": "No Auth-Token header: send 'Auth-Token: Bearer <jwt>' or "
                "'Auth-Token: Basic <base64>'.",
            }
            return JSONResponse(body, status_code=401, headers=_challenge())
        verdict = await run_in_threadpool(service.verify, value, source=f"http {client}")
        if verdict.valid:
            # A success does not wipe the client's failures: one valid token must not
            # buy unlimited guesses. They age out of the window instead.
            headers = {
                "X-Kopitui-User": _header_safe(verdict.username),
                "X-Kopitui-Token": _header_safe(verdict.token_name),
            }
            return JSONResponse(verdict.as_json(), status_code=200, headers=headers)
        if limiter.failed(client):
            await run_in_threadpool(
                service.audit,
                "verify_throttled",
                None,
                f"Client {client} blocked for {limiter.block} s after repeated failures",
                "http",
            )
        return JSONResponse(verdict.as_json(), status_code=401, headers=_challenge())

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def jwks(request: Request) -> Response:
        body = await run_in_threadpool(service.jwks)
        return JSONResponse(body, headers={"Cache-Control": "max-age=300"})

    app = Starlette(
        routes=[
            Route("/auth", auth, methods=["GET", "HEAD"]),
            Route("/health", health, methods=["GET", "HEAD"]),
            Route("/.well-known/jwks.json", jwks, methods=["GET", "HEAD"]),
        ],
    )
    app.add_middleware(_AccessLog)
    return app


def _challenge() -> dict:
    return {"WWW-Authenticate": 'Bearer realm="kopitui", Basic realm="kopitui"'}


def _header_safe(text: str | None) -> str:
    """Header values carry only printable ASCII; anything else is escaped."""
    if not text:
        return ""
    return (
        text.encode("ascii", "backslashreplace")
        .decode("ascii")
        .translate({c: "?" for c in range(32)} | {127: "?"})
    )


class _AccessLog:
    """One line per request: method, path without its query, status, time. Never a header
    (that is where tokens travel) and never the query string."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            client = scope.get("client") or ("-", 0)
            log.info(
                '%s "%s %s" %d %.1fms',
                client[0],
                scope["method"],
                scope["path"],
                status["code"],
                (time.perf_counter() - started) * 1000,
            )


def uvicorn_config(app, host: str, port: int, *, log_level: str = "info"):
    """How kopitui runs uvicorn. ``proxy_headers=False``: uvicorn would otherwise believe
    X-Forwarded-For from any loopback peer; which proxies to believe is ours to decide
    ([server] trusted_proxies), in :func:`client_address`."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level=log_level,
        server_header=False,
        proxy_headers=False,
    )


def serve(service: TokenService, host: str, port: int, *, warn: Callable[[str], None]) -> int:
    """Run until ctrl+c or SIGTERM (uvicorn shuts down cleanly on both)."""
    import uvicorn

    if host not in LOOPBACK:
        warn(
            f"listening on {host}, not only on this machine: tokens cross the network in "
            "clear unless a TLS proxy is in front."
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(service)
    server = uvicorn.Server(uvicorn_config(app, host, port, log_level="info"))
    server.run()
    return 0
