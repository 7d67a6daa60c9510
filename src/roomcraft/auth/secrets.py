"""Opaque tokens: random, shown to their holder once, stored only as SHA-256 digests."""

import hashlib
import hmac
import secrets
from uuid import UUID

SESSION_COOKIE = "rc_session"
API_TOKEN_PREFIX = "rc_"  # noqa: S105 (a marker, not a secret)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def csrf_token(signing_key: bytes, session_id: UUID) -> str:
    """The CSRF token of a session: derived, so it needs no storage and dies with the session."""
    return hmac.new(signing_key, b"csrf:" + session_id.bytes, hashlib.sha256).hexdigest()


def csrf_matches(signing_key: bytes, session_id: UUID, candidate: str | None) -> bool:
    if not candidate:
        return False
    return hmac.compare_digest(csrf_token(signing_key, session_id), candidate)
