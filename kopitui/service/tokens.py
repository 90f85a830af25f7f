"""Signing keys, issuing JWT and Basic tokens, and the Token List."""

from __future__ import annotations

import sqlite3

from . import validation
from .errors import AuthenticationError, PermissionDenied, ValidationError
from .models import IssuedToken, Page, TokenRecord, User
from .store import like_pattern, searchable
from .users import inert


def fingerprint(token: str) -> str:
    """The SHA-256 of a token, as stored; the token itself never is."""
    import hashlib  # here, not at start-up: loading OpenSSL costs a few milliseconds

    return hashlib.sha256(token.encode("utf-8")).hexdigest()


#: Token List sort keys -> SQL (a whitelist: the column name never comes from input).
SORTS = {
    "name": "t.name_key",
    "type": "t.kind",
    "created": "t.created_at",
    "expires": "coalesce(t.expires_at, 253402300800)",
    "status": "status_label",
    "username": "u.username_key",
}
STATUSES = ("active", "expired", "disabled", "stale", "retired")

# Retired: switched off with the key that signed it (key retire); it can never verify
# again, so it is not offered for enabling, unlike a token someone disabled.
_STATUS_SQL = (
    "CASE WHEN t.status = 'disabled' AND EXISTS (SELECT 1 FROM signing_keys k "
    "WHERE k.kid = t.kid AND k.retired_at IS NOT NULL) THEN 'Retired' "
    "WHEN t.status = 'disabled' THEN 'Disabled' "
    "WHEN t.status = 'deleted' THEN 'Deleted' "
    "WHEN t.kind = 'basic' AND t.password_epoch < u.password_epoch THEN 'Stale' "
    "WHEN t.expires_at IS NOT NULL AND t.expires_at <= :now THEN 'Expired' "
    "ELSE 'Active' END"
)


class TokensMixin:
    # -- issuing ------------------------------------------------------------------------

    def parse_minutes(self, text: str) -> int:
        return validation.parse_expiry_minutes(
            text,
            now=self.now(),
            max_minutes=self.config.max_expiry_minutes,
            allow_never=self.config.allow_never_expires,
        )

    def preview_expiry(self, text: str) -> int | None:
        """The ``exp`` a token made now with ``text`` minutes would get (None: never)."""
        return validation.expiry_timestamp(self.now(), self.parse_minutes(text))

    def _taken_name(self, user_id: int, name: str) -> str | None:
        """The spelling of the user's live JWT whose name matches ``name``, if any."""
        rows = self.store.read(
            "SELECT name FROM tokens WHERE user_id = ? AND name_key = ? AND kind = 'jwt' "
            "AND status != 'deleted'",
            (user_id, validation.name_key(name)),
        )
        return rows[0]["name"] if rows else None

    def _name_taken_error(self, user_id: int, name: str) -> ValidationError:
        existing = self._taken_name(user_id, name) or name
        return ValidationError("name", f"You already have a token named {existing!r}.")

    def check_token_name(self, user: User, name: str) -> str:
        name = validation.validate_token_name(name)
        if self._taken_name(user.id, name) is not None:
            raise self._name_taken_error(user.id, name)
        return name

    def issue_jwt(self, user: User, name: str, minutes: str | int, *, source: str = "tui"):
        """Mint a JWT for ``user``. Returns an :class:`IssuedToken`; stores only its record."""
        import jwt

        name = validation.validate_token_name(name)
        minutes = self.parse_minutes(str(minutes))
        self._require_active(user)
        now = self.now()
        expires = validation.expiry_timestamp(now, minutes)
        kid, secret = self.current_key()  # HMAC bytes or PKCS#8 PEM: PyJWT signs with both
        import secrets  # lazily: it loads OpenSSL's hashlib

        jti = secrets.token_urlsafe(16)
        claims = {
            "unique_name": name,
            "sub": str(user.username),
            "iss": self.config.issuer,
            "aud": self.config.audience,
            "iat": now,
            "jti": jti,
        }
        if expires is not None:
            claims["exp"] = expires
        token = jwt.encode(claims, secret, algorithm=self.config.algorithm, headers={"kid": kid})
        header_value = f"Bearer {token}"
        digest = fingerprint(header_value)
        try:
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT INTO tokens (jti, name, name_key, kind, user_id, created_at, "
                    "expires_at, fingerprint, kid) VALUES (?, ?, ?, 'jwt', ?, ?, ?, ?, ?)",
                    (jti, name, validation.name_key(name), user.id, now, expires, digest, kid),
                )
                when = "never expires" if expires is None else f"expires in {minutes} min"
                self._audit(
                    conn, "token_generated", user.username, f"JWT {name!r} ({when})", source
                )
        except sqlite3.IntegrityError:
            # The database enforces uniqueness, so two processes cannot both win.
            raise self._name_taken_error(user.id, name) from None
        return IssuedToken("jwt", name, user.username, header_value, now, expires, jti, digest)

    def issue_basic(
        self, username: str, password: str, *, actor: User | None = None, source: str = "tui"
    ) -> IssuedToken:
        """A Basic token for an existing user whose password matches.

        A wrong pair gets the same vague error as sign-in: a Basic token made from a
        wrong password would only fail later, at the API. The same user and password
        always give the same token, so it has one record per password.
        """
        username = username.strip()
        if ":" in username:
            raise ValidationError(
                "username", "A username cannot contain ':' (Basic authentication forbids it)."
            )
        if not username:
            raise ValidationError("username", "Enter a username.")
        self.check_lockout(username)
        row = self._find_user(username)
        if row is None or not self._check_password(row, password):
            if row is None:
                self._spend_equal_time(password)
            # A name nobody has is not written down: it is often a password typed into
            # the wrong field.
            shown = row["username"] if row is not None else None
            self.audit(
                "basic_failed",
                shown,
                "Basic token refused: invalid name or password"
                if row is not None
                else "Basic token refused: no user by the name typed (not recorded)",
                source,
            )
            self.record_failure(username, shown, source)
            raise AuthenticationError()
        self.clear_failures(username)
        # The stored spelling of the name, so NFC/case variants yield one token.
        header_value = validation.basic_header_value(row["username"], password)
        now = self.now()
        name = f"Basic {row['username']}"
        with self.store.transaction() as conn:
            existing = conn.execute(
                "SELECT jti, status, created_at FROM tokens WHERE user_id = ? AND kind = 'basic' "
                "AND password_epoch = ? AND status != 'deleted'",
                (row["id"], row["password_epoch"]),
            ).fetchone()
            if existing is not None and existing["status"] == "disabled":
                raise ValidationError(
                    "password",
                    "This Basic token is disabled. An administrator can enable it in "
                    "Token List; a new password gives a new token.",
                )
            # The log names who did it: the signed-in user, who may have typed another's
            # password (and then it says whose token it was).
            who = actor.username if actor is not None else row["username"]
            whose = "" if who == row["username"] else f" of {row['username']!r}"
            if existing is not None:
                jti, created = existing["jti"], existing["created_at"]
                self._audit(conn, "token_generated", who, f"Basic token{whose} shown again", source)
            else:
                import secrets  # lazily: it loads OpenSSL's hashlib

                jti, created = secrets.token_urlsafe(16), now
                conn.execute(
                    "INSERT INTO tokens (jti, name, name_key, kind, user_id, created_at, "
                    "expires_at, fingerprint, password_epoch) "
                    "VALUES (?, ?, ?, 'basic', ?, ?, NULL, NULL, ?)",
                    (jti, name, validation.name_key(name), row["id"], now, row["password_epoch"]),
                )
                self._audit(conn, "token_generated", who, f"Basic token{whose}", source)
        # No fingerprint for Basic: a plain hash of user:password would be a fast,
        # unsalted password hash at rest.
        return IssuedToken("basic", name, row["username"], header_value, created, None, jti, None)

    # -- the Token List -----------------------------------------------------------------

    def list_tokens(
        self,
        actor: User,
        *,
        search: str = "",
        status: str | None = None,
        all_users: bool = True,
        sort: str = "created",
        descending: bool = True,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[TokenRecord]:
        """A page of the tokens ``actor`` may see: their own, or everyone's for an admin.

        ``search`` matches name, username, type and status (case-insensitive);
        ``status`` is one of :data:`STATUSES`. Deleted tokens are not listed.
        """
        if sort not in SORTS:
            raise ValidationError("sort", f"Sort by one of: {', '.join(SORTS)}.")
        if status is not None and status.lower() not in STATUSES:
            raise ValidationError("status", f"The status must be one of {', '.join(STATUSES)}.")
        actor = self._require_active(actor)
        where = ["t.status != 'deleted'"]
        params: dict = {"now": self.now()}
        needs_users = False  # the count joins users only when a condition needs them
        if not (actor.is_admin and all_users):
            where.append("t.user_id = :uid")
            params["uid"] = actor.id
        if status is not None:
            where.append(f"{_STATUS_SQL} = :status")
            params["status"] = status.capitalize()
            needs_users = True
        text = searchable(search)
        if text:
            # Decided here, once, rather than per row: which kinds of match can apply.
            params["like"] = like_pattern(validation.name_key(text))
            matches = [
                "t.name_key LIKE :like ESCAPE '\\'",
                "t.user_id IN (SELECT id FROM users WHERE username_key LIKE :like ESCAPE '\\')",
            ]
            word = text.casefold()
            if word in STATUSES:
                params["word_status"] = word.capitalize()
                matches.append(f"{_STATUS_SQL} = :word_status")
                needs_users = True
            if word in ("jwt", "basic"):
                params["word_kind"] = word
                matches.append("t.kind = :word_kind")
            where.append(f"({' OR '.join(matches)})")
        where_sql = " AND ".join(where)
        joined = f"FROM tokens t JOIN users u ON u.id = t.user_id WHERE {where_sql}"
        direction = "DESC" if descending else "ASC"
        counted = joined if needs_users else f"FROM tokens t WHERE {where_sql}"
        rows, total = self.store.read_page(
            f"SELECT t.id, t.jti, t.name, t.kind, u.username, t.created_at, t.expires_at, "
            f"{_STATUS_SQL} AS status_label, t.fingerprint {joined} "
            f"ORDER BY {SORTS[sort]} {direction}, t.id {direction} "
            "LIMIT :limit OFFSET :offset",
            f"SELECT count(*) {counted}",
            params,
            limit=limit,
            offset=offset,
        )
        records = [
            TokenRecord(
                id=r["id"],
                jti=r["jti"],
                name=r["name"],
                kind=r["kind"],
                username=r["username"],
                created_at=r["created_at"],
                expires_at=r["expires_at"],
                status=r["status_label"],
                fingerprint=r["fingerprint"],
            )
            for r in rows
        ]
        return Page(records, total, max(0, offset))

    def find_tokens(self, actor: User, name: str, owner: str | None = None) -> list[int]:
        """Ids of the live tokens named ``name`` of ``owner`` (default: the actor)."""
        if not validation.is_text(name) or (owner is not None and not validation.is_text(owner)):
            raise ValidationError("name", "The name is not valid text.")
        if (
            owner
            and not actor.is_admin
            and not validation.name_key(owner.strip()) == (validation.name_key(actor.username))
        ):
            # Checked before the lookup, so it tells nothing about other users' tokens.
            raise PermissionDenied("Only administrators can act on other users' tokens.")
        owner_row = self._find_user(owner) if owner else None
        if owner and owner_row is None:
            raise ValidationError("owner", f"No user named {inert(owner)!r}.")
        owner_id = owner_row["id"] if owner_row else actor.id
        rows = self.store.read(
            "SELECT id FROM tokens WHERE user_id = ? AND name_key = ? AND status != 'deleted'",
            (owner_id, validation.name_key(name.strip())),
        )
        if not rows:
            whose = f"{owner_row['username']!r} has" if owner_row else "You have"
            raise ValidationError("name", f"{whose} no token named {inert(name)!r}.")
        return [row["id"] for row in rows]

    def _token_for_change(self, conn, actor: User, token_id: int):
        row = conn.execute(
            "SELECT t.id, t.name, t.kind, t.status, t.user_id, t.disabled_by_admin, "
            "u.username, u.removed_at, k.retired_at AS key_retired_at FROM tokens t "
            "LEFT JOIN signing_keys k ON k.kid = t.kid "
            "JOIN users u ON u.id = t.user_id WHERE t.id = ? AND t.status != 'deleted'",
            (token_id,),
        ).fetchone()
        if row is None:
            raise ValidationError("token", "That token no longer exists.")
        if row["user_id"] != actor.id and not actor.is_admin:
            raise PermissionDenied("You can only change your own tokens.")
        return row

    def set_token_enabled(
        self, actor: User, token_id: int, enabled: bool, *, source: str = "tui"
    ) -> str:
        """Disable or enable a token; returns its new status word."""
        new = "active" if enabled else "disabled"
        actor = self._require_active(actor)
        with self.store.transaction() as conn:
            row = self._token_for_change(conn, actor, token_id)
            if enabled and row["removed_at"] is not None:
                raise ValidationError(
                    "token", f"{row['username']!r} was removed; their tokens stay disabled."
                )
            if enabled and row["key_retired_at"] is not None:
                raise ValidationError(
                    "token", "The key that signed this token was retired; it cannot verify again."
                )
            if enabled and row["disabled_by_admin"] and not actor.is_admin:
                raise PermissionDenied(
                    "An administrator disabled this token; only an administrator can enable it."
                )
            if row["status"] != new:
                by_admin = int(not enabled and actor.is_admin and actor.id != row["user_id"])
                conn.execute(
                    "UPDATE tokens SET status = ?, status_changed_at = ?, disabled_by_admin = ? "
                    "WHERE id = ?",
                    (new, self.now(), by_admin, token_id),
                )
                event = "token_enabled" if enabled else "token_disabled"
                self._audit(
                    conn,
                    event,
                    actor.username,
                    f"Token {row['name']!r} of {row['username']!r} "
                    f"{'enabled' if enabled else 'disabled'}",
                    source,
                )
        return new

    def delete_token(self, actor: User, token_id: int, *, source: str = "tui") -> None:
        """Delete a token: it stops verifying at once and leaves the list; its name is free."""
        actor = self._require_active(actor)
        with self.store.transaction() as conn:
            row = self._token_for_change(conn, actor, token_id)
            if row["disabled_by_admin"] and not actor.is_admin:
                # Deleting it would free its owner to make the same Basic token again.
                raise PermissionDenied(
                    "An administrator disabled this token; only an administrator can delete it."
                )
            conn.execute(
                "UPDATE tokens SET status = 'deleted', status_changed_at = ? WHERE id = ?",
                (self.now(), token_id),
            )
            self._audit(
                conn,
                "token_deleted",
                actor.username,
                f"Token {row['name']!r} of {row['username']!r} deleted",
                source,
            )
