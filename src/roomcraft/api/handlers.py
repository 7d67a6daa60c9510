"""One mapping from failures to responses: the JSON envelope for the API, a page for people."""

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from roomcraft.kit.errors import (
    AppError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
    ValidationFailed,
)

log = structlog.get_logger(__name__)

JSON_PREFIXES = ("/api/", "/webhooks/")


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PREFIXES) or request.url.path in {
        "/healthz",
        "/readyz",
    }


def envelope_response(error: AppError) -> JSONResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details is not None:
        body["details"] = error.details
    return JSONResponse(
        {"success": False, "error": body},
        status_code=error.status_code,
        headers={**error.headers(), "Cache-Control": "no-store"},
    )


def error_page(request: Request, error: AppError) -> Response:
    if isinstance(error, Unauthorized) and request.method in {"GET", "HEAD"}:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    templates = request.app.state.templates
    response: Response = templates.render(
        request,
        "errors/error.html",
        {"status_code": error.status_code, "title": _title(error), "message": error.message},
        status_code=error.status_code,
    )
    for name, value in error.headers().items():
        response.headers[name] = value
    return response


def _title(error: AppError) -> str:
    titles = {404: "Page not found", 403: "Not allowed", 429: "Slow down", 401: "Please sign in"}
    return titles.get(error.status_code, "Something went wrong")


def respond(request: Request, error: AppError) -> Response:
    return envelope_response(error) if wants_json(request) else error_page(request, error)


def flatten_validation(errors: Sequence[Any]) -> dict[str, Any]:
    """Pydantic's errors as `{formErrors: [...], fieldErrors: {field: [...]}}`."""
    form_errors: list[str] = []
    field_errors: dict[str, list[str]] = {}
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in {"body", "query"}]
        location = [part for part in location if part not in {"path", "header", "cookie"}]
        message = str(error.get("msg", "Invalid value")).removeprefix("Value error, ")
        if location:
            field_errors.setdefault(".".join(location), []).append(message)
        else:
            form_errors.append(message)
    return {"formErrors": form_errors, "fieldErrors": field_errors}


async def _on_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return respond(request, exc)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return respond(request, ValidationFailed("The request body is not valid JSON."))
    error = ValidationFailed(details=flatten_validation(errors))
    return respond(request, error)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: AppError
    if exc.status_code == 404:
        error = NotFound("There is nothing at this address.")
    elif exc.status_code == 405:
        error = MethodNotAllowed()
    else:
        error = InternalError()
    response = respond(request, error)
    if exc.status_code == 405 and exc.headers:
        response.headers["Allow"] = exc.headers.get("Allow", "")
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _on_app_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
