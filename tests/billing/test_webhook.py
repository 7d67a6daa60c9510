"""`POST /webhooks/stripe`: signed events, applied once, the plan always the subscription's own."""

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service, as_user
from roomcraft.kit.time import utcnow
from roomcraft.usage import service as usage_service
from tests.billing.conftest import deliver, profile_of, recorded_events
from tests.factories import Account
from tests.fakes.stripe import FakeStripe

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]


async def start_checkout(signed_in: httpx.AsyncClient, plan: str) -> str:
    """The user's Checkout Session id, as its URL names it."""
    response = await signed_in.post("/api/v1/billing/checkout", json={"plan": plan})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["url"].rsplit("/", 1)[-1])


async def subscribe(
    signed_in: httpx.AsyncClient, client: httpx.AsyncClient, stripe_api: FakeStripe, plan: str
) -> str:
    """Check out and pay; the webhook applies it. Returns the subscription id."""
    event = stripe_api.complete_checkout(await start_checkout(signed_in, plan))
    response = await deliver(client, stripe_api, event)
    assert response.json() == {"success": True, "data": {"applied": True}}
    return str(event["data"]["object"]["subscription"])


async def usage(signed_in: httpx.AsyncClient) -> dict[str, Any]:
    response = await signed_in.get("/api/v1/usage")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()["data"]
    return data


async def plan_at(pool: Pool, settings: Settings, user: Account, when: datetime) -> str:
    """The user's plan at another time (the period's end, say), as submit would read it."""
    async with as_user(pool, user.id) as conn:
        found = await usage_service.get_usage(conn, settings, user_id=user.id, now=when)
    return found.plan.key


def period_end(stripe_api: FakeStripe, subscription_id: str) -> datetime:
    item = stripe_api.subscription_snapshot(subscription_id)["items"]["data"][0]
    return datetime.fromtimestamp(item["current_period_end"], UTC)


@pytest.fixture
async def signed_in(client_for: MakeClient, user: Account) -> httpx.AsyncClient:
    return await client_for(user)


class TestCheckoutCompleted:
    async def test_the_paid_plan_and_its_quota_apply_at_once(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        user: Account,
    ) -> None:
        before = await usage(signed_in)
        assert (before["plan"], before["limit"]) == ("free", 10)
        four = {"mode": "imagine", "prompt": "a loft", "variants": 4}
        assert (await signed_in.post("/api/v1/generations/submit", json=four)).status_code == 400
        subscription_id = await subscribe(signed_in, client, stripe_api, "pro")
        after = await usage(signed_in)
        assert (after["plan"], after["planName"], after["limit"]) == ("pro", "Pro", 500)
        assert after["remaining"] == 500
        submitted = await signed_in.post("/api/v1/generations/submit", json=four)
        assert submitted.status_code == 200, submitted.text
        assert (await usage(signed_in))["remaining"] == 496
        # Pro runs two jobs at once; the free plan one.
        second = await signed_in.post("/api/v1/generations/submit", json=four)
        assert second.status_code == 200, second.text
        third = await signed_in.post("/api/v1/generations/submit", json=four)
        assert third.json()["error"]["code"] == "GENERATION_IN_FLIGHT"
        profile = await profile_of(pool, user.id)
        assert (profile.price_id, profile.has_access, profile.subscription_id) == (
            "price_pro",
            True,
            subscription_id,
        )
        assert profile.current_period_end == period_end(stripe_api, subscription_id)
        assert stripe_api.requests_to("GET", f"/v1/subscriptions/{subscription_id}")


class TestDuplicates:
    async def test_a_redelivered_event_is_applied_once(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        user: Account,
    ) -> None:
        subscription_id = await subscribe(signed_in, client, stripe_api, "pro")
        downgrade = stripe_api.change_subscription(subscription_id, price="price_starter")
        first = await deliver(client, stripe_api, downgrade)
        assert first.json()["data"] == {"applied": True}
        reads = len(stripe_api.requests_to("GET", f"/v1/subscriptions/{subscription_id}"))
        upgrade = stripe_api.change_subscription(subscription_id, price="price_pro")
        again = await deliver(client, stripe_api, downgrade)
        assert again.status_code == 200
        assert again.json()["data"] == {"applied": False}
        # Not applied again: Stripe was not asked, the profile did not follow the upgrade yet.
        assert len(stripe_api.requests_to("GET", f"/v1/subscriptions/{subscription_id}")) == reads
        assert (await profile_of(pool, user.id)).next_price_id == "price_starter"
        assert (await recorded_events(pool)).count(downgrade["id"]) == 1
        await deliver(client, stripe_api, upgrade)
        assert (await profile_of(pool, user.id)).next_price_id is None


class TestOrdering:
    async def test_a_stale_event_delivered_last_does_not_bring_back_an_old_plan(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
    ) -> None:
        session_id = await start_checkout(signed_in, "starter")
        completed = stripe_api.complete_checkout(session_id)
        subscription_id = completed["data"]["object"]["subscription"]
        created = stripe_api.event(
            "customer.subscription.created", stripe_api.subscription_snapshot(subscription_id)
        )
        upgraded = stripe_api.change_subscription(subscription_id, price="price_pro")
        paid = stripe_api.invoice_event("invoice.paid", subscription_id)
        for event in (upgraded, paid, completed, created):  # the reverse of their order
            assert (await deliver(client, stripe_api, event)).status_code == 200
        assert (await usage(signed_in))["plan"] == "pro"

    async def test_an_unpaid_end_delivered_first_wins_over_stale_activity(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        user: Account,
    ) -> None:
        subscription_id = await subscribe(signed_in, client, stripe_api, "pro")
        past_due = stripe_api.change_subscription(subscription_id, status="past_due")
        failed = stripe_api.invoice_event("invoice.payment_failed", subscription_id)
        ended = stripe_api.cancel_subscription(subscription_id, reason="payment_failed")
        for event in (ended, failed, past_due):
            assert (await deliver(client, stripe_api, event)).status_code == 200
        assert (await usage(signed_in))["plan"] == "free"
        assert (await profile_of(pool, user.id)).has_access is False


class TestPlanChanges:
    async def test_past_due_keeps_the_plan_while_stripe_retries_the_payment(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
    ) -> None:
        subscription_id = await subscribe(signed_in, client, stripe_api, "pro")
        stripe_api.change_subscription(subscription_id, status="past_due")
        failed = stripe_api.invoice_event("invoice.payment_failed", subscription_id)
        assert (await deliver(client, stripe_api, failed)).status_code == 200
        assert (await usage(signed_in))["plan"] == "pro"

    async def test_an_upgrade_applies_at_once(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
    ) -> None:
        subscription_id = await subscribe(signed_in, client, stripe_api, "starter")
        assert (await usage(signed_in))["limit"] == 100
        upgraded = stripe_api.change_subscription(subscription_id, price="price_pro")
        await deliver(client, stripe_api, upgraded)
        assert (await usage(signed_in))["limit"] == 500

    async def test_a_downgrade_applies_at_the_end_of_the_paid_period(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        billing_settings: Settings,
        user: Account,
    ) -> None:
        subscription_id = await subscribe(signed_in, client, stripe_api, "pro")
        ends = period_end(stripe_api, subscription_id)
        downgraded = stripe_api.change_subscription(subscription_id, price="price_starter")
        await deliver(client, stripe_api, downgraded)
        assert (await usage(signed_in))["plan"] == "pro"
        assert await plan_at(pool, billing_settings, user, ends - timedelta(seconds=1)) == "pro"
        assert await plan_at(pool, billing_settings, user, ends) == "starter"
        # The renewal: a new period on the lower price, as Stripe reports it afterwards.
        renewed = stripe_api.change_subscription(subscription_id, period_end=ends + timedelta(30))
        await deliver(client, stripe_api, renewed)
        later = ends + timedelta(days=10)
        assert await plan_at(pool, billing_settings, user, later) == "starter"

    async def test_cancelling_at_period_end_leaves_the_plan_until_then(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        billing_settings: Settings,
        user: Account,
    ) -> None:
        subscription_id = await subscribe(signed_in, client, stripe_api, "pro")
        ends = period_end(stripe_api, subscription_id)
        cancelling = stripe_api.change_subscription(subscription_id, cancel_at_period_end=True)
        await deliver(client, stripe_api, cancelling)
        assert (await usage(signed_in))["plan"] == "pro"
        assert await plan_at(pool, billing_settings, user, ends - timedelta(seconds=1)) == "pro"
        assert await plan_at(pool, billing_settings, user, ends) == "free"
        # Stripe ends it at the period's end; whenever that event arrives, free it is from then.
        deleted = stripe_api.cancel_subscription(subscription_id)
        await deliver(client, stripe_api, deleted)
        assert await plan_at(pool, billing_settings, user, ends) == "free"
        assert (await usage(signed_in))["plan"] == "pro"

    async def test_cancelling_now_keeps_the_period_already_paid_for(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        billing_settings: Settings,
        user: Account,
    ) -> None:
        subscription_id = await subscribe(signed_in, client, stripe_api, "pro")
        ends = period_end(stripe_api, subscription_id)
        deleted = stripe_api.cancel_subscription(subscription_id)
        await deliver(client, stripe_api, deleted)
        assert (await usage(signed_in))["plan"] == "pro"
        assert await plan_at(pool, billing_settings, user, ends) == "free"
        # After the period, the next event about it leaves the profile plainly free.
        later = stripe_api.event("customer.subscription.deleted", deleted["data"]["object"])
        async with as_service(pool) as conn:
            await conn.execute(
                "update public.profiles set current_period_end = now() - interval '1 second',"
                " plan_changes_at = now() - interval '1 second' where id = %s",
                (user.id,),
            )
        await deliver(client, stripe_api, later)
        profile = await profile_of(pool, user.id)
        assert (profile.has_access, profile.plan_changes_at) == (False, None)
        assert (await usage(signed_in))["plan"] == "free"

    async def test_the_end_of_an_old_subscription_does_not_undo_a_newer_one(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        user: Account,
    ) -> None:
        old = await subscribe(signed_in, client, stripe_api, "starter")
        lapsed = stripe_api.cancel_subscription(old, reason="payment_failed")
        await deliver(client, stripe_api, lapsed)
        assert (await usage(signed_in))["plan"] == "free"
        new = await subscribe(signed_in, client, stripe_api, "pro")
        stale = stripe_api.event("customer.subscription.deleted", lapsed["data"]["object"])
        await deliver(client, stripe_api, stale)
        assert (await profile_of(pool, user.id)).subscription_id == new
        assert (await usage(signed_in))["plan"] == "pro"


class TestRefused:
    async def test_a_bad_signature_is_refused_and_changes_nothing(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        user: Account,
    ) -> None:
        event = stripe_api.complete_checkout(await start_checkout(signed_in, "pro"))
        response = await deliver(client, stripe_api, event, secret="whsec_not_the_secret")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert "signature" in response.json()["error"]["message"]
        assert await recorded_events(pool) == []
        assert (await profile_of(pool, user.id)).has_access is False
        assert (
            stripe_api.requests_to(
                "GET", f"/v1/subscriptions/{event['data']['object']['subscription']}"
            )
            == []
        )

    async def test_a_stale_timestamp_is_refused(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
    ) -> None:
        event = stripe_api.complete_checkout(await start_checkout(signed_in, "pro"))
        old = int(time.time()) - 301
        response = await deliver(client, stripe_api, event, timestamp=old)
        assert response.status_code == 400
        assert "tolerance" in response.json()["error"]["message"]
        assert await recorded_events(pool) == []
        assert (await usage(signed_in))["plan"] == "free"

    @pytest.mark.parametrize(
        ("body", "headers"),
        [
            (b'{"id": "evt_1"}', {}),
            (b"not json", {"Stripe-Signature": "t=1,v1=abc"}),
            (b'{"id": "evt_1"}', {"Stripe-Signature": "garbage"}),
        ],
    )
    async def test_a_missing_or_malformed_signature_is_refused(
        self, client: httpx.AsyncClient, pool: Pool, body: bytes, headers: dict[str, str]
    ) -> None:
        response = await client.post("/webhooks/stripe", content=body, headers=headers)
        assert response.status_code == 400
        assert await recorded_events(pool) == []

    async def test_a_signed_body_that_is_not_an_event_is_refused(
        self, client: httpx.AsyncClient, stripe_api: FakeStripe, pool: Pool
    ) -> None:
        body = b'["not", "an", "event"]'
        headers = {"Stripe-Signature": stripe_api.sign(body)}
        response = await client.post("/webhooks/stripe", content=body, headers=headers)
        assert response.status_code == 400
        assert await recorded_events(pool) == []

    async def test_stripe_failing_on_the_reread_is_retried_by_the_redelivery(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
    ) -> None:
        event = stripe_api.complete_checkout(await start_checkout(signed_in, "pro"))
        stripe_api.fail_next(status=404, message="No such subscription", code="resource_missing")
        failed = await deliver(client, stripe_api, event)
        assert failed.status_code == 502
        assert failed.json()["error"]["code"] == "PAYMENT_PROVIDER_ERROR"
        assert await recorded_events(pool) == []
        assert (await deliver(client, stripe_api, event)).json()["data"] == {"applied": True}
        assert (await usage(signed_in))["plan"] == "pro"


class TestOtherEvents:
    async def test_an_event_about_no_subscription_is_recorded_and_ignored(
        self, client: httpx.AsyncClient, stripe_api: FakeStripe, pool: Pool
    ) -> None:
        event = stripe_api.event("customer.created", {"id": "cus_1", "object": "customer"})
        response = await deliver(client, stripe_api, event)
        assert response.json()["data"] == {"applied": True}
        assert await recorded_events(pool) == [event["id"]]
        assert stripe_api.requests == []

    async def test_a_customer_of_no_user_changes_no_profile(
        self,
        client: httpx.AsyncClient,
        signed_in: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        user: Account,
    ) -> None:
        event = stripe_api.complete_checkout(await start_checkout(signed_in, "pro"))
        async with as_service(pool) as conn:
            await conn.execute(
                "update public.profiles set customer_id = null where id = %s", (user.id,)
            )
        stranger = dict(event["data"]["object"], client_reference_id=None)
        subscription_id = stranger["subscription"]
        stripe_api.subscriptions[subscription_id]["metadata"] = {}
        orphan = stripe_api.event("checkout.session.completed", stranger)
        assert (await deliver(client, stripe_api, orphan)).status_code == 200
        assert (await profile_of(pool, user.id)).has_access is False
        assert await recorded_events(pool) == [orphan["id"]]

    async def test_a_customer_not_yet_linked_is_found_by_the_user_checkout_named(
        self,
        client: httpx.AsyncClient,
        signed_in: httpx.AsyncClient,
        stripe_api: FakeStripe,
        pool: Pool,
        user: Account,
    ) -> None:
        event = stripe_api.complete_checkout(await start_checkout(signed_in, "pro"))
        customer_id = event["data"]["object"]["customer"]
        async with as_service(pool) as conn:
            await conn.execute(
                "update public.profiles set customer_id = null where id = %s", (user.id,)
            )
        await deliver(client, stripe_api, event)
        profile = await profile_of(pool, user.id)
        assert (profile.customer_id, profile.has_access) == (customer_id, True)
        assert utcnow() < (profile.current_period_end or utcnow())
