"""The units of work: each sets its role and claim for one transaction, and leaves nothing behind
on the pooled (superuser) connection."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg import errors

from roomcraft.db.pool import Pool, open_pool
from roomcraft.db.session import Conn, as_anon, as_service, as_user
from tests.factories import Account

Unit = Callable[[Pool], AbstractAsyncContextManager[Conn]]

_IDENTITY = """
select auth.uid() as uid,
       current_user as role,
       pg_backend_pid() as pid,
       current_setting('request.jwt.claim.sub', true) as sub,
       current_setting('request.jwt.claims', true) as claims
"""

ACTING_USER = UUID("00000000-0000-4000-8000-00000000000b")

UNITS = [
    pytest.param(lambda pool: as_user(pool, ACTING_USER), id="as_user"),
    pytest.param(as_service, id="as_service"),
    pytest.param(as_anon, id="as_anon"),
]


class Boom(Exception):
    """Raised by the application code inside a unit of work."""


async def identity(conn: Conn) -> dict[str, Any]:
    cur = await conn.execute(_IDENTITY)
    row = await cur.fetchone()
    assert row is not None
    return row


@pytest.fixture
async def single_pool(database_url: str) -> AsyncIterator[Pool]:
    """A pool of one connection: what a unit leaves behind, the next borrower gets."""
    pool = await open_pool(database_url, min_size=1, max_size=1)
    yield pool
    await pool.close()


class TestAsUser:
    async def test_auth_uid_is_the_acting_user(self, pool: Pool) -> None:
        user_id = uuid4()
        async with as_user(pool, user_id) as conn:
            seen = await identity(conn)
        assert (seen["uid"], seen["role"], seen["sub"]) == (user_id, "authenticated", str(user_id))

    async def test_role_is_not_a_superuser_and_cannot_bypass_rls(self, pool: Pool) -> None:
        async with as_user(pool, uuid4()) as conn:
            cur = await conn.execute(
                "select rolsuper, rolbypassrls from pg_roles where rolname = current_user"
            )
            role = await cur.fetchone()
        assert role == {"rolsuper": False, "rolbypassrls": False}

    async def test_sees_only_own_profile(
        self, pool: Pool, user: Account, other_user: Account
    ) -> None:
        async with as_user(pool, other_user.id) as conn:
            rows = await (await conn.execute("select id from public.profiles")).fetchall()
        assert rows == [{"id": other_user.id}]

    async def test_writes_are_committed_when_the_unit_ends(self, pool: Pool, user: Account) -> None:
        async with as_user(pool, user.id) as conn:
            await conn.execute(
                "insert into public.collections (owner_id, name) values (%s, 'Kept')", (user.id,)
            )
        async with as_service(pool) as conn:
            cur = await conn.execute(
                "select name from public.collections where owner_id = %s order by name",
                (user.id,),
            )
            names = [row["name"] for row in await cur.fetchall()]
        assert names == ["Kept", "My Favorites"]

    async def test_exception_inside_the_unit_rolls_back_its_writes(
        self, pool: Pool, user: Account
    ) -> None:
        async def write_then_fail() -> None:
            async with as_user(pool, user.id) as conn:
                await conn.execute(
                    "insert into public.collections (owner_id, name) values (%s, 'Doomed')",
                    (user.id,),
                )
                await conn.execute(
                    "update public.profiles set name = 'Doomed' where id = %s", (user.id,)
                )
                cur = await conn.execute("select count(*) as n from public.collections")
                assert await cur.fetchone() == {"n": 2}
                raise Boom

        with pytest.raises(Boom):
            await write_then_fail()
        async with as_service(pool) as conn:
            collections = await (
                await conn.execute(
                    "select name from public.collections where owner_id = %s", (user.id,)
                )
            ).fetchall()
            profile = await (
                await conn.execute("select name from public.profiles where id = %s", (user.id,))
            ).fetchone()
        assert collections == [{"name": "My Favorites"}]
        assert profile == {"name": None}

    async def test_concurrent_units_keep_their_own_identity(
        self, pool: Pool, user: Account, other_user: Account
    ) -> None:
        both_open = asyncio.Barrier(2)

        async def profiles_seen_by(user_id: UUID) -> tuple[UUID, list[UUID]]:
            async with as_user(pool, user_id) as conn:
                await both_open.wait()
                uid = (await identity(conn))["uid"]
                rows = await (await conn.execute("select id from public.profiles")).fetchall()
                return uid, [row["id"] for row in rows]

        seen = await asyncio.gather(profiles_seen_by(user.id), profiles_seen_by(other_user.id))
        assert seen == [(user.id, [user.id]), (other_user.id, [other_user.id])]


class TestAsService:
    async def test_auth_uid_is_null(self, pool: Pool) -> None:
        async with as_service(pool) as conn:
            seen = await identity(conn)
        assert (seen["uid"], seen["role"], seen["sub"]) == (None, "service_role", "")

    async def test_sees_every_users_rows(
        self, pool: Pool, user: Account, other_user: Account
    ) -> None:
        async with as_service(pool) as conn:
            rows = await (await conn.execute("select id from public.profiles")).fetchall()
        assert {row["id"] for row in rows} == {user.id, other_user.id}


class TestAsAnon:
    async def test_auth_uid_is_null(self, pool: Pool) -> None:
        async with as_anon(pool) as conn:
            seen = await identity(conn)
        assert (seen["uid"], seen["role"]) == (None, "anon")


class TestAuthUid:
    async def test_falls_back_to_the_claims_json(self, pool: Pool) -> None:
        user_id = uuid4()
        async with as_anon(pool) as conn:
            await conn.execute(
                "select set_config('request.jwt.claim.sub', '', true), "
                "set_config('request.jwt.claims', %s, true)",
                (f'{{"sub": "{user_id}"}}',),
            )
            seen = await identity(conn)
        assert seen["uid"] == user_id


class TestNothingLeaksIntoThePool:
    @pytest.mark.parametrize("unit", UNITS)
    async def test_connection_is_back_to_the_superuser_without_a_claim(
        self, single_pool: Pool, unit: Unit
    ) -> None:
        async with unit(single_pool) as conn:
            inside = await identity(conn)
        async with single_pool.connection() as conn:
            after = await identity(conn)
            cur = await conn.execute(
                "select session_user as session_role, rolsuper from pg_roles "
                "where rolname = current_user"
            )
            connecting = await cur.fetchone()
        assert after["pid"] == inside["pid"]
        assert connecting is not None
        assert connecting["rolsuper"] is True
        assert after["role"] == connecting["session_role"]
        assert after["role"] not in {"anon", "authenticated", "service_role"}
        assert after["sub"] in {None, ""}
        assert after["claims"] in {None, ""}
        assert after["uid"] is None

    @pytest.mark.parametrize("unit", UNITS)
    async def test_connection_is_clean_after_the_unit_raised(
        self, single_pool: Pool, unit: Unit
    ) -> None:
        async def fail_inside() -> int:
            async with unit(single_pool) as conn:
                pid = (await identity(conn))["pid"]
                raise Boom(pid)

        with pytest.raises(Boom) as raised:
            await fail_inside()
        async with single_pool.connection() as conn:
            after = await identity(conn)
        assert after["pid"] == raised.value.args[0]
        assert after["role"] not in {"anon", "authenticated", "service_role"}
        assert (after["sub"] or "", after["uid"]) == ("", None)

    async def test_connection_is_clean_after_a_failed_statement(self, single_pool: Pool) -> None:
        with pytest.raises(errors.InsufficientPrivilege):
            async with as_user(single_pool, ACTING_USER) as conn:
                await conn.execute("select * from auth.users")
        async with single_pool.connection() as conn:
            after = await identity(conn)
        assert after["role"] not in {"anon", "authenticated", "service_role"}
        assert (after["sub"] or "", after["uid"]) == ("", None)

    async def test_plain_pool_connection_bypasses_rls_so_units_must_switch_role(
        self, pool: Pool, user: Account, other_user: Account
    ) -> None:
        async with pool.connection() as conn:
            plain = await (await conn.execute("select id from public.profiles")).fetchall()
        async with as_user(pool, user.id) as conn:
            acting = await (await conn.execute("select id from public.profiles")).fetchall()
        assert {row["id"] for row in plain} == {user.id, other_user.id}
        assert acting == [{"id": user.id}]
