"""OpenAPI declarations of the error envelope, so every route documents what it can answer."""

from typing import Any

from roomcraft.kit.envelope import ErrorEnvelope

_DESCRIPTIONS = {
    400: "VALIDATION_ERROR: the request is not valid",
    401: "UNAUTHORIZED: sign in or send a valid API token",
    402: "NO_CREDITS: no generations left this month",
    403: "FORBIDDEN: not allowed, or the CSRF token is missing",
    404: "NOT_FOUND: no such resource visible to the caller",
    409: "CONFLICT or GENERATION_IN_FLIGHT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED: retry after the `Retry-After` header's seconds",
    503: "PROVIDER_UNAVAILABLE",
}


def errors(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that may fail with these statuses."""
    return {
        code: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[code]} for code in status_codes
    }
