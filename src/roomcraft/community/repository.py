"""All SQL of the community gallery."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from roomcraft.db.session import Conn

_COLLECTION_COLUMNS = sql.SQL("id, title, description, is_featured, order_index, created_at")
_ITEM_COLUMNS = sql.SQL(
    "id, collection_id, render_id, external_image_url, image_path, thumb_path, title,"
    " apply_settings, order_index, created_at"
)


@dataclass(frozen=True)
class CollectionRow:
    id: UUID
    title: str
    description: str | None
    is_featured: bool
    order_index: int
    created_at: datetime


@dataclass(frozen=True)
class ItemRow:
    id: UUID
    collection_id: UUID
    render_id: UUID | None
    external_image_url: str | None
    image_path: str | None
    thumb_path: str | None
    title: str | None
    apply_settings: dict[str, Any]
    order_index: int
    created_at: datetime


def _assignments(changes: dict[str, Any]) -> sql.Composable:
    if not changes:
        return sql.SQL("updated_at = updated_at")
    return sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
        for column in changes
    )


async def list_collections(conn: Conn, *, collection_id: UUID | None = None) -> list[CollectionRow]:
    """Featured first, then by order, then newest; one collection when `collection_id` is given."""
    async with conn.cursor(row_factory=class_row(CollectionRow)) as cur:
        await cur.execute(
            """
            select id, title, description, is_featured, order_index, created_at
              from public.community_collections
             where %(id)s::uuid is null or id = %(id)s
             order by is_featured desc, order_index asc, created_at desc, id desc
            """,
            {"id": collection_id},
        )
        return await cur.fetchall()


async def get_collection_by_title(conn: Conn, *, title: str) -> CollectionRow | None:
    async with conn.cursor(row_factory=class_row(CollectionRow)) as cur:
        await cur.execute(
            """
            select id, title, description, is_featured, order_index, created_at
              from public.community_collections
             where title = %s order by created_at limit 1
            """,
            (title,),
        )
        return await cur.fetchone()


async def list_items(conn: Conn, *, collection_ids: list[UUID]) -> list[ItemRow]:
    """The items of these collections, each collection's by order then newest."""
    async with conn.cursor(row_factory=class_row(ItemRow)) as cur:
        await cur.execute(
            """
            select id, collection_id, render_id, external_image_url, image_path, thumb_path,
                   title, apply_settings, order_index, created_at
              from public.community_items
             where collection_id = any(%s)
             order by collection_id, order_index asc, created_at desc, id desc
            """,
            (collection_ids,),
        )
        return await cur.fetchall()


async def insert_collection(
    conn: Conn, *, title: str, description: str | None, is_featured: bool, order_index: int
) -> CollectionRow:
    async with conn.cursor(row_factory=class_row(CollectionRow)) as cur:
        await cur.execute(
            """
            insert into public.community_collections (title, description, is_featured, order_index)
            values (%s, %s, %s, %s)
            returning id, title, description, is_featured, order_index, created_at
            """,
            (title, description, is_featured, order_index),
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def update_collection(
    conn: Conn, *, collection_id: UUID, changes: dict[str, Any]
) -> CollectionRow | None:
    """Set the given columns (names come from the schema, never from the client's keys)."""
    query = sql.SQL(
        "update public.community_collections set {} where id = %(id)s returning {}"
    ).format(_assignments(changes), _COLLECTION_COLUMNS)
    async with conn.cursor(row_factory=class_row(CollectionRow)) as cur:
        await cur.execute(query, {**changes, "id": collection_id})
        return await cur.fetchone()


async def delete_collection(conn: Conn, *, collection_id: UUID) -> bool:
    cur = await conn.execute(
        "delete from public.community_collections where id = %s", (collection_id,)
    )
    return cur.rowcount > 0


async def list_stored_paths(conn: Conn, *, collection_id: UUID) -> list[str]:
    """Files the collection's external items own (render items share their render's files)."""
    cur = await conn.execute(
        """
        select unnest(array[image_path, thumb_path]) as path
          from public.community_items
         where collection_id = %s and render_id is null
        """,
        (collection_id,),
    )
    return [row["path"] for row in await cur.fetchall() if row["path"] is not None]


async def reorder_collections(conn: Conn, *, ids: list[UUID]) -> int:
    """order_index = position in `ids`; returns how many collections were found."""
    cur = await conn.execute(
        """
        update public.community_collections c
           set order_index = position.idx - 1
          from unnest(%s::uuid[]) with ordinality as position(id, idx)
         where c.id = position.id
        """,
        (ids,),
    )
    return cur.rowcount


async def insert_item(
    conn: Conn,
    *,
    item_id: UUID,
    collection_id: UUID,
    render_id: UUID | None,
    source_url: str | None,
    image_path: str,
    thumb_path: str | None,
    title: str | None,
    apply_settings: dict[str, Any],
    order_index: int,
) -> ItemRow:
    """An item showing either a render's cover (`render_id`: its paths are the render's files,
    not copies) or an image fetched from `source_url` into our public storage."""
    query = sql.SQL(
        """
        insert into public.community_items
               (id, collection_id, render_id, external_image_url, image_path, thumb_path, title,
                apply_settings, order_index)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
        returning {}
        """
    ).format(_ITEM_COLUMNS)
    async with conn.cursor(row_factory=class_row(ItemRow)) as cur:
        await cur.execute(
            query,
            (
                item_id,
                collection_id,
                render_id,
                source_url,
                image_path,
                thumb_path,
                title,
                Jsonb(apply_settings),
                order_index,
            ),
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def update_item(conn: Conn, *, item_id: UUID, changes: dict[str, Any]) -> ItemRow | None:
    """Set the given columns (names come from the schema, never from the client's keys)."""
    values = {
        column: Jsonb(value) if column == "apply_settings" else value
        for column, value in changes.items()
    }
    query = sql.SQL("update public.community_items set {} where id = %(id)s returning {}").format(
        _assignments(values), _ITEM_COLUMNS
    )
    async with conn.cursor(row_factory=class_row(ItemRow)) as cur:
        await cur.execute(query, {**values, "id": item_id})
        return await cur.fetchone()


async def delete_item(conn: Conn, *, item_id: UUID) -> ItemRow | None:
    async with conn.cursor(row_factory=class_row(ItemRow)) as cur:
        await cur.execute(
            """
            delete from public.community_items where id = %s
            returning id, collection_id, render_id, external_image_url, image_path, thumb_path,
                   title, apply_settings, order_index, created_at
            """,
            (item_id,),
        )
        return await cur.fetchone()


async def find_item(
    conn: Conn, *, collection_id: UUID, title: str | None, source: str
) -> ItemRow | None:
    """The collection's item of this title, or (untitled) of this image source."""
    async with conn.cursor(row_factory=class_row(ItemRow)) as cur:
        await cur.execute(
            """
            select id, collection_id, render_id, external_image_url, image_path, thumb_path,
                   title, apply_settings, order_index, created_at from public.community_items
             where collection_id = %(collection)s
               and case when %(title)s::text is null then external_image_url = %(source)s
                        else title = %(title)s end
             order by created_at limit 1
            """,
            {"collection": collection_id, "title": title, "source": source},
        )
        return await cur.fetchone()
