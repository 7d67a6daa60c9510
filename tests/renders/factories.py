"""Renders made the way a succeeded job leaves them, through the service role."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import httpx

from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.storage.service import Storage


@dataclass(frozen=True)
class Render:
    id: UUID
    job_id: UUID
    paths: list[str]


async def create_render(
    pool: Pool,
    *,
    owner_id: UUID,
    mode: str = "redesign",
    room_type: str | None = "living_room",
    style: str | None = "modern",
    prompt: str | None = None,
    variants: int = 2,
    cover_variant: int = 0,
    created_at: datetime | None = None,
    storage: Storage | None = None,
) -> Render:
    """A succeeded job, its render and `variants` variants; files written when `storage` given."""
    render_id = uuid4()
    paths: list[str] = []
    async with as_service(pool) as conn:
        cur = await conn.execute(
            """
            insert into public.generation_jobs (owner_id, mode, room_type, style, prompt,
                                                provider, status, completed_at)
            values (%s, %s, %s, %s, %s, 'local', 'succeeded', now())
            returning id
            """,
            (owner_id, mode, room_type, style, prompt),
        )
        job = await cur.fetchone()
        assert job is not None
        await conn.execute(
            """
            insert into public.renders (id, job_id, owner_id, mode, room_type, style, prompt,
                                        cover_variant, created_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, clock_timestamp()))
            """,
            (
                render_id,
                job["id"],
                owner_id,
                mode,
                room_type,
                style,
                prompt,
                cover_variant,
                created_at,
            ),
        )
        for idx in range(variants):
            image, thumb = f"renders/{render_id}/{idx}.jpg", f"renders/{render_id}/{idx}_thumb.webp"
            await conn.execute(
                """
                insert into public.render_variants
                       (render_id, owner_id, idx, image_path, thumb_path, width, height, bytes)
                values (%s, %s, %s, %s, %s, 1024, 768, 1000)
                """,
                (render_id, owner_id, idx, image, thumb),
            )
            paths += [image, thumb]
    if storage is not None:
        for path in paths:
            await storage.put("public", path, b"image", content_type="image/jpeg")
    return Render(id=render_id, job_id=job["id"], paths=paths)


async def count_rows(pool: Pool, query: str, *params: object) -> int:
    """The single number a counting query returns, read as the service role."""
    async with as_service(pool) as conn:
        cur = await conn.execute(query, params)
        row = await cur.fetchone()
        assert row is not None
        return int(next(iter(row.values())))


async def collect_pages(client: httpx.AsyncClient, url: str, limit: int) -> list[str]:
    """Every item id of a paginated list, following `nextCursor` to the end."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(url, params=params)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        ids += [item["id"] for item in data["items"]]
        cursor = data["nextCursor"]
        if cursor is None:
            return ids
