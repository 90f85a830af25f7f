"""Ready-to-paste snippets that use a token: curl, PowerShell, Terraform and a shell variable.

A token is always the whole ``Auth-Token`` header value (``Bearer eyJ…`` or
``Basic …``): the KopiCloud AD API reads that header, and its Terraform provider takes
the same value as ``token`` (or from ``API_AUTHENTICATION_TOKEN``).

Every value is quoted for the language it lands in. Tokens never contain quotes, but
the URL comes from the config, where a host may hold anything printable.

Plain Python: the portal's API page and result screen use it, and so could a command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: What the API page shows where the token will go.
PLACEHOLDER = "<token>"
#: The variable the KopiCloud Terraform provider reads when ``token`` is not set.
TOKEN_VARIABLE = "API_AUTHENTICATION_TOKEN"  # noqa: S105 - a variable name
#: The check endpoint of ``kopitui serve``.
CHECK_PATH = "/auth"


@dataclass(frozen=True)
class Snippet:
    kind: str
    label: str
    help: str


#: The snippets, in the order the portal lists them (keys 1–4 on the API page).
SNIPPETS: tuple[Snippet, ...] = (
    Snippet("curl", "curl", "check the token against the service"),
    Snippet("powershell", "PowerShell", "the same check with Invoke-RestMethod"),
    Snippet("terraform", "Terraform", "a KopiCloud provider block with host and token"),
    Snippet("env", "env", f"export {TOKEN_VARIABLE} for the provider"),
)
KINDS: tuple[str, ...] = tuple(s.kind for s in SNIPPETS)


def snippet(kind: str) -> Snippet:
    for item in SNIPPETS:
        if item.kind == kind:
            return item
    raise ValueError(f"unknown snippet kind {kind!r}; expected one of {', '.join(KINDS)}")


# -- where the service listens ---------------------------------------------------------

#: Addresses that mean "every interface": a client on this machine uses loopback.
_WILDCARDS = {
    "0.0.0.0": "127.0.0.1",  # noqa: S104 - read, not bound
    "": "127.0.0.1",
    "::": "::1",
    "[::]": "::1",
}


def service_url(host: str, port: int) -> str:
    """The base URL a client on this machine uses to reach ``kopitui serve --host host``.

    IPv6 literals get their brackets; a wildcard address becomes loopback.
    """
    host = _WILDCARDS.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def check_url(url: str) -> str:
    """The check endpoint under the base ``url``."""
    return url.rstrip("/") + CHECK_PATH


# -- quoting ---------------------------------------------------------------------------

_SH_SAFE = re.compile(r"[\w@%+=:,./-]+", re.ASCII)


def sh_quote(value: str, *, always: bool = True) -> str:
    """POSIX shell single quotes; a ``'`` inside becomes ``'\\''``.

    With ``always=False`` a word of only safe characters stays bare (as ``shlex.quote``).
    """
    if not always and _SH_SAFE.fullmatch(value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


#: PowerShell takes the typographic single quotes as quotes too; each is doubled.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def ps_quote(value: str) -> str:
    """A PowerShell single-quoted (verbatim) string: quotes doubled, nothing else special."""
    return "'" + "".join(c + c if c in _PS_QUOTES else c for c in value) + "'"


def hcl_quote(value: str) -> str:
    """An HCL double-quoted string: ``\\`` and ``"`` escaped, ``${`` and ``%{`` doubled
    so Terraform does not read them as an interpolation or a directive."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("${", "$${").replace("%{", "%%{")
    return f'"{escaped}"'


def _check(name: str, value: str) -> None:
    # Config values and header values are printable lines; anything else would need
    # per-language escapes that the snippets do not promise.
    if not value.isprintable():
        raise ValueError(f"the {name} must be a line of printable text")


# -- the snippets ----------------------------------------------------------------------


def render(kind: str, token: str | None, *, url: str) -> str:
    """The snippet ``kind`` with ``token`` (the whole header value) and the service ``url``.

    ``token=None`` gives the placeholder form shown before a token exists.
    """
    snippet(kind)  # unknown kinds fail here, before anything is built
    value = PLACEHOLDER if token is None else token
    _check("token", value)
    _check("URL", url)
    if kind == "curl":
        header = sh_quote(f"Auth-Token: {value}")
        return f"curl -H {header} {sh_quote(check_url(url), always=False)}"
    if kind == "powershell":
        return (
            f"Invoke-RestMethod -Uri {ps_quote(check_url(url))} "
            f"-Headers @{{ 'Auth-Token' = {ps_quote(value)} }}"
        )
    if kind == "terraform":
        return (
            f'provider "kopicloud" {{\n  host  = {hcl_quote(url)}\n  token = {hcl_quote(value)}\n}}'
        )
    return f"export {TOKEN_VARIABLE}={sh_quote(value)}"


def nginx(url: str) -> str:
    """An nginx ``auth_request`` setup that asks ``kopitui serve`` about every request."""
    _check("URL", url)
    return (
        "location / {\n"
        "    auth_request /_kopitui;\n"
        "    auth_request_set $kopitui_user $upstream_http_x_kopitui_user;\n"
        "    proxy_set_header X-Kopitui-User $kopitui_user;\n"
        "    proxy_pass http://127.0.0.1:8080;  # your application\n"
        "}\n"
        "\n"
        "location = /_kopitui {\n"
        "    internal;\n"
        f"    proxy_pass {check_url(url)};\n"
        "    proxy_pass_request_body off;\n"
        '    proxy_set_header Content-Length "";\n'
        "    proxy_set_header X-Real-IP $remote_addr;  # see trusted_proxies\n"
        "}"
    )
