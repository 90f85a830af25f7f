"""Verification: check a presented token the way the KopiCloud API does.

Accepts what users have at hand — ``eyJ…``, ``Bearer eyJ…``, ``Basic …`` or a whole
header line ``Auth-Token: Bearer …`` — and answers a :class:`Verdict` with the reason in
words. The accepted algorithm comes from the config, never from the token's header.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime

from . import validation
from .models import Verdict
from .users import inert

#: Longest text accepted for verification; a real header value is far shorter.
MAX_PRESENTED = 16 * 1024
_HEADER_NAMES = ("auth-token", "authorization")
_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def _when(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return str(timestamp)


def parse_presented(text: str) -> tuple[str, str]:
    """``(scheme, credential)`` from what a user pasted; scheme is "bearer" or "basic".

    Raises ValueError with a message when the text is none of the accepted forms.
    """
    if not isinstance(text, str) or not validation.is_text(text):
        raise ValueError("the text is not valid UTF-8")
    if len(text) > MAX_PRESENTED:
        raise ValueError(f"longer than {MAX_PRESENTED} characters")
    value = text.strip()
    name, sep, rest = value.partition(":")
    if sep and name.strip().lower() in _HEADER_NAMES:
        value = rest.strip()
    parts = value.split(None, 1)  # the scheme ends at any white space, line breaks too
    scheme, credential = (parts[0], parts[1]) if len(parts) == 2 else (value, "")
    lowered = scheme.lower()
    if lowered in ("bearer", "basic") and credential.strip():
        # Pasted tokens arrive wrapped over lines: no white space belongs inside one.
        return lowered, "".join(credential.split())
    compact = "".join(value.split())
    if compact.startswith("eyJ"):
        return "bearer", compact
    if not value:
        raise ValueError("nothing to verify")
    raise ValueError("expected eyJ…, 'Bearer …', 'Basic …' or 'Auth-Token: …'")


class VerifyMixin:
    def verify(self, text: str, *, source: str = "tui") -> Verdict:
        """Check ``text``; a failure is written to the audit log (never the token)."""
        try:
            scheme, credential = parse_presented(text)
        except ValueError as exc:
            verdict = Verdict("malformed", f"Malformed: {exc}.")
        else:
            if scheme == "bearer":
                verdict = self._verify_jwt(credential)
            else:
                verdict = self._verify_basic(credential)
        if not verdict.valid:
            who = verdict.username
            what = f"Verification failed: {verdict.code}"
            if verdict.token_name:
                what += f" (token {verdict.token_name!r})"
            self.audit("verify_failed", who, what, source)
        return verdict

    # -- Bearer -------------------------------------------------------------------------

    def _verify_jwt(self, token: str) -> Verdict:
        import jwt

        if not _JWT.match(token):
            return Verdict("malformed", "Malformed: a JWT is three base64url parts joined by dots.")
        try:
            header = jwt.get_unverified_header(token)
        # Bad JSON, a kid that is no string… (RecursionError: deep nesting, older PyJWT)
        except (jwt.exceptions.InvalidTokenError, RecursionError, ValueError):
            return Verdict("malformed", "Malformed: the JWT header cannot be read.", kind="jwt")
        algorithm = header.get("alg")
        allowed = self.config.algorithm
        if algorithm != allowed:
            return Verdict(
                "algorithm_not_allowed",
                f"Algorithm not allowed: the token says {inert(str(algorithm), 20)!r}; "
                f"only {allowed} is accepted.",
                kind="jwt",
            )
        key = self.verification_key(header.get("kid"), allowed)
        if key is None:
            retired = self.key_state(header.get("kid")) == "retired"
            return Verdict(
                "bad_signature",
                "Bad signature: the key that signed it was retired."
                if retired
                else "Bad signature: the token was not signed by a key of this service.",
                kind="jwt",
            )
        try:
            # Times are checked below against the service's clock, not PyJWT's.
            claims = jwt.decode(
                token,
                key,
                algorithms=[allowed],
                audience=self.config.audience,
                issuer=self.config.issuer,
                options={
                    "require": ["iat", "jti", "sub"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.exceptions.InvalidSignatureError:
            return Verdict("bad_signature", "Bad signature: the token was altered.", kind="jwt")
        except jwt.exceptions.InvalidAudienceError:
            return Verdict(
                "wrong_audience",
                f"Wrong audience: this service accepts {self.config.audience!r}.",
                kind="jwt",
            )
        except jwt.exceptions.InvalidIssuerError:
            return Verdict(
                "wrong_issuer",
                f"Wrong issuer: this service accepts {self.config.issuer!r}.",
                kind="jwt",
            )
        except jwt.exceptions.MissingRequiredClaimError as exc:
            return Verdict(
                "malformed", f"Malformed: the {exc.claim!r} claim is missing.", kind="jwt"
            )
        except (jwt.exceptions.InvalidTokenError, RecursionError, ValueError) as exc:
            return Verdict("malformed", f"Malformed: {exc.__class__.__name__}.", kind="jwt")
        return self._check_times(claims)

    def _check_times(self, claims: dict) -> Verdict:
        times = {}
        for claim in ("iat", "nbf", "exp"):
            value = claims.get(claim)
            if value is None and claim != "iat":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                return Verdict(
                    "malformed",
                    f"Malformed: the {claim!r} claim is not a whole number.",
                    kind="jwt",
                )
            times[claim] = value
        now, leeway = self.now(), self.config.leeway_seconds
        start = max(times["iat"], times.get("nbf", times["iat"]))
        if start > now + leeway:
            return self._with_claims(
                claims,
                "not_yet_valid",
                f"Not yet valid: it becomes valid at {_when(start)}; the clock here may be "
                "behind the one that issued it.",
            )
        exp = times.get("exp")
        if exp is not None and exp <= now - leeway:
            return self._with_claims(claims, "expired", f"Expired at {_when(exp)}.", expires_at=exp)
        return self._jwt_record_verdict(claims)

    def _token_row(self, jti):
        if not isinstance(jti, str):
            return None
        rows = self.store.read(
            "SELECT t.name, t.kind, t.status, t.expires_at, u.username, u.removed_at "
            "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.jti = ?",
            (jti,),
        )
        return rows[0] if rows else None

    def _with_claims(self, claims: dict, code: str, reason: str, **extra) -> Verdict:
        row = self._token_row(claims.get("jti"))
        return Verdict(
            code,
            reason,
            kind="jwt",
            username=row["username"] if row else None,
            token_name=row["name"] if row else None,
            **extra,
        )

    def _jwt_record_verdict(self, claims: dict) -> Verdict:
        row = self._token_row(claims.get("jti"))
        if row is None or row["kind"] != "jwt":
            return Verdict(
                "unknown", "Unknown: this service has no record of the token.", kind="jwt"
            )
        who = {"kind": "jwt", "username": row["username"], "token_name": row["name"]}
        return self._status_verdict(row, who, claims.get("exp"))

    def _status_verdict(self, row, who: dict, expires_at) -> Verdict:
        if row["status"] == "deleted":
            return Verdict("deleted", "Deleted: the token was deleted.", **who)
        if row["removed_at"] is not None:
            return Verdict("disabled", f"Disabled: user {row['username']!r} was removed.", **who)
        if row["status"] == "disabled":
            return Verdict("disabled", "Disabled: the token was disabled.", **who)
        if expires_at is not None and expires_at <= self.now() - self.config.leeway_seconds:
            return Verdict(
                "expired", f"Expired at {_when(expires_at)}.", expires_at=expires_at, **who
            )
        until = "never expires" if expires_at is None else f"expires {_when(expires_at)}"
        name = f"token {row['name']!r}" if row["kind"] == "jwt" else "Basic token"
        return Verdict(
            "valid",
            f"Valid: {name} of {row['username']!r}, {until}.",
            expires_at=expires_at,
            **who,
        )

    # -- Basic --------------------------------------------------------------------------

    def _verify_basic(self, credential: str) -> Verdict:
        if not _B64.match(credential) or len(credential) % 4:
            return Verdict("malformed", "Malformed: the Basic value is not base64.", kind="basic")
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return Verdict(
                "malformed", "Malformed: the Basic value is not base64 of UTF-8 text.", kind="basic"
            )
        username, sep, password = decoded.partition(":")
        if not sep:
            return Verdict(
                "malformed",
                "Malformed: a Basic value is base64 of 'username:password'.",
                kind="basic",
            )
        unknown = Verdict(
            "unknown", "Unknown: no such user, or the password is wrong.", kind="basic"
        )
        row = self._find_user(username)
        if row is None:
            removed = self._find_removed_user(username)
            if removed is not None and self._check_password(removed, password):
                return Verdict(
                    "disabled",
                    f"Disabled: user {removed['username']!r} was removed.",
                    kind="basic",
                    username=removed["username"],
                )
            if removed is None:
                self._spend_equal_time(password)
            return unknown
        if username != row["username"]:
            # A Basic token carries the name exactly as stored (NFC, its own case), as
            # issue_basic makes it: another spelling is not a token this service issued.
            self._spend_equal_time(password)
            return unknown
        who = {"kind": "basic", "username": row["username"]}
        if self._check_password(row, password):
            record = self.store.read(
                "SELECT t.name, t.kind, t.status, t.expires_at, u.username, u.removed_at "
                "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = ? "
                "AND t.kind = 'basic' AND t.password_epoch = ? "
                "ORDER BY t.status = 'deleted', t.id DESC LIMIT 1",
                (row["id"], row["password_epoch"]),
            )
            if not record:
                # The same answer as a wrong password: verification must not tell anyone
                # (over HTTP: anyone at all) that a guessed password is right.
                return unknown
            return self._status_verdict(record[0], {**who, "token_name": record[0]["name"]}, None)
        history = self.store.read(
            "SELECT epoch, password_hash, replaced_at FROM password_history "
            "WHERE user_id = ? ORDER BY epoch DESC",
            (row["id"],),
        )
        for old in history:
            if self._verify_hash(old["password_hash"], password):
                made = self.store.read(
                    "SELECT name FROM tokens WHERE user_id = ? AND kind = 'basic' "
                    "AND password_epoch = ? ORDER BY id DESC LIMIT 1",
                    (row["id"], old["epoch"]),
                )
                return Verdict(
                    "stale",
                    f"Stale: the password of {row['username']!r} changed on "
                    f"{_when(old['replaced_at'])}; generate a new Basic token.",
                    **who,
                    token_name=made[0]["name"] if made else None,
                )
        return Verdict(unknown.code, unknown.reason, kind="basic")
