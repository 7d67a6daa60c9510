"""All SQL of renders and their variants."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg.rows import class_row

from roomcraft.db.session import Conn


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
            """
            select r.id, r.job_id, r.mode, r.room_type, r.style, r.prompt, j.provider,
                   j.input1_path, r.cover_variant, r.created_at
              from public.renders r
              join public.generation_jobs j on j.id = r.job_id
             where r.id = %s
            """,
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
