"""All SQL of renders and their variants."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row

from roomcraft.db.session import Conn
from roomcraft.kit.pagination import Cursor


@dataclass(frozen=True)
class RenderRow:
    id: UUID
    job_id: UUID
    mode: str
    room_type: str | None
    style: str | None
    prompt: str | None
    provider: str
    input1_path: str | None
    cover_variant: int
    created_at: datetime
    is_favorited: bool
    collection_ids: list[UUID]  # the caller's collections it is in, "My Favorites" included


# Whether a render `r` is a favorite, and every collection it is in (the "Add to collection"
# menus show their check marks from it): two subqueries on the items' render_id index.
_MEMBERSHIPS = sql.SQL("""
       exists (select 1
                 from public.collection_items fi
                 join public.collections f on f.id = fi.collection_id and f.is_default_favorites
                where fi.render_id = r.id) as is_favorited,
       array(select m.collection_id from public.collection_items m
              where m.render_id = r.id order by m.added_at) as collection_ids
""")


@dataclass(frozen=True)
class VariantRow:
    idx: int
    image_path: str
    thumb_path: str | None
    width: int
    height: int


async def get_render(conn: Conn, *, render_id: UUID) -> RenderRow | None:
    async with conn.cursor(row_factory=class_row(RenderRow)) as cur:
        await cur.execute(
            sql.SQL("""
            select r.id, r.job_id, r.mode, r.room_type, r.style, r.prompt, j.provider,
                   j.input1_path, r.cover_variant, r.created_at, {memberships}
              from public.renders r
              join public.generation_jobs j on j.id = r.job_id
             where r.id = %s
            """).format(memberships=_MEMBERSHIPS),
            (render_id,),
        )
        return await cur.fetchone()


async def list_variants(conn: Conn, *, render_id: UUID) -> list[VariantRow]:
    async with conn.cursor(row_factory=class_row(VariantRow)) as cur:
        await cur.execute(
            """
            select idx, image_path, thumb_path, width, height
              from public.render_variants where render_id = %s order by idx
            """,
            (render_id,),
        )
        return await cur.fetchall()


async def delete_renders(conn: Conn, *, render_ids: list[UUID]) -> tuple[int, list[str]]:
    """Delete renders (variants and collection items cascade): how many went, and their files."""
    cur = await conn.execute(
        """
        with gone as (
            delete from public.renders where id = any(%s) returning id
        )
        select g.id, v.image_path, v.thumb_path
          from gone g
          left join public.render_variants v on v.render_id = g.id
        """,
        (render_ids,),
    )
    rows = await cur.fetchall()
    paths = [row[key] for row in rows for key in ("image_path", "thumb_path") if row[key]]
    return len({row["id"] for row in rows}), paths


@dataclass(frozen=True)
class RenderFilters:
    mode: str | None = None
    room_type: str | None = None
    style: str | None = None


@dataclass(frozen=True)
class RenderCardRow:
    """A render as a card: its cover variant, how many variants, whether it is a favorite, the
    collections it is in and the engine that made it. `sort_at` is the key the list is ordered
    by (created_at, or added_at in a collection)."""

    id: UUID
    mode: str
    room_type: str | None
    style: str | None
    prompt: str | None
    created_at: datetime
    sort_at: datetime
    variant_count: int
    cover_idx: int | None
    cover_image_path: str | None
    cover_thumb_path: str | None
    cover_width: int | None
    cover_height: int | None
    is_favorited: bool
    collection_ids: list[UUID]
    provider: str


# One query per page. The page's rows are chosen first (on the list's index, in its order), and
# only then do they get their cover and engine (joins), variant count and memberships
# (subqueries): written as one flat select, the planner would hash the owner's whole favorites set
# to answer the favorite flag of 25 rows.
_CARDS = """
select r.id, r.mode, r.room_type, r.style, r.prompt, r.created_at, r.sort_at,
       (select count(*) from public.render_variants n where n.render_id = r.id)::int
         as variant_count,
       v.idx as cover_idx, v.image_path as cover_image_path, v.thumb_path as cover_thumb_path,
       v.width as cover_width, v.height as cover_height, j.provider, {memberships}
  from (select r.id, r.job_id, r.mode, r.room_type, r.style, r.prompt, r.created_at,
               r.cover_variant, {sort_at} as sort_at
          from {source}
         where {conditions}
         order by {sort_at} desc, {sort_id} desc
         limit %(limit)s) r
  join public.generation_jobs j on j.id = r.job_id
  left join public.render_variants v on v.render_id = r.id and v.idx = r.cover_variant
 order by r.sort_at desc, r.id desc
"""


async def _list_cards(
    conn: Conn,
    *,
    source: sql.Composable,
    sort_at: sql.Composable,
    sort_id: sql.Composable,
    conditions: list[sql.Composable],
    params: dict[str, Any],
    after: Cursor | None,
    limit: int,
) -> list[RenderCardRow]:
    if after is not None:
        # A row comparison the (…, created_at desc, id desc) indexes answer directly.
        conditions = [
            *conditions,
            sql.SQL("({}, {}) < (%(after_at)s, %(after_id)s)").format(sort_at, sort_id),
        ]
        params = {**params, "after_at": after.created_at, "after_id": after.id}
    query = sql.SQL(_CARDS).format(
        memberships=_MEMBERSHIPS,
        sort_at=sort_at,
        sort_id=sort_id,
        source=source,
        conditions=sql.SQL(" and ").join(conditions),
    )
    async with conn.cursor(row_factory=class_row(RenderCardRow)) as cur:
        await cur.execute(query, {**params, "limit": limit})
        return await cur.fetchall()


async def list_renders(
    conn: Conn, *, owner_id: UUID, filters: RenderFilters, after: Cursor | None, limit: int
) -> list[RenderCardRow]:
    """The owner's renders as cards, newest first, after the cursor."""
    conditions: list[sql.Composable] = [sql.SQL("r.owner_id = %(owner)s")]
    params: dict[str, Any] = {"owner": owner_id}
    for column, value in (
        ("mode", filters.mode),
        ("room_type", filters.room_type),
        ("style", filters.style),
    ):
        if value is not None:
            # Only the filters given are in the query, so the planner sees plain equalities.
            conditions.append(
                sql.SQL("r.{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
            )
            params[column] = value
    return await _list_cards(
        conn,
        source=sql.SQL("public.renders r"),
        sort_at=sql.SQL("r.created_at"),
        sort_id=sql.SQL("r.id"),
        conditions=conditions,
        params=params,
        after=after,
        limit=limit,
    )


async def list_collection_renders(
    conn: Conn, *, owner_id: UUID, collection_id: UUID | None, after: Cursor | None, limit: int
) -> list[RenderCardRow]:
    """Cards of a collection's renders, newest added first; `None` is the owner's favorites."""
    if collection_id is None:
        collection = sql.SQL(
            "(select f.id from public.collections f"
            " where f.owner_id = %(owner)s and f.is_default_favorites)"
        )
    else:
        collection = sql.SQL("%(collection)s")
    return await _list_cards(
        conn,
        source=sql.SQL("public.collection_items ci join public.renders r on r.id = ci.render_id"),
        sort_at=sql.SQL("ci.added_at"),
        sort_id=sql.SQL("ci.render_id"),
        # The collection alone (not the owner too), so its (added_at, render_id) index answers.
        conditions=[sql.SQL("ci.collection_id = {}").format(collection)],
        params={"owner": owner_id, "collection": collection_id},
        after=after,
        limit=limit,
    )


@dataclass(frozen=True)
class CollectionCoverRow:
    collection_id: UUID
    image_path: str
    thumb_path: str | None


async def list_collection_covers(
    conn: Conn, *, owner_id: UUID, per_collection: int
) -> list[CollectionCoverRow]:
    """The cover variants of the newest renders of each of the owner's collections, newest
    added first within a collection; a collection without items has none."""
    async with conn.cursor(row_factory=class_row(CollectionCoverRow)) as cur:
        await cur.execute(
            """
            select c.id as collection_id, v.image_path, v.thumb_path
              from public.collections c
             cross join lateral (
                   select ci.render_id, ci.added_at from public.collection_items ci
                    where ci.collection_id = c.id
                    order by ci.added_at desc, ci.render_id desc
                    limit %(per_collection)s
                   ) newest
              join public.renders r on r.id = newest.render_id
              join public.render_variants v on v.render_id = r.id and v.idx = r.cover_variant
             where c.owner_id = %(owner)s
             order by c.id, newest.added_at desc, newest.render_id desc
            """,
            {"owner": owner_id, "per_collection": per_collection},
        )
        return await cur.fetchall()


async def count_renders(conn: Conn, *, render_ids: list[UUID]) -> int:
    """How many of these renders the caller can see (RLS: their own)."""
    cur = await conn.execute(
        "select count(*)::int as n from public.renders where id = any(%s)", (render_ids,)
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


@dataclass(frozen=True)
class AdminRenderRow:
    """A render of any user, for the admins' curation page: its cover and its job's settings."""

    id: UUID
    owner_email: str
    mode: str
    room_type: str | None
    style: str | None
    prompt: str | None
    settings: dict[str, Any]
    created_at: datetime
    cover_image_path: str | None
    cover_thumb_path: str | None


_ADMIN_RENDERS = """
select r.id, p.email as owner_email, r.mode, r.room_type, r.style, r.prompt, j.settings,
       r.created_at, v.image_path as cover_image_path, v.thumb_path as cover_thumb_path
  from public.renders r
  join public.generation_jobs j on j.id = r.job_id
  join public.profiles p on p.id = r.owner_id
  left join public.render_variants v on v.render_id = r.id and v.idx = r.cover_variant
"""


async def list_recent_renders_of_all(conn: Conn, *, limit: int) -> list[AdminRenderRow]:
    """The newest renders of every user (on a service-role connection: RLS hides others')."""
    async with conn.cursor(row_factory=class_row(AdminRenderRow)) as cur:
        await cur.execute(
            _ADMIN_RENDERS + " order by r.created_at desc, r.id desc limit %s", (limit,)
        )
        return await cur.fetchall()


async def get_render_of_any_user(conn: Conn, *, render_id: UUID) -> AdminRenderRow | None:
    """One render of any user with its job's settings (on a service-role connection)."""
    async with conn.cursor(row_factory=class_row(AdminRenderRow)) as cur:
        await cur.execute(_ADMIN_RENDERS + " where r.id = %s", (render_id,))
        return await cur.fetchone()
