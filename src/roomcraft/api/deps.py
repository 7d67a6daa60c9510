"""Request dependencies: settings, the pool, who is asking, and their unit of work.

The unit of work is owned here, at the edge: `UserConn` opens one transaction as the caller
(role `authenticated`, RLS applies), commits when the route returns and rolls back when it raises,
before the response is sent (`scope="function"`).
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from roomcraft.auth import service as auth_service
from roomcraft.auth.errors import CsrfFailed
from roomcraft.auth.passwords import Passwords
from roomcraft.auth.secrets import SESSION_COOKIE, csrf_matches
from roomcraft.auth.service import Client, Identity
from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import Conn, as_anon, as_service, as_user
from roomcraft.kit.errors import Forbidden, Unauthorized
from roomcraft.runtime import Runtime

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
URLENCODED = "application/x-www-form-urlencoded"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_pool(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[Pool, Depends(get_pool)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_client(request: Request) -> Client:
    return Client(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


ClientDep = Annotated[Client, Depends(get_client)]


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def _check_csrf(request: Request, settings: Settings, identity: Identity) -> None:
    assert identity.session_id is not None
    candidate = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    # Only a plain form is read for its field: parsing a multipart body here would spool any
    # file to disk before the upload route's size cap. Multipart requests send the header.
    if candidate is None and content_type.startswith(URLENCODED):
        field = (await request.form()).get(CSRF_FIELD)
        candidate = field if isinstance(field, str) else None
    if not csrf_matches(settings.signing_key, identity.session_id, candidate):
        raise CsrfFailed


async def get_identity(request: Request, pool: PoolDep, settings: SettingsDep) -> Identity | None:
    """Who is asking: an API token (`Authorization: Bearer`) or the session cookie.

    Unsafe requests authenticated by the cookie must carry the session's CSRF token.
    """
    if hasattr(request.state, "identity"):
        cached: Identity | None = request.state.identity
        return cached
    identity: Identity | None = None
    bearer = _bearer_token(request)
    if bearer is not None:
        async with as_service(pool) as conn:
            identity = await auth_service.resolve_api_token(conn, token=bearer)
        if identity is None:
            raise Unauthorized("The API token is invalid or has been revoked.")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        async with as_service(pool) as conn:
            identity = await auth_service.resolve_session(conn, settings, token=cookie)
        if identity is not None and request.method not in SAFE_METHODS:
            await _check_csrf(request, settings, identity)
    request.state.identity = identity
    return identity


OptionalIdentity = Annotated[Identity | None, Depends(get_identity)]


async def require_identity(identity: OptionalIdentity) -> Identity:
    if identity is None:
        raise Unauthorized
    return identity


CurrentUser = Annotated[Identity, Depends(require_identity)]


async def require_admin(identity: CurrentUser) -> Identity:
    if not identity.is_admin:
        raise Forbidden("This area is for administrators.")
    return identity


AdminUser = Annotated[Identity, Depends(require_admin)]


async def user_conn(pool: PoolDep, identity: CurrentUser) -> AsyncIterator[Conn]:
    async with as_user(pool, identity.user_id) as conn:
        yield conn


async def service_conn(pool: PoolDep) -> AsyncIterator[Conn]:
    async with as_service(pool) as conn:
        yield conn


async def anon_conn(pool: PoolDep) -> AsyncIterator[Conn]:
    async with as_anon(pool) as conn:
        yield conn


UserConn = Annotated[Conn, Depends(user_conn, scope="function")]
ServiceConn = Annotated[Conn, Depends(service_conn, scope="function")]
AnonConn = Annotated[Conn, Depends(anon_conn, scope="function")]
