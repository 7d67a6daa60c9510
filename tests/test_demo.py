"""The demo, run for real: the local engine renders its scenes through the queue's worker, and the
demo account's library pages and the public gallery all have something to show."""

import io
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from PIL import Image

from roomcraft.auth.passwords import Passwords
from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.demo.scenes import GALLERY, SCENES, USER_COLLECTION
from roomcraft.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, DemoSummary, ensure_account, seed
from roomcraft.runtime import Runtime
from tests.factories import Account

ClientFor = Callable[[Account], Awaitable[httpx.AsyncClient]]

# Rows of every table the demo writes, and how many of the demo's jobs ended charged exactly the
# variants they delivered.
_SNAPSHOT = """
select (select count(*) from auth.users) as users,
       (select count(*) from public.uploads) as uploads,
       (select count(*) from public.generation_jobs) as jobs,
       (select count(*) from public.renders) as renders,
       (select count(*) from public.render_variants) as variants,
       (select count(*) from public.collections) as collections,
       (select count(*) from public.collection_items) as collection_items,
       (select count(*) from public.community_collections) as community_collections,
       (select count(*) from public.community_items) as community_items,
       (select count(*) from public.usage_ledger) as ledger_entries,
       (select count(*) from public.procrastinate_jobs) as queued
"""
_JOBS_CHARGED_WHAT_THEY_DELIVERED = """
select count(*) as jobs
  from public.generation_jobs j
 where j.status = 'succeeded' and j.provider = 'local'
   and (select coalesce(sum(case l.kind when 'generation_debit' then l.amount
                                        else -l.amount end), 0)
          from public.usage_ledger l where l.job_id = j.id)
     = (select count(*) from public.render_variants v
          join public.renders r on r.id = v.render_id where r.job_id = j.id)
"""


async def run_demo(runtime: Runtime, settings: Settings) -> DemoSummary:
    return await seed(runtime, Passwords.from_settings(settings))


async def snapshot(pool: Pool, settings: Settings) -> dict[str, Any]:
    async with as_service(pool) as conn:
        row = await (await conn.execute(_SNAPSHOT)).fetchone()
    storage = settings.data_dir / "storage"
    files = sorted(str(path.relative_to(storage)) for path in storage.rglob("*") if path.is_file())
    return {**(row or {}), "files": files}


async def read_image(client: httpx.AsyncClient, url: str) -> Image.Image:
    response = await client.get(url)
    assert response.status_code == 200, url
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


async def demo_client(client_for: ClientFor, pool: Pool, settings: Settings) -> httpx.AsyncClient:
    """The demo account, signed in with its published password."""
    user_id = await ensure_account(pool, Passwords.from_settings(settings))
    return await client_for(Account(id=user_id, email=DEMO_EMAIL, password=DEMO_PASSWORD))


class TestSeed:
    async def test_renders_every_scene_with_stored_variants(
        self, runtime: Runtime, settings: Settings, client_for: ClientFor, pool: Pool
    ) -> None:
        summary = await run_demo(runtime, settings)

        assert summary == DemoSummary(renders=len(SCENES), new_renders=len(SCENES))
        demo = await demo_client(client_for, pool, settings)
        listed = (await demo.get("/api/v1/renders", params={"limit": 50})).json()["data"]
        assert len(listed["items"]) == len(SCENES)
        assert Counter(card["mode"] for card in listed["items"]) == Counter(s.mode for s in SCENES)
        assert {card["style"] for card in listed["items"]} == {s.style for s in SCENES}
        variant_counts = []
        for card in listed["items"]:
            detail = (await demo.get(f"/api/v1/renders/{card['id']}")).json()["data"]
            assert detail["provider"] == "local"
            variant_counts.append(len(detail["variants"]))
            for variant in detail["variants"]:
                image = await read_image(demo, variant["url"])
                assert (image.format, image.size) == ("JPEG", (variant["width"], variant["height"]))
                assert (await read_image(demo, variant["thumbUrl"])).format == "WEBP"
        assert sorted(variant_counts) == sorted(scene.variants for scene in SCENES)

    async def test_favorites_and_a_collection_have_demo_renders(
        self, runtime: Runtime, settings: Settings, client_for: ClientFor, pool: Pool
    ) -> None:
        await run_demo(runtime, settings)

        demo = await demo_client(client_for, pool, settings)
        favorites = (await demo.get("/api/v1/favorites/list")).json()["data"]["items"]
        assert len(favorites) == sum(scene.favorite for scene in SCENES) > 0
        assert all(card["isFavorited"] for card in favorites)
        collections = (await demo.get("/api/v1/collections")).json()["data"]["collections"]
        counts = {c["name"]: c["itemsCount"] for c in collections if not c["isDefaultFavorites"]}
        assert counts == {USER_COLLECTION: sum(scene.in_collection for scene in SCENES)}

    async def test_ledger_matches_the_renders_and_leaves_the_credits_whole(
        self, runtime: Runtime, settings: Settings, client_for: ClientFor, pool: Pool
    ) -> None:
        await run_demo(runtime, settings)

        async with as_service(pool) as conn:
            row = await (await conn.execute(_JOBS_CHARGED_WHAT_THEY_DELIVERED)).fetchone()
        assert row == {"jobs": len(SCENES)}
        usage = (await (await demo_client(client_for, pool, settings)).get("/api/v1/usage")).json()[
            "data"
        ]
        assert (usage["used"], usage["remaining"]) == (0, usage["limit"])

    async def test_public_gallery_shows_the_demo_renders(
        self, runtime: Runtime, settings: Settings, client: httpx.AsyncClient
    ) -> None:
        await run_demo(runtime, settings)

        response = await client.get("/api/v1/community")

        assert response.status_code == 200
        collections = response.json()["data"]["collections"]
        assert [c["title"] for c in collections] == [gallery.title for gallery in GALLERY]
        assert [c["isFeatured"] for c in collections] == [g.featured for g in GALLERY]
        for collection, gallery in zip(collections, GALLERY, strict=True):
            scenes = [scene for scene in SCENES if scene.gallery == gallery]
            assert [item["title"] for item in collection["items"]] == [s.title for s in scenes]
            for item, scene in zip(collection["items"], scenes, strict=True):
                assert item["applySettings"]["mode"] == scene.mode
                assert item["applySettings"]["style"] == scene.style
                assert item["tryUrl"].startswith("/generate?")
        first = collections[0]["items"][0]
        assert (await read_image(client, first["imageUrl"])).format == "JPEG"

    async def test_second_run_changes_nothing(
        self, runtime: Runtime, settings: Settings, pool: Pool
    ) -> None:
        await run_demo(runtime, settings)
        before = await snapshot(pool, settings)

        summary = await run_demo(runtime, settings)

        assert summary == DemoSummary(renders=len(SCENES), new_renders=0)
        assert await snapshot(pool, settings) == before
        assert before["renders"] == len(SCENES)
