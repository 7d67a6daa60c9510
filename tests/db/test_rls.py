"""Row-level security, proven at the database: the pool connects as a superuser, and only the
role switch of each unit of work (`as_user`, `as_anon`) keeps one user's rows from another."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg import errors, sql

from roomcraft.db.pool import Pool
from roomcraft.db.session import as_anon, as_service, as_user
from tests.db.factories import (
    World,
    insert_community_collection,
    insert_community_item,
    insert_upload,
    seed_world,
)
from tests.factories import Account

Row = dict[str, Any]


@dataclass(frozen=True)
class OwnedTable:
    name: str
    owner_column: str = "owner_id"
    key_columns: tuple[str, ...] = ("id",)
    # None selects `*`; api_tokens must name its columns (token_hash is not granted).
    columns: tuple[str, ...] | None = None

    def select_all(self) -> sql.Composed:
        """`select <columns> from <table>`, with no where clause."""
        columns = (
            sql.SQL(", ").join(map(sql.Identifier, self.columns)) if self.columns else sql.SQL("*")
        )
        return sql.SQL("select {} from {}").format(columns, table_identifier(self.name))

    def count_all(self) -> sql.Composed:
        return sql.SQL("select count(*) as n from {}").format(table_identifier(self.name))

    def key(self, row: Row) -> tuple[UUID, ...]:
        return tuple(row[column] for column in self.key_columns)


OWNED_TABLES = [
    OwnedTable(
        "auth.api_tokens",
        owner_column="user_id",
        columns=("id", "user_id", "name", "prefix", "created_at", "last_used_at", "revoked_at"),
    ),
    OwnedTable("public.profiles", owner_column="id"),
    OwnedTable("public.uploads"),
    OwnedTable("public.generation_jobs"),
    OwnedTable("public.generation_predictions"),
    OwnedTable("public.renders"),
    OwnedTable("public.render_variants"),
    OwnedTable("public.collections"),
    OwnedTable("public.collection_items", key_columns=("collection_id", "render_id")),
    OwnedTable("public.usage_ledger"),
]
owned_tables = pytest.mark.parametrize("table", OWNED_TABLES, ids=lambda table: table.name)

SERVICE_ONLY_TABLES = [
    "auth.users",
    "auth.sessions",
    "auth.one_time_tokens",
    "auth.rate_limits",
    "auth.email_outbox",
    "public.webhook_deliveries",
    "public.billing_events",
]

PERMISSION_DENIED = "permission denied for table"
RLS_VIOLATION = "new row violates row-level security policy"
FK_VIOLATION = "violates foreign key constraint"


def table_identifier(name: str) -> sql.Identifier:
    schema, table = name.split(".")
    return sql.Identifier(schema, table)


def world_params(world: World) -> dict[str, UUID]:
    """Named parameters for statements that mix both users' keys."""
    params: dict[str, UUID] = {}
    for prefix, holdings in (("a", world.a), ("b", world.b)):
        params[prefix] = holdings.owner_id
        params[f"{prefix}_upload"] = holdings.upload_id
        params[f"{prefix}_job"] = holdings.job_id
        params[f"{prefix}_render"] = holdings.render_id
        params[f"{prefix}_collection"] = holdings.collection_id
        params[f"{prefix}_favorites"] = holdings.favorites_id
        params[f"{prefix}_ledger"] = holdings.ledger_entry_id
        params[f"{prefix}_token"] = holdings.api_token_id
    return params


async def fetch_as_user(
    pool: Pool, user_id: UUID, query: str | sql.Composed, params: object = None
) -> list[Row]:
    async with as_user(pool, user_id) as conn:
        cur = await conn.execute(query, params)  # type: ignore[arg-type]
        return await cur.fetchall()


async def execute_as_user(
    pool: Pool, user_id: UUID, query: str | sql.Composed, params: object = None
) -> int:
    """Run one statement acting for `user_id`; returns how many rows it changed."""
    async with as_user(pool, user_id) as conn:
        cur = await conn.execute(query, params)  # type: ignore[arg-type]
        return cur.rowcount


async def execute_as(
    pool: Pool, user_id: UUID | None, query: str | sql.Composed, params: object = None
) -> int:
    """Run one statement acting for `user_id`, or as an anonymous visitor when it is None."""
    if user_id is not None:
        return await execute_as_user(pool, user_id, query, params)
    async with as_anon(pool) as conn:
        cur = await conn.execute(query, params)  # type: ignore[arg-type]
        return cur.rowcount


async def fetch_as_service(
    pool: Pool, query: str | sql.Composed, params: object = None
) -> list[Row]:
    async with as_service(pool) as conn:
        cur = await conn.execute(query, params)  # type: ignore[arg-type]
        return await cur.fetchall()


async def snapshot(pool: Pool, table: str) -> list[Row]:
    """Every row of `table`, as the service role sees it, in a stable order."""
    rows = await fetch_as_service(pool, sql.SQL("select * from {}").format(table_identifier(table)))
    return sorted(rows, key=repr)


@pytest.fixture
async def world(pool: Pool, user: Account, other_user: Account) -> World:
    """`user` is A, `other_user` is B."""
    return await seed_world(pool, user, other_user)


@dataclass(frozen=True)
class Community:
    collection_id: UUID
    item_id: UUID


@pytest.fixture
async def community(pool: Pool) -> Community:
    async with as_service(pool) as conn:
        collection_id = await insert_community_collection(conn)
        item_id = await insert_community_item(conn, collection_id=collection_id)
    return Community(collection_id=collection_id, item_id=item_id)


class TestOwnerScopedReads:
    @owned_tables
    async def test_service_role_sees_both_users_rows(
        self, pool: Pool, world: World, table: OwnedTable
    ) -> None:
        rows = await fetch_as_service(pool, table.select_all())
        assert {table.key(row) for row in rows} == world.a.keys(table.name) | world.b.keys(
            table.name
        )

    @owned_tables
    async def test_user_b_sees_none_of_user_a_rows(
        self, pool: Pool, world: World, table: OwnedTable
    ) -> None:
        rows = await fetch_as_user(pool, world.b.owner_id, table.select_all())
        assert {table.key(row) for row in rows} == world.b.keys(table.name)
        assert {row[table.owner_column] for row in rows} == {world.b.owner_id}
        seen_ids = {value for row in rows for value in row.values() if isinstance(value, UUID)}
        assert seen_ids.isdisjoint(world.a.ids())

    @owned_tables
    async def test_user_a_sees_none_of_user_b_rows(
        self, pool: Pool, world: World, table: OwnedTable
    ) -> None:
        rows = await fetch_as_user(pool, world.a.owner_id, table.select_all())
        assert {table.key(row) for row in rows} == world.a.keys(table.name)
        assert {row[table.owner_column] for row in rows} == {world.a.owner_id}
        seen_ids = {value for row in rows for value in row.values() if isinstance(value, UUID)}
        assert seen_ids.isdisjoint(world.b.ids())

    @owned_tables
    async def test_user_b_counts_only_own_rows(
        self, pool: Pool, world: World, table: OwnedTable
    ) -> None:
        [row] = await fetch_as_user(pool, world.b.owner_id, table.count_all())
        assert row["n"] == len(world.b.keys(table.name))

    @owned_tables
    async def test_user_b_filtering_on_user_a_as_owner_finds_nothing(
        self, pool: Pool, world: World, table: OwnedTable
    ) -> None:
        query = sql.SQL("{} where {} = %s").format(
            table.select_all(), sql.Identifier(table.owner_column)
        )
        assert await fetch_as_user(pool, world.b.owner_id, query, (world.a.owner_id,)) == []


CROSS_OWNER_INSERTS = [
    pytest.param(
        """
        insert into public.uploads (owner_id, storage_path, content_type, width, height, bytes,
                                    sha256)
        values (%(a)s, 'private/forged/inputs/x.jpg', 'image/jpeg', 10, 10, 100, 'forged')
        """,
        errors.InsufficientPrivilege,
        RLS_VIOLATION,
        id="upload-owned-by-a",
    ),
    pytest.param(
        """
        insert into public.generation_jobs (owner_id, mode, provider, input1_upload_id)
        values (%(a)s, 'redesign', 'local', %(a_upload)s)
        """,
        errors.InsufficientPrivilege,
        RLS_VIOLATION,
        id="job-owned-by-a",
    ),
    pytest.param(
        """
        insert into public.generation_jobs (owner_id, mode, provider, input1_upload_id)
        values (%(b)s, 'redesign', 'local', %(a_upload)s)
        """,
        errors.ForeignKeyViolation,
        FK_VIOLATION,
        id="own-job-naming-a-upload",
    ),
    pytest.param(
        "insert into public.collections (owner_id, name) values (%(a)s, 'Forged')",
        errors.InsufficientPrivilege,
        RLS_VIOLATION,
        id="collection-owned-by-a",
    ),
    pytest.param(
        """
        insert into public.collection_items (collection_id, render_id, owner_id)
        values (%(a_favorites)s, %(a_render)s, %(a)s)
        """,
        errors.InsufficientPrivilege,
        RLS_VIOLATION,
        id="item-owned-by-a",
    ),
    pytest.param(
        """
        insert into public.collection_items (collection_id, render_id, owner_id)
        values (%(a_collection)s, %(b_render)s, %(a)s)
        """,
        errors.InsufficientPrivilege,
        RLS_VIOLATION,
        id="item-owned-by-a-with-b-render",
    ),
    pytest.param(
        """
        insert into public.collection_items (collection_id, render_id, owner_id)
        values (%(b_favorites)s, %(a_render)s, %(b)s)
        """,
        errors.ForeignKeyViolation,
        FK_VIOLATION,
        id="b-collection-with-a-render",
    ),
    pytest.param(
        """
        insert into public.collection_items (collection_id, render_id, owner_id)
        values (%(a_collection)s, %(b_render)s, %(b)s)
        """,
        errors.ForeignKeyViolation,
        FK_VIOLATION,
        id="a-collection-with-b-render",
    ),
    pytest.param(
        """
        insert into auth.api_tokens (user_id, name, prefix, token_hash)
        values (%(a)s, 'Forged', 'rc_forged', '\\x00ff'::bytea)
        """,
        errors.InsufficientPrivilege,
        RLS_VIOLATION,
        id="api-token-of-a",
    ),
]


class TestCrossOwnerInserts:
    @pytest.mark.parametrize(("query", "error", "message"), CROSS_OWNER_INSERTS)
    async def test_user_b_cannot_insert_rows_of_user_a(
        self, pool: Pool, world: World, query: str, error: type[Exception], message: str
    ) -> None:
        tables = ["public.uploads", "public.generation_jobs", "public.collections"]
        tables += ["public.collection_items", "auth.api_tokens"]
        before = [await snapshot(pool, table) for table in tables]
        with pytest.raises(error, match=message):
            await execute_as_user(pool, world.b.owner_id, query, world_params(world))
        assert [await snapshot(pool, table) for table in tables] == before

    async def test_user_b_cannot_register_an_upload_at_user_a_storage_path(
        self, pool: Pool, world: World
    ) -> None:
        path = f"{world.a.owner_id}/inputs/{uuid4()}.jpg"
        with pytest.raises((errors.InsufficientPrivilege, errors.CheckViolation)):
            await execute_as_user(
                pool,
                world.b.owner_id,
                """
                insert into public.uploads (owner_id, storage_path, content_type, width, height,
                                            bytes, sha256)
                values (%s, %s, 'image/jpeg', 10, 10, 100, 'stolen')
                """,
                (world.b.owner_id, path),
            )

    async def test_user_b_inserts_own_rows_of_the_same_shape(
        self, pool: Pool, world: World
    ) -> None:
        """The statements above fail for ownership alone: the same ones for B's own rows work."""
        async with as_user(pool, world.b.owner_id) as conn:
            upload = await conn.execute(
                """
                insert into public.uploads (owner_id, storage_path, content_type, width, height,
                                            bytes, sha256)
                values (%s, %s, 'image/jpeg', 10, 10, 100, 'own')
                returning id, storage_path
                """,
                (world.b.owner_id, f"{world.b.owner_id}/inputs/{uuid4()}.jpg"),
            )
            upload_row = await upload.fetchone()
            assert upload_row is not None
            job = await conn.execute(
                """
                insert into public.generation_jobs
                       (owner_id, mode, provider, input1_upload_id, input1_path)
                values (%s, 'redesign', 'local', %s, %s)
                """,
                (world.b.owner_id, upload_row["id"], upload_row["storage_path"]),
            )
            assert job.rowcount == 1
            collection = await conn.execute(
                "insert into public.collections (owner_id, name) values (%s, 'Kitchens') "
                "returning id",
                (world.b.owner_id,),
            )
            collection_row = await collection.fetchone()
            assert collection_row is not None
            item = await conn.execute(
                "insert into public.collection_items (collection_id, render_id, owner_id) "
                "values (%s, %s, %s)",
                (collection_row["id"], world.b.render_id, world.b.owner_id),
            )
            assert item.rowcount == 1
            token = await conn.execute(
                "insert into auth.api_tokens (user_id, name, prefix, token_hash) "
                "values (%s, 'Laptop', 'rc_own', '\\x0102'::bytea)",
                (world.b.owner_id,),
            )
            assert token.rowcount == 1
        [uploads] = await fetch_as_service(
            pool,
            "select count(*) as n from public.uploads where owner_id = %s",
            (world.b.owner_id,),
        )
        assert uploads["n"] == 2


# Rows only the service role writes; each statement is valid (the service role runs it).
SERVICE_ONLY_INSERTS = [
    pytest.param(
        "public.usage_ledger",
        "insert into public.usage_ledger (owner_id, kind, amount) "
        "values (%(b)s, 'credit_adjustment', 5)",
        id="usage_ledger",
    ),
    pytest.param(
        "public.renders",
        """
        with job as (
          insert into public.generation_jobs (owner_id, mode, provider)
          values (%(b)s, 'imagine', 'local') returning id
        )
        insert into public.renders (job_id, owner_id, mode) select id, %(b)s, 'imagine' from job
        """,
        id="renders",
    ),
    pytest.param(
        "public.render_variants",
        """
        insert into public.render_variants (render_id, owner_id, idx, image_path, width, height,
                                            bytes)
        values (%(b_render)s, %(b)s, 2, 'renders/forged/2.webp', 10, 10, 100)
        """,
        id="render_variants",
    ),
    pytest.param(
        "public.generation_predictions",
        "insert into public.generation_predictions (job_id, owner_id, idx) "
        "values (%(b_job)s, %(b)s, 1)",
        id="generation_predictions",
    ),
    pytest.param(
        "public.webhook_deliveries",
        "insert into public.webhook_deliveries (webhook_id, prediction_id) "
        "values ('msg_forged', 'pred-forged')",
        id="webhook_deliveries",
    ),
    pytest.param(
        "public.billing_events",
        "insert into public.billing_events (event_id, type) "
        "values ('evt_forged', 'checkout.session.completed')",
        id="billing_events",
    ),
    pytest.param(
        "public.community_collections",
        "insert into public.community_collections (title) values ('Forged')",
        id="community_collections",
    ),
    pytest.param(
        "public.community_items",
        "insert into public.community_items (collection_id, render_id, image_path) "
        "values (%(community_collection)s, %(b_render)s, 'community/forged.webp')",
        id="community_items",
    ),
    pytest.param(
        "auth.users",
        "insert into auth.users (email) values ('forged@example.com')",
        id="users",
    ),
    pytest.param(
        "auth.sessions",
        "insert into auth.sessions (user_id, token_hash, expires_at) "
        "values (%(b)s, '\\x0badc0de'::bytea, now() + interval '1 day')",
        id="sessions",
    ),
    pytest.param(
        "auth.one_time_tokens",
        "insert into auth.one_time_tokens (token_hash, email, purpose, expires_at) "
        "values ('\\x0badc0de'::bytea, 'b@example.com', 'magic_link', now() + interval '1 hour')",
        id="one_time_tokens",
    ),
    pytest.param(
        "auth.rate_limits",
        "insert into auth.rate_limits (bucket, window_start, hits) values ('signin:ip', now(), 0)",
        id="rate_limits",
    ),
    pytest.param(
        "auth.email_outbox",
        "insert into auth.email_outbox (to_email, subject, body) "
        "values ('b@example.com', 'Forged', 'Click here')",
        id="email_outbox",
    ),
]

# Writes to B's own rows that only the service role may make (columns not granted, or no grant).
OWN_ROW_SERVICE_WRITES = [
    pytest.param(
        "public.generation_jobs",
        "update public.generation_jobs set status = 'succeeded' where id = %(b_job)s",
        id="job-status",
    ),
    pytest.param(
        "public.generation_jobs",
        "delete from public.generation_jobs where id = %(b_job)s",
        id="job-delete",
    ),
    pytest.param(
        "public.generation_predictions",
        "update public.generation_predictions set status = 'succeeded' where owner_id = %(b)s",
        id="prediction-status",
    ),
    pytest.param(
        "public.renders",
        "update public.renders set cover_variant = 1 where id = %(b_render)s",
        id="render-update",
    ),
    pytest.param(
        "public.render_variants",
        "update public.render_variants set image_path = 'elsewhere.webp' where owner_id = %(b)s",
        id="variant-update",
    ),
    pytest.param(
        "public.usage_ledger",
        "update public.usage_ledger set amount = 100 where id = %(b_ledger)s",
        id="ledger-update",
    ),
    pytest.param(
        "public.usage_ledger",
        "delete from public.usage_ledger where id = %(b_ledger)s",
        id="ledger-delete",
    ),
    pytest.param(
        "public.profiles",
        "update public.profiles set is_admin = true where id = %(b)s",
        id="profile-is_admin",
    ),
    pytest.param(
        "public.profiles",
        "update public.profiles set has_access = true where id = %(b)s",
        id="profile-has_access",
    ),
    pytest.param(
        "public.profiles",
        "update public.profiles set price_id = 'price_pro' where id = %(b)s",
        id="profile-price_id",
    ),
    pytest.param(
        "public.profiles",
        "update public.profiles set customer_id = 'cus_forged' where id = %(b)s",
        id="profile-customer_id",
    ),
    pytest.param(
        "public.profiles",
        "update public.profiles set current_period_end = 'infinity' where id = %(b)s",
        id="profile-current_period_end",
    ),
    pytest.param(
        "public.profiles",
        "update public.profiles set email = 'forged@example.com' where id = %(b)s",
        id="profile-email",
    ),
    pytest.param(
        "public.profiles",
        "delete from public.profiles where id = %(b)s",
        id="profile-delete",
    ),
    pytest.param(
        "public.uploads",
        "update public.uploads set storage_path = 'uploads/elsewhere.jpg' where id = %(b_upload)s",
        id="upload-update",
    ),
    pytest.param(
        "public.collections",
        "update public.collections set is_default_favorites = true where id = %(b_collection)s",
        id="collection-make-default",
    ),
    pytest.param(
        "public.collections",
        "update public.collections set owner_id = %(a)s where id = %(b_collection)s",
        id="collection-give-away",
    ),
    pytest.param(
        "public.collection_items",
        "update public.collection_items set owner_id = %(a)s where owner_id = %(b)s",
        id="item-give-away",
    ),
    pytest.param(
        "auth.api_tokens",
        "update auth.api_tokens set user_id = %(a)s where id = %(b_token)s",
        id="token-give-away",
    ),
    pytest.param(
        "auth.api_tokens",
        "update auth.api_tokens set token_hash = '\\x00'::bytea where id = %(b_token)s",
        id="token-rehash",
    ),
    pytest.param(
        "auth.api_tokens",
        "delete from auth.api_tokens where id = %(b_token)s",
        id="token-delete",
    ),
]


# A job as the worker would leave it: users may create jobs, but not in a state only it sets.
WORKER_OWNED_JOB_FIELDS = [
    pytest.param("status, completed_at", "'succeeded', now()", id="already-succeeded"),
    pytest.param("status, error", "'failed', 'forged'", id="already-failed"),
    pytest.param("input1_path", "'private/someone-else/inputs/x.jpg'", id="input-path"),
]


class TestServiceOnlyWrites:
    @pytest.mark.parametrize(("table", "query"), SERVICE_ONLY_INSERTS)
    async def test_user_b_cannot_insert_service_only_rows(
        self, pool: Pool, world: World, community: Community, table: str, query: str
    ) -> None:
        params = {**world_params(world), "community_collection": community.collection_id}
        before = await snapshot(pool, table)
        with pytest.raises(errors.InsufficientPrivilege, match=PERMISSION_DENIED):
            await execute_as_user(pool, world.b.owner_id, query, params)
        assert await snapshot(pool, table) == before

    @pytest.mark.parametrize(("table", "query"), SERVICE_ONLY_INSERTS)
    async def test_service_role_inserts_the_same_row(
        self, pool: Pool, world: World, community: Community, table: str, query: str
    ) -> None:
        params = {**world_params(world), "community_collection": community.collection_id}
        before = await snapshot(pool, table)
        async with as_service(pool) as conn:
            cur = await conn.execute(query, params)
            assert cur.rowcount == 1
        assert len(await snapshot(pool, table)) == len(before) + 1

    @pytest.mark.parametrize(("table", "query"), OWN_ROW_SERVICE_WRITES)
    async def test_user_b_cannot_make_service_writes_to_own_rows(
        self, pool: Pool, world: World, table: str, query: str
    ) -> None:
        before = await snapshot(pool, table)
        with pytest.raises(errors.InsufficientPrivilege, match=PERMISSION_DENIED):
            await execute_as_user(pool, world.b.owner_id, query, world_params(world))
        assert await snapshot(pool, table) == before

    @pytest.mark.parametrize(("columns", "values"), WORKER_OWNED_JOB_FIELDS)
    async def test_user_b_cannot_insert_a_job_in_a_state_only_the_worker_sets(
        self, pool: Pool, world: World, columns: str, values: str
    ) -> None:
        query = sql.SQL(
            "insert into public.generation_jobs (owner_id, mode, provider, {}) "
            "values (%s, 'redesign', 'local', {})"
        ).format(sql.SQL(columns), sql.SQL(values))  # type: ignore[arg-type]
        with pytest.raises((errors.InsufficientPrivilege, errors.CheckViolation)):
            await execute_as_user(pool, world.b.owner_id, query, (world.b.owner_id,))

    async def test_user_b_renames_own_profile(self, pool: Pool, world: World) -> None:
        changed = await execute_as_user(
            pool,
            world.b.owner_id,
            "update public.profiles set name = 'Bea' where id = %s",
            (world.b.owner_id,),
        )
        assert changed == 1
        rows = await fetch_as_service(pool, "select id, name, is_admin from public.profiles")
        names = {row["id"]: (row["name"], row["is_admin"]) for row in rows}
        assert names == {world.a.owner_id: (None, False), world.b.owner_id: ("Bea", False)}


class TestCrossOwnerWrites:
    async def test_user_b_renaming_every_collection_renames_only_own_extra_collection(
        self, pool: Pool, world: World
    ) -> None:
        changed = await execute_as_user(
            pool, world.b.owner_id, "update public.collections set name = 'x'"
        )
        assert changed == 1
        rows = await fetch_as_service(pool, "select id, name from public.collections")
        assert {row["id"]: row["name"] for row in rows} == {
            world.a.favorites_id: "My Favorites",
            world.a.collection_id: "Living rooms",
            world.b.favorites_id: "My Favorites",
            world.b.collection_id: "x",
        }

    async def test_user_b_renaming_user_a_collection_by_id_changes_nothing(
        self, pool: Pool, world: World
    ) -> None:
        changed = await execute_as_user(
            pool,
            world.b.owner_id,
            "update public.collections set name = 'x' where id = %s",
            (world.a.collection_id,),
        )
        assert changed == 0
        [row] = await fetch_as_service(
            pool, "select name from public.collections where id = %s", (world.a.collection_id,)
        )
        assert row["name"] == "Living rooms"

    async def test_user_b_deleting_every_render_deletes_only_own(
        self, pool: Pool, world: World
    ) -> None:
        deleted = await execute_as_user(pool, world.b.owner_id, "delete from public.renders")
        assert deleted == 1
        renders = await fetch_as_service(pool, "select id from public.renders")
        assert {row["id"] for row in renders} == {world.a.render_id}
        # B's variants and collection items went with the render; A's are all there.
        variants = await fetch_as_service(pool, "select id from public.render_variants")
        assert {row["id"] for row in variants} == set(world.a.variant_ids)
        items = await fetch_as_service(pool, "select owner_id from public.collection_items")
        assert [row["owner_id"] for row in items] == [world.a.owner_id] * 2

    async def test_variants_cannot_be_deleted_one_by_one(self, pool: Pool, world: World) -> None:
        with pytest.raises(errors.InsufficientPrivilege, match=PERMISSION_DENIED):
            await execute_as_user(pool, world.b.owner_id, "delete from public.render_variants")
        variants = await fetch_as_service(pool, "select id from public.render_variants")
        assert {row["id"] for row in variants} == set(world.a.variant_ids + world.b.variant_ids)

    async def test_user_b_deleting_every_collection_item_deletes_only_own(
        self, pool: Pool, world: World
    ) -> None:
        deleted = await execute_as_user(
            pool, world.b.owner_id, "delete from public.collection_items"
        )
        assert deleted == 2
        items = await fetch_as_service(
            pool, "select collection_id, render_id from public.collection_items"
        )
        assert {(row["collection_id"], row["render_id"]) for row in items} == world.a.keys(
            "public.collection_items"
        )

    async def test_user_b_deleting_every_collection_spares_favorites_and_user_a(
        self, pool: Pool, world: World
    ) -> None:
        deleted = await execute_as_user(pool, world.b.owner_id, "delete from public.collections")
        assert deleted == 1
        rows = await fetch_as_service(pool, "select id from public.collections")
        assert {row["id"] for row in rows} == {
            world.a.favorites_id,
            world.a.collection_id,
            world.b.favorites_id,
        }

    async def test_user_b_deleting_every_upload_deletes_only_own(
        self, pool: Pool, user: Account, other_user: Account
    ) -> None:
        # Uploads no job names: an upload a job names cannot be deleted (foreign key).
        async with as_service(pool) as conn:
            a_upload = await insert_upload(conn, owner_id=user.id)
            await insert_upload(conn, owner_id=other_user.id)
        deleted = await execute_as_user(pool, other_user.id, "delete from public.uploads")
        assert deleted == 1
        rows = await fetch_as_service(pool, "select id from public.uploads")
        assert [row["id"] for row in rows] == [a_upload]

    async def test_user_b_deleting_user_a_upload_by_id_deletes_nothing(
        self, pool: Pool, world: World
    ) -> None:
        deleted = await execute_as_user(
            pool,
            world.b.owner_id,
            "delete from public.uploads where id = %s",
            (world.a.upload_id,),
        )
        assert deleted == 0
        rows = await fetch_as_service(pool, "select id from public.uploads")
        assert {row["id"] for row in rows} == {world.a.upload_id, world.b.upload_id}

    async def test_user_b_revoking_every_api_token_revokes_only_own(
        self, pool: Pool, world: World
    ) -> None:
        changed = await execute_as_user(
            pool, world.b.owner_id, "update auth.api_tokens set revoked_at = now()"
        )
        assert changed == 1
        rows = await fetch_as_service(pool, "select id, revoked_at from auth.api_tokens")
        revoked = {row["id"] for row in rows if row["revoked_at"] is not None}
        assert revoked == {world.b.api_token_id}

    async def test_user_b_renaming_every_profile_renames_only_own(
        self, pool: Pool, world: World
    ) -> None:
        changed = await execute_as_user(
            pool, world.b.owner_id, "update public.profiles set name = 'x'"
        )
        assert changed == 1
        rows = await fetch_as_service(pool, "select id, name from public.profiles")
        assert {row["id"]: row["name"] for row in rows} == {
            world.a.owner_id: None,
            world.b.owner_id: "x",
        }


class TestDefaultFavorites:
    async def test_each_new_user_gets_exactly_one_my_favorites(
        self, pool: Pool, user: Account, other_user: Account
    ) -> None:
        rows = await fetch_as_service(
            pool,
            "select owner_id, name, is_default_favorites from public.collections order by owner_id",
        )
        assert sorted(rows, key=lambda row: str(row["owner_id"])) == sorted(
            (
                {"owner_id": owner_id, "name": "My Favorites", "is_default_favorites": True}
                for owner_id in (user.id, other_user.id)
            ),
            key=lambda row: str(row["owner_id"]),
        )

    async def test_owner_renaming_default_favorites_changes_nothing(
        self, pool: Pool, world: World
    ) -> None:
        changed = await execute_as_user(
            pool,
            world.b.owner_id,
            "update public.collections set name = 'Renamed' where id = %s",
            (world.b.favorites_id,),
        )
        assert changed == 0
        [row] = await fetch_as_service(
            pool, "select name from public.collections where id = %s", (world.b.favorites_id,)
        )
        assert row["name"] == "My Favorites"

    async def test_owner_deleting_default_favorites_changes_nothing(
        self, pool: Pool, world: World
    ) -> None:
        deleted = await execute_as_user(
            pool,
            world.b.owner_id,
            "delete from public.collections where id = %s",
            (world.b.favorites_id,),
        )
        assert deleted == 0
        items = await fetch_as_service(
            pool,
            "select render_id from public.collection_items where collection_id = %s",
            (world.b.favorites_id,),
        )
        assert [row["render_id"] for row in items] == [world.b.render_id]

    async def test_owner_cannot_insert_a_second_default_collection(
        self, pool: Pool, world: World
    ) -> None:
        with pytest.raises(errors.InsufficientPrivilege, match=RLS_VIOLATION):
            await execute_as_user(
                pool,
                world.b.owner_id,
                "insert into public.collections (owner_id, name, is_default_favorites) "
                "values (%s, 'My Favorites', true)",
                (world.b.owner_id,),
            )

    async def test_service_role_cannot_insert_a_second_default_collection_either(
        self, pool: Pool, user: Account
    ) -> None:
        with pytest.raises(errors.UniqueViolation):
            async with as_service(pool) as conn:
                await conn.execute(
                    "insert into public.collections (owner_id, name, is_default_favorites) "
                    "values (%s, 'Second', true)",
                    (user.id,),
                )

    async def test_owner_adds_and_removes_own_render_in_favorites(
        self, pool: Pool, world: World
    ) -> None:
        removed = await execute_as_user(
            pool,
            world.b.owner_id,
            "delete from public.collection_items where collection_id = %s",
            (world.b.favorites_id,),
        )
        added = await execute_as_user(
            pool,
            world.b.owner_id,
            "insert into public.collection_items (collection_id, render_id, owner_id) "
            "values (%s, %s, %s)",
            (world.b.favorites_id, world.b.render_id, world.b.owner_id),
        )
        assert (removed, added) == (1, 1)


class TestAccountsSchema:
    @pytest.mark.parametrize("table", SERVICE_ONLY_TABLES)
    async def test_signed_in_user_cannot_read_service_only_table(
        self, pool: Pool, world: World, table: str
    ) -> None:
        query = sql.SQL("select * from {}").format(table_identifier(table))
        with pytest.raises(errors.InsufficientPrivilege, match=PERMISSION_DENIED):
            await fetch_as_user(pool, world.b.owner_id, query)

    @pytest.mark.parametrize("table", SERVICE_ONLY_TABLES)
    async def test_anonymous_visitor_cannot_read_service_only_table(
        self, pool: Pool, world: World, table: str
    ) -> None:
        query = sql.SQL("select count(*) from {}").format(table_identifier(table))
        with pytest.raises(errors.InsufficientPrivilege, match=PERMISSION_DENIED):
            async with as_anon(pool) as conn:
                await conn.execute(query)

    async def test_user_b_cannot_read_own_account_row(self, pool: Pool, world: World) -> None:
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied for table users"):
            await fetch_as_user(
                pool,
                world.b.owner_id,
                "select email from auth.users where id = %s",
                (world.b.owner_id,),
            )

    async def test_api_tokens_show_only_own_tokens(self, pool: Pool, world: World) -> None:
        rows = await fetch_as_user(
            pool, world.b.owner_id, "select id, user_id, name, prefix from auth.api_tokens"
        )
        assert rows == [
            {
                "id": world.b.api_token_id,
                "user_id": world.b.owner_id,
                "name": "CI",
                "prefix": "rc_test",
            }
        ]

    async def test_user_b_cannot_bring_a_revoked_token_back(self, pool: Pool, world: World) -> None:
        await execute_as_user(
            pool, world.b.owner_id, "update auth.api_tokens set revoked_at = now()"
        )
        restored = await execute_as_user(
            pool, world.b.owner_id, "update auth.api_tokens set revoked_at = null"
        )
        assert restored == 0
        rows = await fetch_as_service(
            pool, "select revoked_at from auth.api_tokens where user_id = %s", (world.b.owner_id,)
        )
        assert [row["revoked_at"] is not None for row in rows] == [True]

    @pytest.mark.parametrize(
        "query",
        [
            "select token_hash from auth.api_tokens",
            "select * from auth.api_tokens",
            "select id from auth.api_tokens where token_hash = '\\x00'::bytea",
        ],
    )
    async def test_token_hash_column_cannot_be_read(
        self, pool: Pool, world: World, query: str
    ) -> None:
        with pytest.raises(
            errors.InsufficientPrivilege, match="permission denied for table api_tokens"
        ):
            await fetch_as_user(pool, world.b.owner_id, query)


GALLERY_WRITES = [
    pytest.param(
        "insert into public.community_collections (title) values ('Forged')",
        id="insert-collection",
    ),
    pytest.param(
        "insert into public.community_items (collection_id, external_image_url) "
        "values (%(collection)s, 'https://evil.example.com/x.jpg')",
        id="insert-item",
    ),
    pytest.param(
        "update public.community_collections set title = 'Defaced'",
        id="update-collection",
    ),
    pytest.param(
        "update public.community_items set external_image_url = 'https://evil.example.com'",
        id="update-item",
    ),
    pytest.param("delete from public.community_items", id="delete-item"),
    pytest.param("delete from public.community_collections", id="delete-collection"),
]


class TestCommunity:
    async def test_anonymous_visitor_reads_the_gallery(
        self, pool: Pool, community: Community
    ) -> None:
        async with as_anon(pool) as conn:
            collections = await (
                await conn.execute("select id from public.community_collections")
            ).fetchall()
            items = await (
                await conn.execute("select id, external_image_url from public.community_items")
            ).fetchall()
        assert collections == [{"id": community.collection_id}]
        assert items == [
            {"id": community.item_id, "external_image_url": "https://images.example.com/room.jpg"}
        ]

    async def test_signed_in_user_reads_the_gallery(
        self, pool: Pool, world: World, community: Community
    ) -> None:
        collections = await fetch_as_user(
            pool, world.b.owner_id, "select id from public.community_collections"
        )
        items = await fetch_as_user(pool, world.b.owner_id, "select id from public.community_items")
        assert collections == [{"id": community.collection_id}]
        assert items == [{"id": community.item_id}]

    @owned_tables
    async def test_anonymous_visitor_cannot_read_owner_tables(
        self, pool: Pool, world: World, table: OwnedTable
    ) -> None:
        with pytest.raises(errors.InsufficientPrivilege, match=PERMISSION_DENIED):
            async with as_anon(pool) as conn:
                await conn.execute(table.count_all())

    @pytest.mark.parametrize("role", ["anon", "authenticated"])
    @pytest.mark.parametrize("query", GALLERY_WRITES)
    async def test_only_the_service_role_writes_the_gallery(
        self, pool: Pool, world: World, community: Community, role: str, query: str
    ) -> None:
        params = {"collection": community.collection_id}
        before = [
            await snapshot(pool, "public.community_collections"),
            await snapshot(pool, "public.community_items"),
        ]
        user_id = None if role == "anon" else world.b.owner_id
        with pytest.raises(errors.InsufficientPrivilege, match=PERMISSION_DENIED):
            await execute_as(pool, user_id, query, params)
        assert [
            await snapshot(pool, "public.community_collections"),
            await snapshot(pool, "public.community_items"),
        ] == before

    async def test_featured_render_shows_in_gallery_without_exposing_the_render(
        self, pool: Pool, world: World, community: Community
    ) -> None:
        async with as_service(pool) as conn:
            item_id = await insert_community_item(
                conn,
                collection_id=community.collection_id,
                external_image_url=None,
                render_id=world.a.render_id,
            )
        gallery = await fetch_as_user(
            pool,
            world.b.owner_id,
            "select id, image_path from public.community_items where render_id is not null",
        )
        assert [row["id"] for row in gallery] == [item_id]
        assert gallery[0]["image_path"]
        render = await fetch_as_user(
            pool,
            world.b.owner_id,
            "select * from public.renders where id = %s",
            (world.a.render_id,),
        )
        assert render == []
        variants = await fetch_as_user(
            pool,
            world.b.owner_id,
            "select * from public.render_variants where render_id = %s",
            (world.a.render_id,),
        )
        assert variants == []
