"""`/api/v1/usage`, `/usage/history` and the administrators' `/admin/users/{id}/credits`."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.runtime import Runtime
from roomcraft.worker.run import run_worker
from tests.factories import Account, create_user

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]


async def usage(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/usage")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def history(client: httpx.AsyncClient, **params: str | int) -> dict[str, Any]:
    response = await client.get("/api/v1/usage/history", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def submit(client: httpx.AsyncClient, *, variants: int = 1) -> httpx.Response:
    body = {"mode": "imagine", "prompt": "a bright attic", "variants": variants}
    return await client.post("/api/v1/generations/submit", json=body)


async def credit(client: httpx.AsyncClient, user_id: object, **body: object) -> httpx.Response:
    return await client.post(f"/api/v1/admin/users/{user_id}/credits", json=body)


@pytest.fixture
async def admin(pool: Pool, settings: Settings) -> Account:
    return await create_user(pool, settings, is_admin=True)


class TestUsage:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/usage")).status_code == 401
        assert (await client.get("/api/v1/usage/history")).status_code == 401

    async def test_a_new_user_has_the_free_months_generations(
        self, client_for: MakeClient, user: Account
    ) -> None:
        data = await usage(await client_for(user))
        now = datetime.now(UTC)
        following = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
        assert data == {
            "plan": "free",
            "planName": "Free",
            "limit": 10,
            "used": 0,
            "remaining": 10,
            "resetsAt": following.isoformat().replace("+00:00", "Z"),
        }

    async def test_the_eleventh_generation_of_a_free_month_is_no_credits(
        self, client_for: MakeClient, user: Account, runtime: Runtime
    ) -> None:
        signed_in = await client_for(user)
        for _ in range(10):
            assert (await submit(signed_in)).status_code == 200
            await run_worker(runtime, wait=False, concurrency=1)
        assert (await usage(signed_in))["remaining"] == 0
        refused = await submit(signed_in)
        assert refused.status_code == 402
        assert refused.json()["error"] == {
            "code": "NO_CREDITS",
            "message": "You have used all your generations for this month. "
            "Upgrade or wait for the reset.",
        }
        assert (await usage(signed_in))["used"] == 10

    async def test_a_refund_gives_the_credit_back(
        self, client_for: MakeClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        job_id = (await submit(signed_in, variants=2)).json()["data"]["id"]
        assert (await usage(signed_in))["remaining"] == 8
        canceled = await signed_in.post(f"/api/v1/generations/{job_id}/cancel")
        assert canceled.json()["data"]["status"] == "canceled"
        assert (await usage(signed_in))["remaining"] == 10
        lines = (await history(signed_in))["items"]
        assert [(line["kind"], line["amount"], line["description"]) for line in lines] == [
            ("credit_adjustment", 2, "Refund: you canceled the job"),
            ("generation_debit", 2, "Imagine: 2 variants"),
        ]
        assert {line["jobId"] for line in lines} == {job_id}


class TestHistory:
    async def test_pages_newest_first(
        self, client_for: MakeClient, user: Account, admin: Account
    ) -> None:
        as_admin = await client_for(admin)
        for n in range(3):
            assert (await credit(as_admin, user.id, amount=n + 1, reason=f"Gift {n}")).is_success
        signed_in = await client_for(user)
        first = await history(signed_in, limit=2)
        assert [line["amount"] for line in first["items"]] == [3, 2]
        rest = await history(signed_in, limit=2, cursor=first["nextCursor"])
        assert [line["amount"] for line in rest["items"]] == [1]
        assert rest["nextCursor"] is None

    async def test_another_users_ledger_is_not_visible(
        self, client_for: MakeClient, user: Account, other_user: Account
    ) -> None:
        assert (await submit(await client_for(other_user))).status_code == 200
        assert (await history(await client_for(user)))["items"] == []

    @pytest.mark.parametrize("params", [{"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 51}])
    async def test_bad_paging_is_a_validation_error(
        self, client_for: MakeClient, user: Account, params: dict[str, str | int]
    ) -> None:
        response = await (await client_for(user)).get("/api/v1/usage/history", params=params)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


class TestAdminCredits:
    async def test_anonymous_is_unauthorized(
        self, client: httpx.AsyncClient, user: Account
    ) -> None:
        response = await credit(client, user.id, amount=5, reason="Sorry")
        assert response.status_code == 401

    async def test_a_user_who_is_not_an_admin_is_forbidden(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        signed_in = await client_for(user)
        response = await credit(signed_in, user.id, amount=5, reason="Treat myself")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"
        assert (await usage(signed_in))["remaining"] == 10

    async def test_an_unknown_user_is_not_found(
        self, client_for: MakeClient, admin: Account
    ) -> None:
        response = await credit(await client_for(admin), uuid.uuid4(), amount=5, reason="Sorry")
        assert response.status_code == 404
        assert response.json()["error"] == {"code": "NOT_FOUND", "message": "User not found."}

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"amount": 0, "reason": "Nothing"}, "amount"),
            ({"amount": 1001, "reason": "Too many"}, "amount"),
            ({"amount": -1001, "reason": "Too many"}, "amount"),
            ({"amount": 5}, "reason"),
            ({"amount": 5, "reason": "   "}, "reason"),
            ({"amount": 5, "reason": "x" * 201}, "reason"),
            ({"amount": "lots", "reason": "Why not"}, "amount"),
        ],
    )
    async def test_bad_input_is_a_validation_error(
        self,
        client_for: MakeClient,
        admin: Account,
        user: Account,
        pool: Pool,
        body: dict[str, object],
        field: str,
    ) -> None:
        response = await (await client_for(admin)).post(
            f"/api/v1/admin/users/{user.id}/credits", json=body
        )
        assert response.status_code == 400
        assert field in response.json()["error"]["details"]["fieldErrors"]
        assert await ledger_rows(pool, user) == []

    async def test_a_malformed_user_id_is_a_validation_error(
        self, client_for: MakeClient, admin: Account
    ) -> None:
        response = await credit(await client_for(admin), "nobody", amount=5, reason="Sorry")
        assert response.status_code == 400

    async def test_a_credit_raises_remaining_and_shows_in_the_users_history(
        self, client_for: MakeClient, admin: Account, user: Account, pool: Pool
    ) -> None:
        response = await credit(
            await client_for(admin), user.id, amount=5, reason="  Sorry about the outage "
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["userId"], data["amount"], data["reason"]) == (
            str(user.id),
            5,
            "Sorry about the outage",
        )
        assert (data["usage"]["remaining"], data["usage"]["used"]) == (15, 0)
        signed_in = await client_for(user)
        assert (await usage(signed_in))["remaining"] == 15
        [line] = (await history(signed_in))["items"]
        assert (line["kind"], line["amount"], line["description"]) == (
            "credit_adjustment",
            5,
            "Added by support: Sorry about the outage",
        )
        assert await ledger_rows(pool, user) == [
            (
                "credit_adjustment",
                5,
                {"reason": "Sorry about the outage", "source": "admin", "by": admin.email},
            ),
        ]

    async def test_a_negative_amount_takes_generations_back(
        self, client_for: MakeClient, admin: Account, user: Account
    ) -> None:
        as_admin = await client_for(admin)
        assert (await credit(as_admin, user.id, amount=-3, reason="Duplicate gift")).is_success
        signed_in = await client_for(user)
        assert (await usage(signed_in))["remaining"] == 7
        [line] = (await history(signed_in))["items"]
        assert (line["kind"], line["description"]) == (
            "generation_debit",
            "Taken back by support: Duplicate gift",
        )


async def ledger_rows(pool: Pool, user: Account) -> list[tuple[str, int, dict[str, Any]]]:
    async with as_service(pool) as conn:
        cur = await conn.execute(
            "select kind, amount, meta from public.usage_ledger where owner_id = %s"
            " order by created_at",
            (user.id,),
        )
        return [(row["kind"], row["amount"], row["meta"]) for row in await cur.fetchall()]
