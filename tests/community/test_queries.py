from typing import Any, Self

import pytest
from psycopg import AsyncCursor

from roomcraft.community import service as community_service
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_anon, as_service
from tests.community.factories import create_render
from tests.factories import Account


class _CountingCursor(AsyncCursor[Any]):
    """A cursor that counts the statements it sends, across the connection."""

    statements = 0

    async def execute(self, *args: Any, **kwargs: Any) -> Self:
        type(self).statements += 1
        return await super().execute(*args, **kwargs)


async def _fill(pool: Pool, owner: Account, *, collections: int, items: int) -> None:
    render_id = await create_render(pool, owner_id=owner.id)
    async with as_service(pool) as conn:
        for index in range(collections):
            cur = await conn.execute(
                "insert into public.community_collections (title) values (%s) returning id",
                (f"Collection {index}",),
            )
            row = await cur.fetchone()
            assert row is not None
            for _ in range(items):
                await conn.execute(
                    "insert into public.community_items (collection_id, render_id) values (%s, %s)",
                    (row["id"], render_id),
                )


class TestGalleryQueries:
    @pytest.mark.parametrize(("collections", "items"), [(1, 1), (12, 8)])
    async def test_two_statements_whatever_the_size(
        self, pool: Pool, user: Account, collections: int, items: int
    ) -> None:
        await _fill(pool, user, collections=collections, items=items)

        _CountingCursor.statements = 0
        async with as_anon(pool) as conn:
            conn.cursor_factory = _CountingCursor
            try:
                views = await community_service.list_gallery(conn)
            finally:
                conn.cursor_factory = AsyncCursor

        assert sum(len(v.items) for v in views) == collections * items
        assert _CountingCursor.statements == 2
