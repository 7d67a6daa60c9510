"""Signed links to private files in local mode: an HMAC-SHA256 over the path and the expiry.

S3 storage signs with the service's own scheme (presigned URLs); this is what stands in for it when
files are served by the app itself (`GET /files/private/{path}?expires=…&signature=…`).
"""

import hashlib
import hmac
from urllib.parse import urlencode

# Domain separation: the signing key also derives CSRF tokens; no signature here can be one of them.
_LABEL = b"storage.private:"


def signature(key: bytes, *, path: str, expires: int) -> str:
    """The hex signature that lets anyone read `path` until `expires` (Unix seconds)."""
    message = _LABEL + path.encode() + b"\n" + str(expires).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_query(key: bytes, *, path: str, expires: int) -> str:
    """The query string of a signed link: `expires=…&signature=…`."""
    return urlencode({"expires": expires, "signature": signature(key, path=path, expires=expires)})


def is_valid(key: bytes, *, path: str, expires: str, signature_hex: str, now: float) -> bool:
    """Whether a link's `expires` and `signature` were made by us for `path` and are still valid."""
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return False
    if int(expires) < now:
        return False
    expected = signature(key, path=path, expires=int(expires))
    return hmac.compare_digest(expected.encode(), signature_hex.encode("utf-8", "replace"))
