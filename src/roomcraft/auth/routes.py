"""`/api/v1/auth/*` and `/api/v1/tokens`: sign-up, sign-in, magic links, sign-out, API tokens."""

from dataclasses import asdict
from uuid import UUID

from fastapi import APIRouter, Response

from roomcraft.api.deps import (
    ClientDep,
    CurrentUser,
    PasswordsDep,
    ServiceConn,
    SettingsDep,
    UserConn,
)
from roomcraft.api.responses import errors
from roomcraft.auth import service as auth_service
from roomcraft.auth.deps import Limiter, clear_session_cookie, set_session_cookie
from roomcraft.auth.schemas import (
    MagicLinkRequest,
    MagicLinkSent,
    SessionRead,
    SignedOut,
    SignInRequest,
    SignUpRequest,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenRead,
    TokenRevoked,
    UserRef,
)
from roomcraft.auth.secrets import csrf_token
from roomcraft.auth.service import NewSession
from roomcraft.config import Settings
from roomcraft.kit.envelope import Envelope, ok

router = APIRouter(tags=["auth"])


def _session_read(settings: Settings, session: NewSession) -> SessionRead:
    return SessionRead(
        user=UserRef(id=session.user_id, email=session.email),
        csrf_token=csrf_token(settings.signing_key, session.session_id),
    )


@router.post("/auth/signup", responses=errors(400, 409, 429))
async def sign_up(
    body: SignUpRequest,
    response: Response,
    conn: ServiceConn,
    settings: SettingsDep,
    passwords: PasswordsDep,
    client: ClientDep,
    limiter: Limiter,
) -> Envelope[SessionRead]:
    """Create an account with email and password, and sign in."""
    await limiter.hit("signup", body.email)
    session = await auth_service.sign_up(
        conn, settings, passwords, email=body.email, password=body.password, client=client
    )
    set_session_cookie(response, settings, session.token)
    return ok(_session_read(settings, session))


@router.post("/auth/signin", responses=errors(400, 401, 429))
async def sign_in(
    body: SignInRequest,
    response: Response,
    conn: ServiceConn,
    settings: SettingsDep,
    passwords: PasswordsDep,
    client: ClientDep,
    limiter: Limiter,
) -> Envelope[SessionRead]:
    """Sign in with email and password."""
    await limiter.hit("signin", body.email)
    session = await auth_service.sign_in(
        conn, settings, passwords, email=body.email, password=body.password, client=client
    )
    set_session_cookie(response, settings, session.token)
    return ok(_session_read(settings, session))


@router.post("/auth/magic-link", responses=errors(400, 429))
async def magic_link(
    body: MagicLinkRequest, conn: ServiceConn, settings: SettingsDep, limiter: Limiter
) -> Envelope[MagicLinkSent]:
    """Mail a single-use sign-in link (the answer is the same whether or not the account exists)."""
    await limiter.hit("magic-link", body.email)
    await auth_service.request_magic_link(conn, settings, email=body.email)
    return ok(MagicLinkSent())


@router.post("/auth/signout", responses=errors(401, 403))
async def sign_out(
    identity: CurrentUser, response: Response, conn: ServiceConn, settings: SettingsDep
) -> Envelope[SignedOut]:
    """End this session."""
    ended = 0
    if identity.session_id is not None:
        await auth_service.sign_out(conn, session_id=identity.session_id)
        ended = 1
    clear_session_cookie(response, settings)
    return ok(SignedOut(sessions_ended=ended))


@router.post("/auth/signout-all", responses=errors(401, 403))
async def sign_out_all(
    identity: CurrentUser, response: Response, conn: ServiceConn, settings: SettingsDep
) -> Envelope[SignedOut]:
    """End every session of this account, on every device."""
    ended = await auth_service.sign_out_everywhere(conn, user_id=identity.user_id)
    clear_session_cookie(response, settings)
    return ok(SignedOut(sessions_ended=ended))


@router.post("/tokens", responses=errors(400, 401, 403))
async def create_token(
    body: TokenCreate, identity: CurrentUser, conn: UserConn
) -> Envelope[TokenCreated]:
    """Create an API token. The token is in this response only: it is never shown again."""
    row, token = await auth_service.create_api_token(conn, user_id=identity.user_id, name=body.name)
    return ok(TokenCreated.model_validate({**asdict(row), "token": token}))


@router.get("/tokens", responses=errors(401))
async def list_tokens(identity: CurrentUser, conn: UserConn) -> Envelope[TokenList]:
    """The live API tokens of this account (their prefixes, never the tokens)."""
    rows = await auth_service.list_api_tokens(conn, user_id=identity.user_id)
    tokens = [TokenRead.model_validate(row, from_attributes=True) for row in rows]
    return ok(TokenList(tokens=tokens))


@router.delete("/tokens/{token_id}", responses=errors(401, 403, 404))
async def revoke_token(
    token_id: UUID, identity: CurrentUser, conn: UserConn
) -> Envelope[TokenRevoked]:
    """Revoke an API token: requests that carry it are refused from now on."""
    await auth_service.revoke_api_token(conn, user_id=identity.user_id, token_id=token_id)
    return ok(TokenRevoked())
