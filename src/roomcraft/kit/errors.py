"""The one error tree of the application.

Every expected failure is an `AppError`; one handler turns it into the normalized envelope
`{"success": false, "error": {"code", "message", "details"?}}`. The class docstring is the default
message a user reads.
"""

from typing import Any, ClassVar


class AppError(Exception):
    """Something went wrong."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    status_code: ClassVar[int] = 500

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.details = details
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        return {}


class ValidationFailed(AppError):
    """The request is not valid."""

    code = "VALIDATION_ERROR"
    status_code = 400


class Unauthorized(AppError):
    """Please sign in."""

    code = "UNAUTHORIZED"
    status_code = 401


class NoCredits(AppError):
    """You have used all your generations for this month. Upgrade or wait for the reset."""

    code = "NO_CREDITS"
    status_code = 402


class Forbidden(AppError):
    """You are not allowed to do that."""

    code = "FORBIDDEN"
    status_code = 403


class NotFound(AppError):
    """Not found."""

    code = "NOT_FOUND"
    status_code = 404


class MethodNotAllowed(AppError):
    """This method is not allowed here."""

    code = "METHOD_NOT_ALLOWED"
    status_code = 405


class GenerationInFlight(AppError):
    """Please wait until the current generation completes."""

    code = "GENERATION_IN_FLIGHT"
    status_code = 409


class Conflict(AppError):
    """This conflicts with the current state."""

    code = "CONFLICT"
    status_code = 409


class PayloadTooLarge(AppError):
    """The request body is too large."""

    code = "PAYLOAD_TOO_LARGE"
    status_code = 413


class UnsupportedMediaType(AppError):
    """This file type is not supported."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    status_code = 415


class RateLimited(AppError):
    """Too many attempts. Please wait a moment and try again."""

    code = "RATE_LIMITED"
    status_code = 429

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ProviderUnavailable(AppError):
    """The image provider is unavailable right now. Please try again shortly."""

    code = "PROVIDER_UNAVAILABLE"
    status_code = 503


class InternalError(AppError):
    """Something went wrong on our side. Please try again."""

    code = "INTERNAL_ERROR"
    status_code = 500
