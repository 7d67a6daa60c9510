import asyncio
from collections.abc import Awaitable, Callable
from uuid import UUID, uuid4

import httpx
import pytest

from roomcraft.collections import service as collections_service
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_user
from tests.factories import Account
from tests.renders.factories import collect_pages, count_rows, create_render

ClientFor = Callable[[Account], Awaitable[httpx.AsyncClient]]
ITEMS = "select count(*) from public.collection_items where collection_id = %s"


async def _create_collection(client: httpx.AsyncClient, name: str = "Kitchens") -> str:
    response = await client.post("/api/v1/collections/upsert", json={"name": name})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["id"])


async def _collections(client: httpx.AsyncClient) -> list[dict[str, object]]:
    response = await client.get("/api/v1/collections")
    assert response.status_code == 200
    collections: list[dict[str, object]] = response.json()["data"]["collections"]
    return collections


async def _favorites_id(client: httpx.AsyncClient) -> str:
    return str((await _collections(client))[0]["id"])


class TestToggleFavorite:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/favorites/toggle", json={"renderId": str(uuid4())})
        assert response.status_code == 401

    async def test_other_users_render_is_not_found(
        self, client_for: ClientFor, user: Account, other_user: Account, pool: Pool
    ) -> None:
        theirs = await create_render(pool, owner_id=other_user.id)
        client = await client_for(user)
        response = await client.post("/api/v1/favorites/toggle", json={"renderId": str(theirs.id)})
        assert response.status_code == 404
        assert await count_rows(pool, "select count(*) from public.collection_items") == 0

    async def test_bad_input_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        for body in ({}, {"renderId": "x"}, {"renderId": str(uuid4()), "extra": 1}):
            response = await client.post("/api/v1/favorites/toggle", json=body)
            assert response.status_code == 400, body

    async def test_toggles_on_and_off(
        self, client_for: ClientFor, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        body = {"renderId": str(render.id)}

        first = await client.post("/api/v1/favorites/toggle", json=body)
        assert first.json()["data"] == {"isFavorited": True}
        assert (await _collections(client))[0]["itemsCount"] == 1
        second = await client.post("/api/v1/favorites/toggle", json=body)
        assert second.json()["data"] == {"isFavorited": False}
        assert (await _collections(client))[0]["itemsCount"] == 0

    async def test_concurrent_toggles_end_consistent(self, user: Account, pool: Pool) -> None:
        render = await create_render(pool, owner_id=user.id)

        async def toggle() -> bool:
            async with as_user(pool, user.id) as conn:
                return await collections_service.toggle_favorite(
                    conn, owner_id=user.id, render_id=render.id
                )

        outcomes = await asyncio.gather(*(toggle() for _ in range(100)))
        await toggle()  # one more: 101 flips from "not a favorite" end on "favorite"

        rows = await count_rows(
            pool, "select count(*) from public.collection_items where render_id = %s", render.id
        )
        assert rows == 1
        assert outcomes.count(True) == outcomes.count(False) == 50


class TestListFavorites:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/favorites/list")).status_code == 401

    async def test_bad_input_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        for params in ({"limit": 0}, {"limit": 51}, {"cursor": "%%%"}):
            response = await client.get("/api/v1/favorites/list", params=params)
            assert response.status_code == 400, params

    async def test_newest_favorited_first_across_pages(
        self, client_for: ClientFor, user: Account, other_user: Account, pool: Pool
    ) -> None:
        renders = [await create_render(pool, owner_id=user.id) for _ in range(7)]
        other = await create_render(pool, owner_id=other_user.id)
        client = await client_for(user)
        other_client = await client_for(other_user)
        await other_client.post("/api/v1/favorites/toggle", json={"renderId": str(other.id)})
        for render in reversed(renders):  # the oldest render is favorited last
            await client.post("/api/v1/favorites/toggle", json={"renderId": str(render.id)})

        ids = await collect_pages(client, "/api/v1/favorites/list", limit=3)

        assert ids == [str(render.id) for render in renders]
        page = (await client.get("/api/v1/favorites/list")).json()["data"]
        assert all(item["isFavorited"] for item in page["items"])
        assert page["items"][0]["variantCount"] == 2


class TestListCollections:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/collections")).status_code == 401

    async def test_default_first_with_counts(
        self, client_for: ClientFor, user: Account, other_user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        await _create_collection(await client_for(other_user), "Not mine")
        first = await _create_collection(client, "Older")
        second = await _create_collection(client, "Newer")
        await client.post(
            "/api/v1/collections/items/toggle",
            json={"collectionId": first, "renderId": str(render.id)},
        )

        collections = await _collections(client)

        assert [(c["name"], c["itemsCount"], c["isDefaultFavorites"]) for c in collections] == [
            ("My Favorites", 0, True),
            ("Newer", 0, False),
            ("Older", 1, False),
        ]
        assert collections[1]["id"] == second


class TestUpsertCollection:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/collections/upsert", json={"name": "A"})
        assert response.status_code == 401

    async def test_other_users_collection_is_not_found(
        self, client_for: ClientFor, user: Account, other_user: Account
    ) -> None:
        theirs = await _create_collection(await client_for(other_user), "Theirs")
        client = await client_for(user)
        response = await client.post(
            "/api/v1/collections/upsert", json={"id": theirs, "name": "Mine now"}
        )
        assert response.status_code == 404

    async def test_bad_names_are_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        for name in ("", "   ", "x" * 101, None):
            response = await client.post("/api/v1/collections/upsert", json={"name": name})
            assert response.status_code == 400, name

    async def test_creates_trimmed_then_renames(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        created = await client.post("/api/v1/collections/upsert", json={"name": "  Bedrooms  "})
        data = created.json()["data"]
        assert (data["name"], data["itemsCount"], data["isDefaultFavorites"]) == (
            "Bedrooms",
            0,
            False,
        )

        renamed = await client.post(
            "/api/v1/collections/upsert", json={"id": data["id"], "name": "x" * 100}
        )

        assert renamed.status_code == 200
        assert renamed.json()["data"]["name"] == "x" * 100
        assert [c["name"] for c in await _collections(client)] == ["My Favorites", "x" * 100]

    async def test_the_default_cannot_be_renamed(
        self, client_for: ClientFor, user: Account
    ) -> None:
        client = await client_for(user)
        favorites = await _favorites_id(client)

        response = await client.post(
            "/api/v1/collections/upsert", json={"id": favorites, "name": "Best"}
        )

        assert response.status_code == 409
        assert "cannot be renamed" in response.json()["error"]["message"]
        assert (await _collections(client))[0]["name"] == "My Favorites"


class TestDeleteCollection:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/collections/delete", json={"id": str(uuid4())})
        assert response.status_code == 401

    async def test_other_users_collection_is_not_found(
        self, client_for: ClientFor, user: Account, other_user: Account
    ) -> None:
        other_client = await client_for(other_user)
        theirs = await _create_collection(other_client, "Theirs")
        client = await client_for(user)
        response = await client.post("/api/v1/collections/delete", json={"id": theirs})
        assert response.status_code == 404
        assert len(await _collections(other_client)) == 2

    async def test_bad_input_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        for body in ({}, {"id": "nope"}):
            response = await client.post("/api/v1/collections/delete", json=body)
            assert response.status_code == 400, body

    async def test_items_go_and_renders_stay(
        self, client_for: ClientFor, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        collection = await _create_collection(client)
        await client.post(
            "/api/v1/collections/items/add",
            json={"collectionId": collection, "renderIds": [str(render.id)]},
        )

        response = await client.post("/api/v1/collections/delete", json={"id": collection})

        assert response.status_code == 200
        assert response.json()["data"] == {"deleted": True}
        assert await count_rows(pool, ITEMS, UUID(collection)) == 0
        assert await count_rows(pool, "select count(*) from public.renders") == 1
        assert [c["isDefaultFavorites"] for c in await _collections(client)] == [True]

    async def test_the_default_cannot_be_deleted(
        self, client_for: ClientFor, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        await client.post("/api/v1/favorites/toggle", json={"renderId": str(render.id)})
        favorites = await _favorites_id(client)

        response = await client.post("/api/v1/collections/delete", json={"id": favorites})

        assert response.status_code == 409
        assert (await _collections(client))[0]["itemsCount"] == 1


class TestToggleItem:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        body = {"collectionId": str(uuid4()), "renderId": str(uuid4())}
        assert (await client.post("/api/v1/collections/items/toggle", json=body)).status_code == 401

    @pytest.mark.parametrize("whose", ["collection", "render"])
    async def test_other_users_ids_are_not_found(
        self, client_for: ClientFor, user: Account, other_user: Account, pool: Pool, whose: str
    ) -> None:
        client = await client_for(user)
        other_client = await client_for(other_user)
        mine = (await create_render(pool, owner_id=user.id)).id
        theirs = (await create_render(pool, owner_id=other_user.id)).id
        body = {
            "collectionId": await _create_collection(
                other_client if whose == "collection" else client
            ),
            "renderId": str(theirs if whose == "render" else mine),
        }
        response = await client.post("/api/v1/collections/items/toggle", json=body)
        assert response.status_code == 404
        assert await count_rows(pool, "select count(*) from public.collection_items") == 0

    async def test_bad_input_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        response = await client.post(
            "/api/v1/collections/items/toggle", json={"collectionId": str(uuid4())}
        )
        assert response.status_code == 400

    async def test_items_count_follows_toggles_and_render_deletion(
        self, client_for: ClientFor, user: Account, pool: Pool
    ) -> None:
        first, second = [await create_render(pool, owner_id=user.id) for _ in "ab"]
        client = await client_for(user)
        collection = await _create_collection(client)

        async def toggle(render_id: UUID) -> bool:
            response = await client.post(
                "/api/v1/collections/items/toggle",
                json={"collectionId": collection, "renderId": str(render_id)},
            )
            assert response.status_code == 200
            return bool(response.json()["data"]["inCollection"])

        async def items_count() -> object:
            return (await _collections(client))[1]["itemsCount"]

        assert await toggle(first.id) is True
        assert await toggle(second.id) is True
        assert await items_count() == 2
        assert await toggle(first.id) is False
        assert await items_count() == 1
        await client.delete(f"/api/v1/renders/{second.id}")
        assert await items_count() == 0


class TestAddItems:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        body = {"collectionId": str(uuid4()), "renderIds": [str(uuid4())]}
        assert (await client.post("/api/v1/collections/items/add", json=body)).status_code == 401

    async def test_a_render_of_another_user_is_not_found_and_nothing_is_added(
        self, client_for: ClientFor, user: Account, other_user: Account, pool: Pool
    ) -> None:
        mine = await create_render(pool, owner_id=user.id)
        theirs = await create_render(pool, owner_id=other_user.id)
        client = await client_for(user)
        collection = await _create_collection(client)
        response = await client.post(
            "/api/v1/collections/items/add",
            json={"collectionId": collection, "renderIds": [str(mine.id), str(theirs.id)]},
        )
        assert response.status_code == 404
        assert await count_rows(pool, ITEMS, UUID(collection)) == 0

    async def test_another_users_collection_is_not_found(
        self, client_for: ClientFor, user: Account, other_user: Account, pool: Pool
    ) -> None:
        mine = await create_render(pool, owner_id=user.id)
        theirs = await _create_collection(await client_for(other_user))
        client = await client_for(user)
        response = await client.post(
            "/api/v1/collections/items/add",
            json={"collectionId": theirs, "renderIds": [str(mine.id)]},
        )
        assert response.status_code == 404

    async def test_bad_input_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        for ids in ([], [str(uuid4()) for _ in range(101)], ["x"]):
            response = await client.post(
                "/api/v1/collections/items/add",
                json={"collectionId": str(uuid4()), "renderIds": ids},
            )
            assert response.status_code == 400

    async def test_batch_add_is_idempotent(
        self, client_for: ClientFor, user: Account, pool: Pool
    ) -> None:
        renders = [await create_render(pool, owner_id=user.id) for _ in range(3)]
        client = await client_for(user)
        collection = await _create_collection(client)
        ids = [str(render.id) for render in renders]

        first = await client.post(
            "/api/v1/collections/items/add",
            json={"collectionId": collection, "renderIds": ids[:2] + ids[:1]},
        )
        again = await client.post(
            "/api/v1/collections/items/add", json={"collectionId": collection, "renderIds": ids}
        )

        assert first.json()["data"] == {"added": 2}
        assert again.json()["data"] == {"added": 1}
        assert await count_rows(pool, ITEMS, UUID(collection)) == 3


class TestListItems:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/api/v1/collections/{uuid4()}/items")).status_code == 401

    async def test_other_users_collection_is_not_found(
        self, client_for: ClientFor, user: Account, other_user: Account
    ) -> None:
        theirs = await _create_collection(await client_for(other_user))
        client = await client_for(user)
        assert (await client.get(f"/api/v1/collections/{theirs}/items")).status_code == 404

    async def test_bad_input_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        assert (await client.get("/api/v1/collections/x/items")).status_code == 400
        collection = await _create_collection(client)
        response = await client.get(f"/api/v1/collections/{collection}/items?limit=99")
        assert response.status_code == 400

    async def test_pages_of_cards_newest_added_first(
        self, client_for: ClientFor, user: Account, pool: Pool
    ) -> None:
        renders = [await create_render(pool, owner_id=user.id) for _ in range(5)]
        client = await client_for(user)
        collection = await _create_collection(client)
        for render in renders:
            await client.post(
                "/api/v1/collections/items/toggle",
                json={"collectionId": collection, "renderId": str(render.id)},
            )
        await create_render(pool, owner_id=user.id)  # not in the collection

        ids = await collect_pages(client, f"/api/v1/collections/{collection}/items", limit=2)

        assert ids == [str(render.id) for render in reversed(renders)]
