"""Dependencies of the sign-in routes (API and pages)."""

from typing import Annotated

from fastapi import Depends, Response

from roomcraft.api.deps import ClientDep, PoolDep, SettingsDep
from roomcraft.auth import service as auth_service
from roomcraft.auth.secrets import SESSION_COOKIE
from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service


class AttemptLimiter:
    """Counts sign-in attempts in their own transaction, so a failed attempt still counts."""

    def __init__(self, pool: Pool, settings: Settings, client: auth_service.Client) -> None:
        self._pool = pool
        self._settings = settings
        self._client = client

    async def hit(self, action: str, email: str) -> None:
        async with as_service(self._pool) as conn:
            await auth_service.limit_attempts(
                conn, self._settings, action=action, ip=self._client.ip, email=email
            )


def get_limiter(pool: PoolDep, settings: SettingsDep, client: ClientDep) -> AttemptLimiter:
    return AttemptLimiter(pool, settings, client)


Limiter = Annotated[AttemptLimiter, Depends(get_limiter)]


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, secure=settings.secure_cookies, samesite="lax", path="/"
    )
