"""Sign-in pages: password, magic link, Google, sign-out, and the development outbox.

Forms post here and work without JavaScript. A failed attempt re-renders its form with the
message; its unit of work is rolled back because the error leaves the `as_service` block.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
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
from roomcraft.auth.deps import (
    AttemptLimiter,
    Limiter,
    clear_session_cookie,
    set_session_cookie,
)
from roomcraft.auth.passwords import Passwords
from roomcraft.auth.schemas import NormalizedEmail
from roomcraft.config import Settings
from roomcraft.db.pool import Pool
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


OpenSession = Callable[..., Awaitable[auth_service.NewSession]]


@dataclass(frozen=True)
class PasswordForm:
    """What the sign-in and sign-up forms share: a failed attempt re-renders its own form."""

    request: Request
    templates: Templates
    settings: Settings
    passwords: Passwords
    pool: Pool
    client: auth_service.Client
    limiter: AttemptLimiter

    async def submit(
        self, action: str, open_session: OpenSession, *, email: str, password: str, next: str
    ) -> Response:
        next_path = safe_next(next)
        try:
            normalized = _parse_email(email)
            if action == "signup" and len(password) < MIN_PASSWORD_LENGTH:
                raise ValidationFailed("Choose a password of at least 8 characters.")
            await self.limiter.hit(action, normalized)
            async with as_service(self.pool) as conn:
                session = await open_session(
                    conn,
                    self.settings,
                    self.passwords,
                    email=normalized,
                    password=password,
                    client=self.client,
                )
        except AppError as error:
            return _form_page(
                self.request,
                self.templates,
                self.settings,
                f"auth/{action}.html",
                email=email,
                next_path=next_path,
                error=error.message,
                status_code=error.status_code,
            )
        return _signed_in(self.settings, session, next_path)


def get_password_form(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    pool: PoolDep,
    client: ClientDep,
    limiter: Limiter,
) -> PasswordForm:
    return PasswordForm(request, templates, settings, passwords, pool, client, limiter)


PasswordFormDep = Annotated[PasswordForm, Depends(get_password_form)]


@router.post("/signin")
async def signin_submit(
    form: PasswordFormDep,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "/dashboard",
) -> Response:
    return await form.submit(
        "signin", auth_service.sign_in, email=email, password=password, next=next
    )


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
    form: PasswordFormDep,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "/dashboard",
) -> Response:
    return await form.submit(
        "signup", auth_service.sign_up, email=email, password=password, next=next
    )


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
