"""Snippets: the exact text for each language, and quoting that parses back to the value."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kopitui import snippets
from kopitui.snippets import KINDS, PLACEHOLDER, SNIPPETS, render, service_url

from helpers_core import child_env, isolate_home  # also loads the hypothesis profile

URL = "http://127.0.0.1:8750"
TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2ln"

# -- the exact text ----------------------------------------------------------------------


def test_kinds_in_portal_order():
    assert KINDS == ("curl", "powershell", "terraform", "env")
    assert [s.label for s in SNIPPETS] == ["curl", "PowerShell", "Terraform", "env"]


def test_curl():
    assert render("curl", TOKEN, url=URL) == (
        f"curl -H 'Auth-Token: {TOKEN}' http://127.0.0.1:8750/auth"
    )


def test_powershell():
    assert render("powershell", TOKEN, url=URL) == (
        "Invoke-RestMethod -Uri 'http://127.0.0.1:8750/auth' "
        f"-Headers @{{ 'Auth-Token' = '{TOKEN}' }}"
    )


def test_terraform():
    assert render("terraform", TOKEN, url=URL) == (
        f'provider "kopicloud" {{\n  host  = "http://127.0.0.1:8750"\n  token = "{TOKEN}"\n}}'
    )


def test_env():
    assert render("env", TOKEN, url=URL) == f"export API_AUTHENTICATION_TOKEN='{TOKEN}'"


def test_basic_token_is_placed_whole():
    value = "Basic b3BzOlBhc3M6dyRyZCE="
    assert f"token = {value!r}".replace("'", '"') in render("terraform", value, url=URL)


@pytest.mark.parametrize("kind", KINDS)
def test_placeholder_form(kind):
    text = render(kind, None, url=URL)
    assert PLACEHOLDER in text
    assert "Bearer" not in text


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown snippet kind 'bash'"):
        render("bash", TOKEN, url=URL)


@pytest.mark.parametrize("bad", ["a\nb", "tab\there", "nul\x00", "\u2028"])
def test_non_printable_values_are_refused(bad):
    with pytest.raises(ValueError, match="printable"):
        render("curl", bad, url=URL)
    with pytest.raises(ValueError, match="printable"):
        render("terraform", TOKEN, url=bad)


def test_quoting_of_awkward_config_values():
    url = "http://h'o\"s\\t${x}%{y}:1"
    assert render("curl", "Bearer a'b", url=url) == (
        "curl -H 'Auth-Token: Bearer a'\\''b' 'http://h'\\''o\"s\\t${x}%{y}:1/auth'"
    )
    assert "-Uri 'http://h''o\"s\\t${x}%{y}:1/auth'" in render("powershell", "t", url=url)
    assert '  host  = "http://h\'o\\"s\\\\t$${x}%%{y}:1"\n' in render("terraform", "t", url=url)


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8750, "http://127.0.0.1:8750"),
        ("localhost", 1, "http://localhost:1"),
        ("::1", 8750, "http://[::1]:8750"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),  # noqa: S104
        ("::", 9000, "http://[::1]:9000"),
        ("[fe80::1]", 80, "http://[fe80::1]:80"),
    ],
)
def test_service_url(host, port, expected):
    assert service_url(host, port) == expected


def test_nginx_points_at_the_check_endpoint():
    text = snippets.nginx(URL)
    assert "auth_request /_kopitui;" in text
    assert "auth_request_set $kopitui_user $upstream_http_x_kopitui_user;" in text
    assert "    proxy_pass http://127.0.0.1:8750/auth;\n" in text
    assert "internal;" in text
    assert 'proxy_set_header Content-Length "";' in text
    assert text.count("{") == text.count("}") == 2


# -- parsing back: a tiny reader per language (for the tests only) ----------------------


def ps_unquote(text: str, start: int) -> tuple[str, int]:
    """Read a PowerShell single-quoted string at ``text[start]``; return (value, end)."""
    quotes = snippets._PS_QUOTES
    assert text[start] in quotes
    out, i = [], start + 1
    while True:
        c = text[i]
        if c in quotes:
            if i + 1 < len(text) and text[i + 1] in quotes:
                out.append(c)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(c)
        i += 1


def hcl_unquote(text: str, start: int) -> tuple[str, int]:
    """Read an HCL double-quoted string, refusing any unescaped template sequence."""
    assert text[start] == '"'
    out, i = [], start + 1
    escapes = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
    while True:
        if text.startswith("$${", i) or text.startswith("%%{", i):
            out.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            raise AssertionError(f"unescaped template sequence at {i} in {text!r}")
        c = text[i]
        if c == "\\":
            out.append(escapes[text[i + 1]])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1


def test_the_readers_can_fail():
    """Guard against vacuous property tests: the readers see a badly quoted value."""
    with pytest.raises(AssertionError, match="unescaped template"):
        hcl_unquote('"${x}"', 0)
    assert ps_unquote("'a'b'", 0) == ("a", 3)
    assert shlex.split("'a'b'c'") == ["abc"]


#: What each language treats specially, alone and in the sequences that matter.
SPECIAL = [
    *"'\"\\$%{}` ;#",
    *"\u2018\u2019\u201a\u201b",  # PowerShell's other single quotes
    "${",
    "%{",
    "$${",
    "%%{",
    "'\\''",
    "''",
]
#: Printable text, rich in those pieces.
printable = st.lists(
    st.one_of(
        st.sampled_from(SPECIAL),
        st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")),
    ),
    max_size=30,
).map("".join)


@given(token=printable, url=printable)
def test_curl_parses_back(token, url):
    argv = shlex.split(render("curl", token, url=url))
    assert argv == ["curl", "-H", f"Auth-Token: {token}", url.rstrip("/") + "/auth"]


@given(token=printable)
def test_env_parses_back(token):
    assert shlex.split(render("env", token, url=URL)) == [
        "export",
        f"API_AUTHENTICATION_TOKEN={token}",
    ]


@given(token=printable, url=printable)
def test_powershell_parses_back(token, url):
    text = render("powershell", token, url=url)
    prefix = "Invoke-RestMethod -Uri "
    assert text.startswith(prefix)
    uri, end = ps_unquote(text, len(prefix))
    middle = " -Headers @{ 'Auth-Token' = "
    assert text[end : end + len(middle)] == middle
    value, end = ps_unquote(text, end + len(middle))
    assert text[end:] == " }"
    assert (uri, value) == (url.rstrip("/") + "/auth", token)


@given(token=printable, url=printable)
def test_terraform_parses_back(token, url):
    text = render("terraform", token, url=url)
    head, host_line, token_line, tail = text.split("\n")
    assert (head, tail) == ('provider "kopicloud" {', "}")
    assert host_line.startswith("  host  = ")
    assert token_line.startswith("  token = ")
    host, end = hcl_unquote(host_line, len("  host  = "))
    assert end == len(host_line)
    value, end = hcl_unquote(token_line, len("  token = "))
    assert end == len(token_line)
    assert (host, value) == (url, token)


# -- the core rule ------------------------------------------------------------------------


def test_snippets_import_without_textual(monkeypatch, tmp_path):
    isolate_home(monkeypatch, tmp_path)
    code = (
        "import sys, kopitui.snippets\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        "assert not bad, bad\n"
        "assert 'kopitui.snippets' in sys.modules\n"
        "print('clean')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
