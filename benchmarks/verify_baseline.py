"""The floor for "CLI verify": a bare script that imports PyJWT and decodes a token.

    python verify_baseline.py KEY_HEX ALGORITHM ISSUER AUDIENCE < token

Reads ``Bearer <jwt>`` (or the bare JWT) from stdin, checks it with the same key,
algorithm, issuer and audience kopitui uses, prints a line and exits 0 (1 if invalid).
"""

import sys

import jwt


def main() -> int:
    key, algorithm = bytes.fromhex(sys.argv[1]), sys.argv[2]
    issuer, audience = sys.argv[3], sys.argv[4]
    token = sys.stdin.read().strip().removeprefix("Bearer ").strip()
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm], issuer=issuer, audience=audience)
    except jwt.InvalidTokenError as exc:
        print(f"Invalid: {exc}")
        return 1
    print(f"Valid: token {claims.get('unique_name')!r} of {claims.get('sub')!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
