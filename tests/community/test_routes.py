from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.generations.service import prefill
from roomcraft.runtime import Runtime
from tests.community.factories import create_render
from tests.factories import Account, create_user

ClientFor = Callable[[Account], Awaitable[httpx.AsyncClient]]
ADMIN = "/api/v1/admin/community"
LOOK = {
    "mode": "redesign",
    "roomType": "living_room",
    "style": "scandinavian",
    "prompt": "warm light & oak",
    "aspectRatio": "4:3",
    "quality": "high",
    "variants": 2,
}
ZERO = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
async def admin(pool: Pool, settings: Settings, client_for: ClientFor) -> httpx.AsyncClient:
    return await client_for(await create_user(pool, settings, is_admin=True))


async def create_collection(admin: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await admin.post(f"{ADMIN}/collections", json={"title": "Calm rooms", **fields})
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def create_item(admin: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    return await admin.post(f"{ADMIN}/items", json={"applySettings": LOOK, **fields})


class TestPublicRead:
    async def test_signed_out_visitor_reads_the_gallery(
        self, admin: httpx.AsyncClient, client: httpx.AsyncClient, image_server: str
    ) -> None:
        collection = await create_collection(admin, description="Soft and light")
        created = await create_item(
            admin, collectionId=collection["id"], externalImageUrl=f"{image_server}/room.jpg"
        )
        assert created.status_code == 200, created.text

        response = await client.get("/api/v1/community")

        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=60"
        [listed] = response.json()["data"]["collections"]
        assert listed["title"] == "Calm rooms"
        assert listed["description"] == "Soft and light"
        [item] = listed["items"]
        assert item["applySettings"] == LOOK
        assert item["imageUrl"].endswith(f"community/{item['id']}.jpg")

    async def test_one_collection_by_id(
        self, admin: httpx.AsyncClient, client: httpx.AsyncClient
    ) -> None:
        collection = await create_collection(admin)

        response = await client.get(f"/api/v1/community/{collection['id']}")

        assert response.status_code == 200
        assert response.json()["data"]["id"] == collection["id"]

    async def test_unknown_collection_is_not_found(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/api/v1/community/{ZERO}")

        assert response.status_code == 404

    async def test_featured_first_then_order_then_newest(
        self, admin: httpx.AsyncClient, client: httpx.AsyncClient, pool: Pool
    ) -> None:
        older = await create_collection(admin, title="Older", orderIndex=1)
        newer = await create_collection(admin, title="Newer", orderIndex=1)
        first = await create_collection(admin, title="First", orderIndex=0)
        featured = await create_collection(admin, title="Featured", isFeatured=True, orderIndex=9)
        render_id = await create_render(pool, owner_id=(await _any_user(pool)))
        for title, order in (("b", 1), ("c", 1), ("a", 0)):
            await create_item(admin, collectionId=first["id"], renderId=str(render_id), title=title)
            await admin.patch(
                f"{ADMIN}/items/{await _item_id(admin, first['id'], title)}",
                json={"orderIndex": order},
            )

        collections = (await client.get("/api/v1/community")).json()["data"]["collections"]

        assert [c["id"] for c in collections] == [
            featured["id"],
            first["id"],
            newer["id"],
            older["id"],
        ]
        assert [i["title"] for i in collections[1]["items"]] == ["a", "c", "b"]


async def _any_user(pool: Pool) -> Any:
    async with as_service(pool) as conn:
        cur = await conn.execute("select id from public.profiles limit 1")
        row = await cur.fetchone()
    assert row is not None
    return row["id"]


async def _item_id(admin: httpx.AsyncClient, collection_id: str, title: str) -> str:
    collection = (await admin.get(f"/api/v1/community/{collection_id}")).json()["data"]
    return str(next(i["id"] for i in collection["items"] if i["title"] == title))


ADMIN_ROUTES = [
    ("POST", "/collections", {"title": "x"}),
    ("POST", "/collections/reorder", {"ids": [ZERO]}),
    ("PATCH", f"/collections/{ZERO}", {"title": "x"}),
    ("DELETE", f"/collections/{ZERO}", None),
    ("POST", "/items", {"collectionId": ZERO, "renderId": ZERO, "applySettings": LOOK}),
    ("PATCH", f"/items/{ZERO}", {"title": "x"}),
    ("DELETE", f"/items/{ZERO}", None),
]


class TestAdminAccess:
    @pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
    async def test_anonymous_is_unauthorized(
        self, client: httpx.AsyncClient, method: str, path: str, body: Any
    ) -> None:
        response = await client.request(method, ADMIN + path, json=body)

        assert response.status_code == 401

    @pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
    async def test_signed_in_non_admin_is_forbidden(
        self, client_for: ClientFor, user: Account, method: str, path: str, body: Any
    ) -> None:
        signed_in = await client_for(user)

        response = await signed_in.request(method, ADMIN + path, json=body)

        assert response.status_code == 403

    @pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
    async def test_admin_gets_not_found_for_unknown_ids(
        self, admin: httpx.AsyncClient, method: str, path: str, body: Any
    ) -> None:
        response = await admin.request(method, ADMIN + path, json=body)

        assert response.status_code == (200 if path == "/collections" else 404), response.text


class TestCollections:
    async def test_edit_then_delete(self, admin: httpx.AsyncClient) -> None:
        collection = await create_collection(admin, description="Old")

        edited = await admin.patch(
            f"{ADMIN}/collections/{collection['id']}",
            json={"title": "  Bright rooms ", "description": "", "isFeatured": True},
        )
        deleted = await admin.delete(f"{ADMIN}/collections/{collection['id']}")

        assert edited.status_code == 200
        data = edited.json()["data"]
        assert (data["title"], data["description"], data["isFeatured"]) == (
            "Bright rooms",
            None,
            True,
        )
        assert deleted.status_code == 200
        assert (await admin.get(f"/api/v1/community/{collection['id']}")).status_code == 404

    @pytest.mark.parametrize(
        "body", [{"title": ""}, {"title": "x" * 121}, {"title": "ok", "description": "d" * 1001}]
    )
    async def test_bad_fields_are_rejected(
        self, admin: httpx.AsyncClient, body: dict[str, Any]
    ) -> None:
        response = await admin.post(f"{ADMIN}/collections", json=body)

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"

    async def test_reorder_sets_order_by_position(
        self, admin: httpx.AsyncClient, client: httpx.AsyncClient
    ) -> None:
        ids = [(await create_collection(admin, title=t))["id"] for t in ("a", "b", "c")]

        response = await admin.post(
            f"{ADMIN}/collections/reorder", json={"ids": [ids[1], ids[2], ids[0]]}
        )

        assert response.status_code == 200
        listed = (await client.get("/api/v1/community")).json()["data"]["collections"]
        assert [c["id"] for c in listed] == [ids[1], ids[2], ids[0]]


class TestItems:
    async def test_item_from_another_users_render_shows_only_its_image(
        self, admin: httpx.AsyncClient, client: httpx.AsyncClient, pool: Pool, user: Account
    ) -> None:
        render_id = await create_render(pool, owner_id=user.id)
        collection = await create_collection(admin)

        created = await create_item(admin, collectionId=collection["id"], renderId=str(render_id))
        public = await client.get(f"/api/v1/community/{collection['id']}")

        assert created.status_code == 200, created.text
        [item] = public.json()["data"]["items"]
        assert item["imageUrl"].endswith(f"renders/{render_id}/1.jpg")
        assert item["thumbUrl"].endswith(f"renders/{render_id}/1_thumb.webp")
        for body in (created.text, public.text):
            assert str(user.id) not in body
            assert "owner" not in body.lower()

    async def test_unknown_render_is_not_found(self, admin: httpx.AsyncClient) -> None:
        collection = await create_collection(admin)

        response = await create_item(admin, collectionId=collection["id"], renderId=ZERO)

        assert response.status_code == 404

    async def test_external_image_is_fetched_into_public_storage(
        self, admin: httpx.AsyncClient, image_server: str, runtime: Runtime
    ) -> None:
        collection = await create_collection(admin)

        response = await create_item(
            admin, collectionId=collection["id"], externalImageUrl=f"{image_server}/room.jpg"
        )

        assert response.status_code == 200, response.text
        item = response.json()["data"]
        assert image_server not in response.text
        stored = await runtime.storage.get("public", f"community/{item['id']}.jpg")
        assert stored.startswith(b"\xff\xd8")
        assert await runtime.storage.exists("public", f"community/{item['id']}_thumb.webp")

    @pytest.mark.parametrize(
        "url",
        [
            "http://example.com/room.jpg",
            "ftp://127.0.0.1/room.jpg",
            "file:///etc/passwd",
            "http://127.0.0.1.evil.example/room.jpg",
        ],
    )
    async def test_disallowed_source_is_rejected(self, admin: httpx.AsyncClient, url: str) -> None:
        collection = await create_collection(admin)

        response = await create_item(admin, collectionId=collection["id"], externalImageUrl=url)

        assert response.status_code == 400
        assert "127.0.0.1" in response.json()["error"]["message"]

    async def test_missing_remote_image_is_rejected(
        self, admin: httpx.AsyncClient, image_server: str
    ) -> None:
        collection = await create_collection(admin)

        response = await create_item(
            admin, collectionId=collection["id"], externalImageUrl=f"{image_server}/nope.jpg"
        )

        assert response.status_code == 400

    @pytest.mark.parametrize(
        "change", [{"style": "no_such_style"}, {"variants": 9}, {"roomType": "moon_base"}]
    )
    async def test_bad_apply_settings_are_rejected(
        self, admin: httpx.AsyncClient, pool: Pool, user: Account, change: dict[str, Any]
    ) -> None:
        render_id = await create_render(pool, owner_id=user.id)
        collection = await create_collection(admin)

        response = await admin.post(
            f"{ADMIN}/items",
            json={
                "collectionId": collection["id"],
                "renderId": str(render_id),
                "applySettings": {**LOOK, **change},
            },
        )

        assert response.status_code == 400

    async def test_try_url_round_trips_through_prefill(
        self, admin: httpx.AsyncClient, pool: Pool, user: Account, runtime: Runtime
    ) -> None:
        collection = await create_collection(admin)
        render_id = await create_render(pool, owner_id=user.id)
        response = await create_item(admin, collectionId=collection["id"], renderId=str(render_id))

        try_url = urlsplit(response.json()["data"]["tryUrl"])

        assert try_url.path == "/generate"
        settings = prefill(runtime.presets, dict(parse_qsl(try_url.query)))
        assert settings == {
            "mode": "redesign",
            "room_type": "living_room",
            "style": "scandinavian",
            "prompt": "warm light & oak",
            "aspect_ratio": "4:3",
            "quality": "high",
            "variants": 2,
        }

    async def test_deleting_the_render_removes_the_item(
        self, admin: httpx.AsyncClient, client: httpx.AsyncClient, pool: Pool, user: Account
    ) -> None:
        collection = await create_collection(admin)
        render_id = await create_render(pool, owner_id=user.id)
        await create_item(admin, collectionId=collection["id"], renderId=str(render_id))

        async with as_service(pool) as conn:
            await conn.execute("delete from public.renders where id = %s", (render_id,))

        public = await client.get(f"/api/v1/community/{collection['id']}")
        assert public.json()["data"]["items"] == []

    async def test_edit_then_delete_an_item(
        self, admin: httpx.AsyncClient, pool: Pool, user: Account
    ) -> None:
        collection = await create_collection(admin)
        render_id = await create_render(pool, owner_id=user.id)
        created = await create_item(admin, collectionId=collection["id"], renderId=str(render_id))
        item_id = created.json()["data"]["id"]

        edited = await admin.patch(
            f"{ADMIN}/items/{item_id}",
            json={"title": "Oak and linen", "applySettings": {"mode": "staging"}},
        )
        deleted = await admin.delete(f"{ADMIN}/items/{item_id}")

        assert edited.status_code == 200
        assert edited.json()["data"]["title"] == "Oak and linen"
        assert edited.json()["data"]["tryUrl"] == "/generate?mode=staging"
        assert deleted.status_code == 200
        assert (await admin.delete(f"{ADMIN}/items/{item_id}")).status_code == 404
