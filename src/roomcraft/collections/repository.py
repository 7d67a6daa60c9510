"""All SQL of collections and their items."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg.rows import class_row

from roomcraft.db.session import Conn


@dataclass(frozen=True)
class CollectionRow:
    id: UUID
    name: str
    is_default_favorites: bool
    created_at: datetime
    items_count: int


@dataclass(frozen=True)
class ToggleOutcome:
    found: bool  # both the collection and the render are the caller's
    in_collection: bool


async def list_collections(conn: Conn, *, owner_id: UUID) -> list[CollectionRow]:
    """The owner's collections with their item counts, the default first, then newest."""
    async with conn.cursor(row_factory=class_row(CollectionRow)) as cur:
        await cur.execute(
            """
            select c.id, c.name, c.is_default_favorites, c.created_at,
                   (select count(*) from public.collection_items i
                     where i.collection_id = c.id)::int
                   as items_count
              from public.collections c
             where c.owner_id = %s
             order by c.is_default_favorites desc, c.created_at desc, c.id desc
            """,
            (owner_id,),
        )
        return await cur.fetchall()


async def get_collection(conn: Conn, *, collection_id: UUID) -> CollectionRow | None:
    async with conn.cursor(row_factory=class_row(CollectionRow)) as cur:
        await cur.execute(
            """
            select c.id, c.name, c.is_default_favorites, c.created_at,
                   (select count(*) from public.collection_items i
                     where i.collection_id = c.id)::int
                   as items_count
              from public.collections c where c.id = %s
            """,
            (collection_id,),
        )
        return await cur.fetchone()


async def get_favorites_id(conn: Conn, *, owner_id: UUID) -> UUID | None:
    cur = await conn.execute(
        "select id from public.collections where owner_id = %s and is_default_favorites",
        (owner_id,),
    )
    row = await cur.fetchone()
    return None if row is None else UUID(str(row["id"]))


async def insert_collection(conn: Conn, *, owner_id: UUID, name: str) -> CollectionRow:
    async with conn.cursor(row_factory=class_row(CollectionRow)) as cur:
        await cur.execute(
            """
            insert into public.collections as c (owner_id, name) values (%s, %s)
            returning c.id, c.name, c.is_default_favorites, c.created_at, 0 as items_count
            """,
            (owner_id, name),
        )
        row = await cur.fetchone()
        assert row is not None
        return row


async def update_collection_name(
    conn: Conn, *, collection_id: UUID, name: str
) -> CollectionRow | None:
    """Rename; `None` when the caller cannot (RLS: not theirs, or the default)."""
    async with conn.cursor(row_factory=class_row(CollectionRow)) as cur:
        await cur.execute(
            """
            update public.collections c set name = %s where c.id = %s
            returning c.id, c.name, c.is_default_favorites, c.created_at,
                   (select count(*) from public.collection_items i
                     where i.collection_id = c.id)::int
                   as items_count
            """,
            (name, collection_id),
        )
        return await cur.fetchone()


async def delete_collection(conn: Conn, *, collection_id: UUID) -> bool:
    """Delete (its items cascade, the renders stay); False when the caller cannot."""
    cur = await conn.execute("delete from public.collections where id = %s", (collection_id,))
    return cur.rowcount > 0


async def lock_render_items(conn: Conn, *, render_id: UUID) -> None:
    """Serialize changes of one render's memberships until the transaction ends.

    The toggle statement alone is race-free (the primary key decides), but two toggles whose
    snapshots predate each other's commit would both see "absent" and one would be a no-op;
    taking this lock first makes every toggle see the change before it, a set's included.
    """
    await conn.execute(
        "select pg_advisory_xact_lock(hashtextextended('collection_items:' || %s::text, 0))",
        (render_id,),
    )


async def toggle_item(
    conn: Conn, *, owner_id: UUID, collection_id: UUID, render_id: UUID
) -> ToggleOutcome:
    """Remove the item if present, else add it, in one statement decided by the primary key."""
    async with conn.cursor(row_factory=class_row(ToggleOutcome)) as cur:
        await cur.execute(
            """
            with target as (
                select c.id from public.collections c
                 where c.id = %(collection)s
                   and exists (select 1 from public.renders r where r.id = %(render)s)
            ), removed as (
                delete from public.collection_items i using target
                 where i.collection_id = target.id and i.render_id = %(render)s
                returning i.render_id
            ), added as (
                insert into public.collection_items (collection_id, render_id, owner_id)
                select target.id, %(render)s, %(owner)s from target
                 where not exists (select 1 from removed)
                on conflict do nothing
                returning render_id
            )
            select exists (select 1 from target) as found,
                   exists (select 1 from added) as in_collection
            """,
            {"collection": collection_id, "render": render_id, "owner": owner_id},
        )
        row = await cur.fetchone()
        assert row is not None
        return row


async def insert_items(
    conn: Conn, *, owner_id: UUID, collection_id: UUID, render_ids: list[UUID]
) -> int:
    """Add renders to a collection; those already in it stay as they were. How many joined."""
    cur = await conn.execute(
        """
        insert into public.collection_items (collection_id, render_id, owner_id)
        select %(collection)s, r.id, %(owner)s from public.renders r where r.id = any(%(renders)s)
        on conflict do nothing
        """,
        {"collection": collection_id, "owner": owner_id, "renders": render_ids},
    )
    return cur.rowcount


async def delete_item(conn: Conn, *, collection_id: UUID, render_id: UUID) -> bool:
    """Take a render out of a collection; False when it was not in it (or is not the caller's)."""
    cur = await conn.execute(
        "delete from public.collection_items where collection_id = %s and render_id = %s",
        (collection_id, render_id),
    )
    return cur.rowcount > 0
