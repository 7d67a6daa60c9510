"""Renders made the way the worker records them, for community items to point at."""

from uuid import UUID

from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service


async def create_render(pool: Pool, *, owner_id: UUID) -> UUID:
    """A succeeded job with a render whose cover is variant 1 of two."""
    async with as_service(pool) as conn:
        cur = await conn.execute(
            """
            insert into public.generation_jobs (owner_id, mode, provider, status)
            values (%s, 'redesign', 'local', 'succeeded') returning id
            """,
            (owner_id,),
        )
        job = await cur.fetchone()
        assert job is not None
        cur = await conn.execute(
            """
            insert into public.renders (job_id, owner_id, mode, style, cover_variant)
            values (%s, %s, 'redesign', 'modern', 1) returning id
            """,
            (job["id"], owner_id),
        )
        render = await cur.fetchone()
        assert render is not None
        for idx in (0, 1):
            await conn.execute(
                """
                insert into public.render_variants
                       (render_id, owner_id, idx, image_path, thumb_path, width, height, bytes)
                values (%s, %s, %s, %s, %s, 64, 48, 1000)
                """,
                (
                    render["id"],
                    owner_id,
                    idx,
                    f"renders/{render['id']}/{idx}.jpg",
                    f"renders/{render['id']}/{idx}_thumb.webp",
                ),
            )
    return UUID(str(render["id"]))
