"""The generation API end to end with the local engine: submit, the worker, status, cancel."""

import asyncio
import io
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from PIL import Image

from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.runtime import Runtime
from tests.factories import Account
from tests.generations.conftest import Upload, armchair_photo, room_photo

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]
Drain = Callable[[], Awaitable[None]]


async def submit(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await client.post("/api/v1/generations/submit", json=body)


async def ledger(pool: Pool, owner: Account) -> list[tuple[str, int]]:
    async with as_service(pool) as conn:
        cur = await conn.execute(
            "select kind, amount from public.usage_ledger where owner_id = %s order by created_at",
            (owner.id,),
        )
        return [(row["kind"], row["amount"]) for row in await cur.fetchall()]


class TestSubmitAndFinish:
    @pytest.mark.parametrize(
        ("mode", "images", "variants"),
        [("redesign", 1, 2), ("staging", 1, 1), ("compose", 2, 2), ("imagine", 0, 1)],
    )
    async def test_each_mode_renders_its_variants(
        self,
        client_for: MakeClient,
        user: Account,
        upload: Upload,
        drain: Drain,
        runtime: Runtime,
        pool: Pool,
        mode: str,
        images: int,
        variants: int,
    ) -> None:
        signed_in = await client_for(user)
        photos = [room_photo(), armchair_photo()][:images]
        inputs = {f"input{n + 1}": await upload(signed_in, photo) for n, photo in enumerate(photos)}
        response = await submit(
            signed_in,
            mode=mode,
            roomType="living_room",
            style="japandi",
            prompt="a calm reading corner",
            aspectRatio="3:2",
            variants=variants,
            **inputs,
        )
        assert response.status_code == 200, response.text
        job_id = response.json()["data"]["id"]
        assert (await signed_in.get(f"/api/v1/generations/{job_id}")).json()["data"][
            "status"
        ] == "starting"
        await drain()
        state = (await signed_in.get(f"/api/v1/generations/{job_id}")).json()["data"]
        assert state["status"] == "succeeded", state
        assert len(state["variants"]) == variants
        assert state["url"] == state["variants"][0]["url"]
        for variant in state["variants"]:
            assert abs(variant["width"] / variant["height"] - 1.5) < 0.01
            path = f"renders/{state['renderId']}/{variant['idx']}.jpg"
            stored = Image.open(io.BytesIO(await runtime.storage.get("public", path)))
            assert stored.format == "JPEG"
            assert not stored.getexif()
            thumb = await runtime.storage.get(
                "public", f"renders/{state['renderId']}/{variant['idx']}_thumb.webp"
            )
            assert Image.open(io.BytesIO(thumb)).format == "WEBP"
        assert await ledger(pool, user) == [("generation_debit", variants)]

    async def test_usage_counts_the_variants(
        self, client_for: MakeClient, user: Account, upload: Upload, drain: Drain
    ) -> None:
        signed_in = await client_for(user)
        before = (await signed_in.get("/api/v1/usage")).json()["data"]
        assert before["remaining"] == before["limit"] == 10
        await submit(signed_in, mode="imagine", prompt="a sunny loft", variants=2)
        await drain()
        after = (await signed_in.get("/api/v1/usage")).json()["data"]
        assert after["used"] == 2
        assert after["remaining"] == 8
        history = (await signed_in.get("/api/v1/usage/history")).json()["data"]
        assert [entry["description"] for entry in history["items"]] == ["Imagine: 2 variants"]


class TestSubmitRules:
    async def test_only_one_of_fifty_concurrent_submits_is_accepted(
        self, client_for: MakeClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        responses = await asyncio.gather(
            *(submit(signed_in, mode="imagine", prompt=f"room {n}", variants=1) for n in range(50))
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [409] * 49
        conflicts = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
        assert conflicts == {"GENERATION_IN_FLIGHT"}

    async def test_an_idempotent_resubmit_returns_the_same_job(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        signed_in = await client_for(user)
        key = str(uuid.uuid4())
        first = await submit(signed_in, mode="imagine", prompt="loft", idempotencyKey=key)
        again = await submit(signed_in, mode="imagine", prompt="loft", idempotencyKey=key)
        assert first.status_code == again.status_code == 200
        assert first.json()["data"]["id"] == again.json()["data"]["id"]
        assert await ledger(pool, user) == [("generation_debit", 2)]

    async def test_no_credits_when_the_month_is_used_up(
        self, client_for: MakeClient, user: Account, drain: Drain
    ) -> None:
        signed_in = await client_for(user)
        for n in range(5):
            assert (
                await submit(signed_in, mode="imagine", prompt=f"room {n}", variants=2)
            ).status_code == 200
            await drain()
        response = await submit(signed_in, mode="imagine", prompt="one more", variants=1)
        assert response.status_code == 402
        assert response.json()["error"]["code"] == "NO_CREDITS"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"mode": "redesign"}, "input1"),
            ({"mode": "imagine"}, "prompt"),
            ({"mode": "imagine", "prompt": "x", "variants": 5}, "variants"),
            ({"mode": "imagine", "prompt": "x" * 801}, "prompt"),
            ({"mode": "paint", "prompt": "x"}, "mode"),
        ],
    )
    async def test_bad_input_is_a_validation_error(
        self, client_for: MakeClient, user: Account, body: dict[str, object], field: str
    ) -> None:
        signed_in = await client_for(user)
        response = await submit(signed_in, **body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert field in str(response.json()["error"])

    @pytest.mark.parametrize(
        "body",
        [
            {"mode": "imagine", "prompt": "x", "style": "no_such_style"},
            {"mode": "imagine", "prompt": "x", "roomType": "spaceship"},
            {"mode": "imagine", "prompt": "x", "aspectRatio": "7:5"},
            {"mode": "imagine", "prompt": "x", "variants": 3},
        ],
    )
    async def test_values_outside_the_presets_or_plan_are_refused(
        self, client_for: MakeClient, user: Account, pool: Pool, body: dict[str, object]
    ) -> None:
        signed_in = await client_for(user)
        response = await submit(signed_in, **body)
        assert response.status_code == 400
        assert await ledger(pool, user) == []

    async def test_another_users_upload_is_not_found(
        self, client_for: MakeClient, user: Account, other_user: Account, upload: Upload, pool: Pool
    ) -> None:
        theirs = await upload(await client_for(other_user), room_photo())
        response = await submit(await client_for(user), mode="redesign", input1=theirs)
        assert response.status_code == 404
        assert await ledger(pool, user) == []

    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await submit(client, mode="imagine", prompt="x")).status_code == 401


class TestReadAndCancel:
    async def test_another_users_job_is_not_found(
        self, client_for: MakeClient, user: Account, other_user: Account
    ) -> None:
        mine = await client_for(user)
        job_id = (await submit(mine, mode="imagine", prompt="loft")).json()["data"]["id"]
        theirs = await client_for(other_user)
        assert (await theirs.get(f"/api/v1/generations/{job_id}")).status_code == 404
        assert (await theirs.post(f"/api/v1/generations/{job_id}/cancel")).status_code == 404
        assert (await theirs.get(f"/api/v1/generations/{job_id}/events")).status_code == 404

    async def test_cancel_refunds_and_the_worker_leaves_it_alone(
        self, client_for: MakeClient, user: Account, pool: Pool, drain: Drain
    ) -> None:
        signed_in = await client_for(user)
        job_id = (await submit(signed_in, mode="imagine", prompt="loft")).json()["data"]["id"]
        canceled = await signed_in.post(f"/api/v1/generations/{job_id}/cancel")
        assert canceled.json()["data"]["status"] == "canceled"
        await drain()
        state = (await signed_in.get(f"/api/v1/generations/{job_id}")).json()["data"]
        assert state["status"] == "canceled"
        assert state["variants"] is None
        assert await ledger(pool, user) == [("generation_debit", 2), ("credit_adjustment", 2)]
        assert (await submit(signed_in, mode="imagine", prompt="next")).status_code == 200

    async def test_unknown_job_is_not_found(self, client_for: MakeClient, user: Account) -> None:
        signed_in = await client_for(user)
        assert (await signed_in.get(f"/api/v1/generations/{uuid.uuid4()}")).status_code == 404
