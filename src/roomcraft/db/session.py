"""Units of work with an identity: the one way the app talks to the database.

A unit of work is one transaction. `as_user` switches the transaction's role to `authenticated` and
sets the JWT-style claim that `auth.uid()` reads, exactly as PostgREST does, so row-level security
applies even though the pool may connect as a superuser. `as_service` runs as `service_role`,
which bypasses RLS: the worker, verified webhooks and the auth machinery use it. `as_anon` is for
public reads. Settings are transaction-local (`set_config(..., true)`), so nothing leaks back into
the pool.
"""

import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from roomcraft.db.pool import Pool

Conn = AsyncConnection[DictRow]

_SET_IDENTITY = """
select set_config('role', %(role)s, true),
       set_config('request.jwt.claim.sub', %(sub)s, true),
       set_config('request.jwt.claim.role', %(role)s, true),
       set_config('request.jwt.claims', %(claims)s, true)
"""


async def set_identity(conn: Conn, *, role: str, user_id: UUID | None = None) -> None:
    """Switch the current transaction to `role`, acting for `user_id` when given."""
    sub = str(user_id) if user_id else ""
    claims = json.dumps({"sub": sub, "role": role} if user_id else {"role": role})
    await conn.execute(_SET_IDENTITY, {"role": role, "sub": sub, "claims": claims})


@asynccontextmanager
async def _unit(pool: Pool, *, role: str, user_id: UUID | None = None) -> AsyncIterator[Conn]:
    async with pool.connection() as conn, conn.transaction():
        await set_identity(conn, role=role, user_id=user_id)
        yield conn


def as_user(pool: Pool, user_id: UUID) -> AbstractAsyncContextManager[Conn]:
    """A transaction acting for `user_id`: role `authenticated`, RLS applies."""
    return _unit(pool, role="authenticated", user_id=user_id)


def as_service(pool: Pool) -> AbstractAsyncContextManager[Conn]:
    """A transaction as `service_role`: bypasses RLS; for the worker, webhooks and auth."""
    return _unit(pool, role="service_role")


def as_anon(pool: Pool) -> AbstractAsyncContextManager[Conn]:
    """A transaction as `anon`: only what is public is visible."""
    return _unit(pool, role="anon")
