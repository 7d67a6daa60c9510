"""Sign-in pages: password, magic link, Google, sign-out, and the development outbox.

Forms post here and work without JavaScript. A failed attempt re-renders its form with the
message; its unit of work is rolled back because the error leaves the `as_service` block.
"""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from roomcraft.api.deps import (
    ClientDep,
    CurrentUser,
    OptionalIdentity,
    PasswordsDep,
    PoolDep,
    ServiceConn,
    SettingsDep,
)
from roomcraft.auth import service as auth_service
from roomcraft.auth.deps import Limiter, clear_session_cookie, set_session_cookie
from roomcraft.auth.schemas import NormalizedEmail
from roomcraft.config import Settings
from roomcraft.db.session import as_service
from roomcraft.kit.errors import AppError, NotFound, ValidationFailed
from roomcraft.web.deps import TemplatesDep, safe_next
from roomcraft.web.templating import Templates

router = APIRouter(include_in_schema=False)

_email = TypeAdapter(NormalizedEmail)
MIN_PASSWORD_LENGTH = 8
FormText = Annotated[str, Form()]


def _parse_email(raw: str) -> str:
    try:
        return _email.validate_python(raw)
    except ValidationError as exc:
        raise ValidationFailed("Please enter a valid email address.") from exc


def _signed_in(settings: Settings, session: auth_service.NewSession, next_path: str) -> Response:
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, settings, session.token)
    return response


def _form_page(
    request: Request,
    templates: Templates,
    settings: Settings,
    name: str,
    *,
    email: str,
    next_path: str,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "email": email,
        "error": error,
        "notice": notice,
        "next": next_path,
        "google_enabled": settings.google_enabled,
    }
    return templates.render(request, name, context, status_code=status_code)


@router.get("/signin")
async def signin_page(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    identity: OptionalIdentity,
    next: str = "/dashboard",
    error: str | None = None,
) -> Response:
    if identity is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form_page(
        request,
        templates,
        settings,
        "auth/signin.html",
        email="",
        next_path=safe_next(next),
        error=error,
    )


@router.post("/signin")
async def signin_submit(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    pool: PoolDep,
    client: ClientDep,
    limiter: Limiter,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "/dashboard",
) -> Response:
    next_path = safe_next(next)
    try:
        normalized = _parse_email(email)
        await limiter.hit("signin", normalized)
        async with as_service(pool) as conn:
            session = await auth_service.sign_in(
                conn, settings, passwords, email=normalized, password=password, client=client
            )
    except AppError as error:
        return _form_page(
            request,
            templates,
            settings,
            "auth/signin.html",
            email=email,
            next_path=next_path,
            error=error.message,
            status_code=error.status_code,
        )
    return _signed_in(settings, session, next_path)


@router.get("/signup")
async def signup_page(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    identity: OptionalIdentity,
    next: str = "/dashboard",
) -> Response:
    if identity is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form_page(
        request, templates, settings, "auth/signup.html", email="", next_path=safe_next(next)
    )


@router.post("/signup")
async def signup_submit(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    pool: PoolDep,
    client: ClientDep,
    limiter: Limiter,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "/dashboard",
) -> Response:
    next_path = safe_next(next)
    try:
        normalized = _parse_email(email)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationFailed("Choose a password of at least 8 characters.")
        await limiter.hit("signup", normalized)
        async with as_service(pool) as conn:
            session = await auth_service.sign_up(
                conn, settings, passwords, email=normalized, password=password, client=client
            )
    except AppError as error:
        return _form_page(
            request,
            templates,
            settings,
            "auth/signup.html",
            email=email,
            next_path=next_path,
            error=error.message,
            status_code=error.status_code,
        )
    return _signed_in(settings, session, next_path)


@router.post("/magic-link")
async def magic_link_submit(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    pool: PoolDep,
    limiter: Limiter,
    email: FormText = "",
    next: FormText = "/dashboard",
) -> Response:
    next_path = safe_next(next)
    try:
        normalized = _parse_email(email)
        await limiter.hit("magic-link", normalized)
        async with as_service(pool) as conn:
            await auth_service.request_magic_link(
                conn, settings, email=normalized, next_path=next_path
            )
    except AppError as error:
        return _form_page(
            request,
            templates,
            settings,
            "auth/signin.html",
            email=email,
            next_path=next_path,
            error=error.message,
            status_code=error.status_code,
        )
    return templates.render(request, "auth/magic_link_sent.html", {"email": normalized})


@router.get("/auth/callback")
async def magic_link_callback(
    settings: SettingsDep,
    pool: PoolDep,
    client: ClientDep,
    token: str = "",
    next: str = "/dashboard",
) -> Response:
    try:
        async with as_service(pool) as conn:
            session = await auth_service.complete_magic_link(
                conn, settings, token=token, client=client
            )
    except AppError as error:
        query = urlencode({"error": error.message})
        return RedirectResponse(f"/signin?{query}", status_code=303)
    return _signed_in(settings, session, safe_next(next))


@router.post("/signout")
async def signout(identity: CurrentUser, conn: ServiceConn, settings: SettingsDep) -> Response:
    if identity.session_id is not None:
        await auth_service.sign_out(conn, session_id=identity.session_id)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, settings)
    return response


@router.get("/dev/outbox")
async def dev_outbox(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    conn: ServiceConn,
    _: OptionalIdentity,
) -> Response:
    if settings.env == "production":
        raise NotFound("There is nothing at this address.")
    messages = await auth_service.list_outbox(conn)
    return templates.render(request, "auth/dev_outbox.html", {"messages": messages})
