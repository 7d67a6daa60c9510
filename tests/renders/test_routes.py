from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import httpx
import psycopg
import pytest

from roomcraft.collections import service as collections_service
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_user
from roomcraft.renders import service as renders_service
from roomcraft.renders.repository import RenderFilters
from roomcraft.runtime import Runtime
from roomcraft.worker.run import run_worker
from tests.factories import Account
from tests.renders.factories import count_rows, create_render

ClientFor = Callable[[Account], Awaitable[httpx.AsyncClient]]


class TestListRenders:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/renders")).status_code == 401

    async def test_cards_newest_first_with_cover_count_and_favorite(
        self, client_for: ClientFor, user: Account, other_user: Account, pool: Pool
    ) -> None:
        older = await create_render(pool, owner_id=user.id, variants=3, cover_variant=2)
        newer = await create_render(pool, owner_id=user.id, variants=1, prompt="cosy")
        await create_render(pool, owner_id=other_user.id)
        client = await client_for(user)
        await client.post("/api/v1/favorites/toggle", json={"renderId": str(older.id)})

        response = await client.get("/api/v1/renders")

        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-store"
        data = response.json()["data"]
        assert [item["id"] for item in data["items"]] == [str(newer.id), str(older.id)]
        assert data["nextCursor"] is None
        first, second = data["items"]
        assert first["prompt"] == "cosy"
        assert first["variantCount"] == 1
        assert first["isFavorited"] is False
        assert second["variantCount"] == 3
        assert second["isFavorited"] is True
        assert second["roomType"] == "living_room"
        assert second["cover"] == {
            "idx": 2,
            "url": f"/files/public/renders/{older.id}/2.jpg",
            "thumbUrl": f"/files/public/renders/{older.id}/2_thumb.webp",
            "width": 1024,
            "height": 768,
        }

    async def test_filters_combine(self, client_for: ClientFor, user: Account, pool: Pool) -> None:
        match = await create_render(pool, owner_id=user.id, mode="staging", style="boho")
        await create_render(pool, owner_id=user.id, mode="staging", style="modern")
        await create_render(pool, owner_id=user.id, mode="redesign", style="boho")
        await create_render(pool, owner_id=user.id, mode="staging", style="boho", room_type="x")
        client = await client_for(user)

        response = await client.get(
            "/api/v1/renders",
            params={"mode": "staging", "style": "boho", "roomType": "living_room"},
        )

        assert [item["id"] for item in response.json()["data"]["items"]] == [str(match.id)]

    async def test_pages_are_complete_and_stable_while_renders_arrive(
        self, client_for: ClientFor, user: Account, pool: Pool
    ) -> None:
        existing = [await create_render(pool, owner_id=user.id) for _ in range(23)]
        client = await client_for(user)
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 5}
            if cursor:
                params["cursor"] = cursor
            data = (await client.get("/api/v1/renders", params=params)).json()["data"]
            seen += [item["id"] for item in data["items"]]
            cursor = data["nextCursor"]
            if cursor is None:
                break
            await create_render(pool, owner_id=user.id)  # newer than every page so far

        assert seen == [str(render.id) for render in reversed(existing)]

    async def test_bad_input_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        for params in ({"limit": 0}, {"limit": 51}, {"mode": "paint"}, {"cursor": "@@not-one"}):
            response = await client.get("/api/v1/renders", params=params)
            assert response.status_code == 400, params
            assert response.json()["success"] is False


class TestListQueries:
    async def test_one_query_per_page_whatever_the_page_size(
        self, client_for: ClientFor, user: Account, pool: Pool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for _ in range(12):
            render = await create_render(pool, owner_id=user.id, variants=3)
        client = await client_for(user)
        await client.post("/api/v1/favorites/toggle", json={"renderId": str(render.id)})
        statements = _count_statements(monkeypatch)

        counts: dict[tuple[str, int], int] = {}
        for url in ("/api/v1/renders", "/api/v1/favorites/list"):
            await client.get(url)  # the session is touched once; every request below is alike
            for limit in (1, 12, 50):
                statements.clear()
                response = await client.get(url, params={"limit": limit})
                assert response.status_code == 200
                counts[url, limit] = len(statements)

        for url in ("/api/v1/renders", "/api/v1/favorites/list"):
            assert counts[url, 1] == counts[url, 12] == counts[url, 50]

    async def test_the_page_itself_is_one_statement(
        self, user: Account, pool: Pool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for _ in range(5):
            render = await create_render(pool, owner_id=user.id, variants=4)
        async with as_user(pool, user.id) as conn:
            await collections_service.toggle_favorite(conn, owner_id=user.id, render_id=render.id)
            statements = _count_statements(monkeypatch)
            renders = await renders_service.list_renders(
                conn, owner_id=user.id, filters=RenderFilters(), after=None, limit=50
            )
            favorites = await collections_service.list_favorites(
                conn, owner_id=user.id, after=None, limit=50
            )
        assert (len(renders), len(favorites)) == (5, 1)
        assert len(statements) == 2


def _count_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every statement psycopg sends (a connection's `execute` goes through a cursor)."""
    statements: list[str] = []
    original = psycopg.AsyncCursor.execute

    async def counting(cur: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        return await original(cur, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncCursor, "execute", counting)
    return statements


class TestGetRender:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/api/v1/renders/{uuid4()}")).status_code == 401

    async def test_other_users_render_is_not_found(
        self, client_for: ClientFor, user: Account, other_user: Account, pool: Pool
    ) -> None:
        theirs = await create_render(pool, owner_id=other_user.id)
        client = await client_for(user)
        assert (await client.get(f"/api/v1/renders/{theirs.id}")).status_code == 404

    async def test_bad_id_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        assert (await client.get("/api/v1/renders/not-a-uuid")).status_code == 400

    async def test_render_with_all_variants(
        self, client_for: ClientFor, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id, variants=3)
        client = await client_for(user)

        data = (await client.get(f"/api/v1/renders/{render.id}")).json()["data"]

        assert data["id"] == str(render.id)
        assert data["jobId"] == str(render.job_id)
        assert [variant["idx"] for variant in data["variants"]] == [0, 1, 2]
        assert data["variants"][1]["url"] == f"/files/public/renders/{render.id}/1.jpg"


class TestDeleteRender:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await client.delete(f"/api/v1/renders/{uuid4()}")).status_code == 401

    async def test_other_users_render_is_not_found_and_stays(
        self, client_for: ClientFor, user: Account, other_user: Account, pool: Pool
    ) -> None:
        theirs = await create_render(pool, owner_id=other_user.id)
        client = await client_for(user)
        assert (await client.delete(f"/api/v1/renders/{theirs.id}")).status_code == 404
        query = "select count(*) from public.renders where id = %s"
        assert await count_rows(pool, query, theirs.id) == 1

    async def test_bad_id_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        assert (await client.delete("/api/v1/renders/nope")).status_code == 400

    async def test_rows_items_and_files_go_and_the_job_stays(
        self, client_for: ClientFor, user: Account, pool: Pool, runtime: Runtime
    ) -> None:
        render = await create_render(pool, owner_id=user.id, storage=runtime.storage)
        kept = await create_render(pool, owner_id=user.id, storage=runtime.storage)
        client = await client_for(user)
        for target in (render, kept):
            await client.post("/api/v1/favorites/toggle", json={"renderId": str(target.id)})

        response = await client.delete(f"/api/v1/renders/{render.id}")

        assert response.status_code == 200
        assert response.json()["data"] == {"deleted": 1}
        one = "select count(*) from public.{} where {} = %s"
        assert await count_rows(pool, one.format("renders", "id"), render.id) == 0
        assert await count_rows(pool, one.format("render_variants", "render_id"), render.id) == 0
        assert await count_rows(pool, one.format("collection_items", "render_id"), render.id) == 0
        assert await count_rows(pool, one.format("collection_items", "render_id"), kept.id) == 1
        assert await count_rows(pool, one.format("generation_jobs", "id"), render.job_id) == 1
        assert await runtime.storage.exists("public", render.paths[0])  # until the commit's task

        await run_worker(runtime, wait=False)

        for path in render.paths:
            assert not await runtime.storage.exists("public", path)
        for path in kept.paths:
            assert await runtime.storage.exists("public", path)


class TestDeleteRenders:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/renders/delete", json={"renderIds": [str(uuid4())]})
        assert response.status_code == 401

    async def test_bad_input_is_rejected(self, client_for: ClientFor, user: Account) -> None:
        client = await client_for(user)
        too_many = [str(uuid4()) for _ in range(101)]
        for body in ({"renderIds": []}, {"renderIds": too_many}, {"renderIds": ["x"]}, {}):
            response = await client.post("/api/v1/renders/delete", json=body)
            assert response.status_code == 400, body

    async def test_only_the_callers_renders_go(
        self,
        client_for: ClientFor,
        user: Account,
        other_user: Account,
        pool: Pool,
        runtime: Runtime,
    ) -> None:
        mine = [await create_render(pool, owner_id=user.id, storage=runtime.storage) for _ in "ab"]
        theirs = await create_render(pool, owner_id=other_user.id, storage=runtime.storage)
        client = await client_for(user)

        response = await client.post(
            "/api/v1/renders/delete",
            json={"renderIds": [str(r.id) for r in (*mine, theirs)] + [str(mine[0].id)]},
        )

        assert response.status_code == 200
        assert response.json()["data"] == {"deleted": 2}
        assert await count_rows(pool, "select count(*) from public.renders") == 1
        await run_worker(runtime, wait=False)
        assert not await runtime.storage.exists("public", mine[1].paths[-1])
        assert await runtime.storage.exists("public", theirs.paths[0])
