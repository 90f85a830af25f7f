"""Signing keys: made on first use, rotated, retired, and exported as a JWK Set.

HMAC keys (HS256/384/512) are random bytes at least as long as the hash. Asymmetric keys
(RS256, ES256, EdDSA) are made with ``cryptography`` and stored as unencrypted PKCS#8 PEM
in the 0600 database; only their public half is ever exported.
"""

from __future__ import annotations

from .errors import PermissionDenied, ValidationError

#: An HMAC key must be at least as long as the hash (RFC 7518 §3.2); PyJWT warns below.
KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
ASYMMETRIC = ("RS256", "ES256", "EdDSA")


def key_bytes(algorithm: str) -> int:
    return KEY_BYTES.get(algorithm, 64)


def is_hmac(algorithm: str) -> bool:
    return algorithm in KEY_BYTES


def _new_secret(algorithm: str) -> bytes:
    if is_hmac(algorithm):
        import secrets  # lazily: it loads OpenSSL's hashlib

        return secrets.token_bytes(key_bytes(algorithm))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValidationError("algorithm", f"Unknown algorithm {algorithm!r}.")
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_key(secret: bytes):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(secret, password=None).public_key()


def _jwk(algorithm: str, kid: str, secret: bytes, *, include_secret: bool) -> dict | None:
    from jwt import algorithms

    if is_hmac(algorithm):
        if not include_secret:
            return None
        jwk = algorithms.HMACAlgorithm.to_jwk(secret, as_dict=True)
    else:
        public = _public_key(secret)
        cls = {
            "RS256": algorithms.RSAAlgorithm,
            "ES256": algorithms.ECAlgorithm,
            "EdDSA": algorithms.OKPAlgorithm,
        }[algorithm]
        jwk = cls.to_jwk(public, as_dict=True)
    jwk.update({"kid": kid, "alg": algorithm, "use": "sig"})
    return jwk


class KeysMixin:
    def current_key(self) -> tuple[str, bytes]:
        """The key that signs new tokens, created on first use: ``(kid, secret)``."""
        algorithm = self.config.algorithm
        query = (
            "SELECT kid, secret FROM signing_keys WHERE is_current = 1 AND algorithm = ? "
            "AND retired_at IS NULL"
        )
        rows = self.store.read(query, (algorithm,))
        if rows:
            return rows[0]["kid"], bytes(rows[0]["secret"])
        with self.store.transaction() as conn:
            row = conn.execute(query, (algorithm,)).fetchone()
            if row:  # another thread or process made it meanwhile
                return row["kid"], bytes(row["secret"])
            return self._insert_key(conn, algorithm, "service")

    def _insert_key(self, conn, algorithm: str, source: str) -> tuple[str, bytes]:
        import secrets  # lazily: it loads OpenSSL's hashlib

        kid = secrets.token_hex(8)
        secret = _new_secret(algorithm)
        conn.execute("UPDATE signing_keys SET is_current = 0")
        conn.execute(
            "INSERT INTO signing_keys (kid, algorithm, secret, created_at, is_current) "
            "VALUES (?, ?, ?, ?, 1)",
            (kid, algorithm, secret, self.now()),
        )
        self._audit(conn, "key_created", None, f"Signing key {kid} ({algorithm}) created", source)
        return kid, secret

    def verification_key(self, kid, algorithm: str | None = None):
        """The key that checks tokens signed by ``kid``: HMAC bytes or a public key.

        None for an unknown, retired or malformed ``kid``, for a key of another algorithm
        than ``algorithm`` (default: the configured one), or a too-short HMAC key.
        """
        if not isinstance(kid, str) or not kid or len(kid) > 64:
            return None
        algorithm = algorithm or self.config.algorithm
        rows = self.store.read(
            "SELECT algorithm, secret FROM signing_keys WHERE kid = ? AND retired_at IS NULL",
            (kid,),
        )
        if not rows or rows[0]["algorithm"] != algorithm:
            return None
        secret = bytes(rows[0]["secret"])
        if is_hmac(algorithm):
            return secret if len(secret) >= key_bytes(algorithm) else None
        return _public_key(secret)

    def key_state(self, kid) -> str | None:
        """ "retired", "active" or None (unknown) — to explain a refused token."""
        if not isinstance(kid, str) or len(kid) > 64:
            return None
        rows = self.store.read("SELECT retired_at FROM signing_keys WHERE kid = ?", (kid,))
        if not rows:
            return None
        return "retired" if rows[0]["retired_at"] is not None else "active"

    def list_keys(self) -> list[dict]:
        rows = self.store.read(
            "SELECT kid, algorithm, created_at, retired_at, is_current FROM signing_keys "
            "ORDER BY created_at, kid"
        )
        return [
            {
                "kid": r["kid"],
                "algorithm": r["algorithm"],
                "created_at": r["created_at"],
                "retired_at": r["retired_at"],
                "current": bool(r["is_current"]),
            }
            for r in rows
        ]

    def rotate_key(self, actor, *, source: str = "cli") -> str:
        """A new current key; older keys keep verifying their tokens until retired."""
        self._require_admin(actor, "rotate signing keys")
        with self.store.transaction() as conn:
            kid, _ = self._insert_key(conn, self.config.algorithm, source)
            self._audit(
                conn, "key_rotated", actor.username, f"Signing key {kid} is current", source
            )
        return kid

    def check_key_retirement(self, actor, kid: str) -> int:
        """Why ``kid`` cannot be retired, raised, before anyone is asked to confirm; else
        how many active tokens it signed (they stop verifying). ``retire_key`` checks again."""
        self._require_admin(actor, "retire signing keys")
        self._refuse_retirement(self.store.read, kid)
        rows = self.store.read(
            "SELECT count(*) FROM tokens WHERE kid = ? AND status = 'active'", (kid,)
        )
        return rows[0][0]

    @staticmethod
    def _refuse_retirement(read, kid) -> None:
        if not isinstance(kid, str) or not kid.isascii() or not kid.isprintable():
            raise ValidationError("kid", "No signing key has that kid.")
        rows = read("SELECT is_current, retired_at FROM signing_keys WHERE kid = ?", (kid,))
        if not rows:
            raise ValidationError("kid", "No signing key has that kid.")
        if rows[0]["retired_at"] is not None:
            raise ValidationError("kid", f"Key {kid} is already retired.")
        if rows[0]["is_current"]:
            raise ValidationError(
                "kid", f"Key {kid} is the current key: rotate first, then retire it."
            )

    def retire_key(self, actor, kid: str, *, source: str = "cli") -> int:
        """Retire a key: tokens it signed stop verifying, and are listed Retired. The
        current key cannot be retired. Returns how many active tokens it disabled."""
        self._require_admin(actor, "retire signing keys")
        with self.store.transaction() as conn:
            self._refuse_retirement(self.store.reader(conn), kid)
            now = self.now()
            conn.execute("UPDATE signing_keys SET retired_at = ? WHERE kid = ?", (now, kid))
            # Its tokens can never verify again: the Token List says so, not "Active".
            disabled = conn.execute(
                "UPDATE tokens SET status = 'disabled', status_changed_at = ?, "
                "disabled_by_admin = 1 WHERE kid = ? AND status = 'active'",
                (now, kid),
            ).rowcount
            self._audit(
                conn,
                "key_retired",
                actor.username,
                f"Signing key {kid} retired; {disabled} token(s) it signed disabled",
                source,
            )
        return disabled

    def jwks(self, *, include_secret: bool = False, actor=None) -> dict:
        """The JWK Set of the keys that still verify. HMAC keys are secrets: they are
        left out unless ``include_secret`` is asked for, by an administrator."""
        if include_secret:
            if actor is None:
                raise PermissionDenied("Only administrators can export secret keys.")
            self._require_admin(actor, "export secret keys")
        self.current_key()
        rows = self.store.read(
            "SELECT kid, algorithm, secret FROM signing_keys WHERE retired_at IS NULL "
            "ORDER BY created_at, kid"
        )
        keys = []
        for r in rows:
            jwk = _jwk(r["algorithm"], r["kid"], bytes(r["secret"]), include_secret=include_secret)
            if jwk is not None:
                keys.append(jwk)
        return {"keys": keys}
