"""The set operations behind the heart and "Remove from this collection" without JavaScript:
idempotent, safe when many arrive at once, and blind to other users' renders and collections."""

import asyncio
from uuid import UUID

import pytest

from roomcraft.collections import service as collections_service
from roomcraft.collections.errors import CollectionNotFound
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_user
from roomcraft.renders.service import RenderNotFound
from tests.factories import Account
from tests.renders.factories import count_rows, create_render

ITEMS_OF_RENDER = "select count(*) from public.collection_items where render_id = %s"


async def _set_favorite(pool: Pool, owner: Account, render_id: UUID, favorited: bool) -> bool:
    async with as_user(pool, owner.id) as conn:
        return await collections_service.set_favorite(
            conn, owner_id=owner.id, render_id=render_id, favorited=favorited
        )


async def _create_collection(pool: Pool, owner: Account, name: str) -> UUID:
    async with as_user(pool, owner.id) as conn:
        collection = await collections_service.upsert_collection(
            conn, owner_id=owner.id, collection_id=None, name=name
        )
        return collection.id


class TestSetFavorite:
    async def test_fifty_concurrent_favorites_leave_one_item(
        self, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)

        changed = await asyncio.gather(
            *(_set_favorite(pool, user, render.id, True) for _ in range(50))
        )

        assert await count_rows(pool, ITEMS_OF_RENDER, render.id) == 1
        assert changed.count(True) == 1

        changed = await asyncio.gather(
            *(_set_favorite(pool, user, render.id, False) for _ in range(50))
        )

        assert await count_rows(pool, ITEMS_OF_RENDER, render.id) == 0
        assert changed.count(True) == 1

    async def test_another_users_render_is_not_found(
        self, user: Account, other_user: Account, pool: Pool
    ) -> None:
        theirs = await create_render(pool, owner_id=other_user.id)
        await _set_favorite(pool, other_user, theirs.id, True)

        for favorited in (True, False):
            with pytest.raises(RenderNotFound):
                await _set_favorite(pool, user, theirs.id, favorited)

        assert await count_rows(pool, ITEMS_OF_RENDER, theirs.id) == 1


class TestRemoveItem:
    async def test_removes_once_and_then_is_a_no_op(self, user: Account, pool: Pool) -> None:
        render = await create_render(pool, owner_id=user.id)
        collection = await _create_collection(pool, user, "Balconies")
        async with as_user(pool, user.id) as conn:
            await collections_service.add_items(
                conn, owner_id=user.id, collection_id=collection, render_ids=[render.id]
            )

        removed = []
        for _ in range(2):
            async with as_user(pool, user.id) as conn:
                removed.append(
                    await collections_service.remove_item(
                        conn, owner_id=user.id, collection_id=collection, render_id=render.id
                    )
                )

        assert removed == [True, False]
        assert await count_rows(pool, ITEMS_OF_RENDER, render.id) == 0
        assert await count_rows(pool, "select count(*) from public.renders") == 1

    async def test_another_users_collection_or_render_is_not_found(
        self, user: Account, other_user: Account, pool: Pool
    ) -> None:
        mine = await create_render(pool, owner_id=user.id)
        theirs = await create_render(pool, owner_id=other_user.id)
        their_collection = await _create_collection(pool, other_user, "Private")
        my_collection = await _create_collection(pool, user, "Mine")

        cases = [
            (their_collection, mine.id, CollectionNotFound),
            (my_collection, theirs.id, RenderNotFound),
        ]
        for collection_id, render_id, error in cases:
            async with as_user(pool, user.id) as conn:
                with pytest.raises(error):
                    await collections_service.remove_item(
                        conn, owner_id=user.id, collection_id=collection_id, render_id=render_id
                    )
