"""`POST /api/v1/billing/checkout` and `/portal`: the SDK against the loopback Stripe."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.main import create_app
from roomcraft.runtime import Runtime, open_runtime
from tests.billing.conftest import PUBLIC_BASE_URL, deliver, profile_of
from tests.factories import Account, sign_in
from tests.fakes.stripe import FakeStripe

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]
CUSTOMERS = "/v1/customers"
SESSIONS = "/v1/checkout/sessions"


async def checkout(client: httpx.AsyncClient, plan: object = "pro") -> httpx.Response:
    return await client.post("/api/v1/billing/checkout", json={"plan": plan})


async def portal(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/api/v1/billing/portal")


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


class TestCheckout:
    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await checkout(client)).status_code == 401
        assert (await portal(client)).status_code == 401

    async def test_returns_the_checkout_page_of_a_subscription_for_the_user(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe, pool: Pool
    ) -> None:
        response = await checkout(await client_for(user), "pro")
        assert response.status_code == 200, response.text
        [session] = stripe_api.sessions.values()
        assert response.json()["data"] == {"url": session["url"]}
        assert session["mode"] == "subscription"
        assert session["client_reference_id"] == str(user.id)
        assert session["_price"] == "price_pro"
        assert session["success_url"] == f"{PUBLIC_BASE_URL}/settings?billing=success"
        assert session["cancel_url"] == f"{PUBLIC_BASE_URL}/settings?billing=cancel"
        [customer] = stripe_api.customers.values()
        assert customer["email"] == user.email
        assert session["customer"] == customer["id"]
        assert (await profile_of(pool, user.id)).customer_id == customer["id"]

    async def test_the_customer_is_made_once_and_reused(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe
    ) -> None:
        signed_in = await client_for(user)
        assert (await checkout(signed_in, "pro")).status_code == 200
        assert (await checkout(signed_in, "starter")).status_code == 200
        assert len(stripe_api.requests_to("POST", CUSTOMERS)) == 1
        assert len({session["customer"] for session in stripe_api.sessions.values()}) == 1

    async def test_concurrent_checkouts_make_one_customer(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe, pool: Pool
    ) -> None:
        signed_in = await client_for(user)
        responses = await asyncio.gather(*(checkout(signed_in) for _ in range(5)))
        assert [response.status_code for response in responses] == [200] * 5
        assert len(stripe_api.customers) == 1
        [customer_id] = stripe_api.customers
        assert {session["customer"] for session in stripe_api.sessions.values()} == {customer_id}
        assert (await profile_of(pool, user.id)).customer_id == customer_id

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"plan": "platinum"}, "There is no plan 'platinum'."),
            ({"plan": "free"}, "The Free plan needs no checkout."),
            ({"plan": ""}, "plan"),
            ({}, "plan"),
            ({"plan": "pro", "coupon": "FREE"}, "coupon"),
        ],
    )
    async def test_bad_input_is_a_validation_error(
        self,
        client_for: MakeClient,
        user: Account,
        stripe_api: FakeStripe,
        body: dict[str, object],
        message: str,
    ) -> None:
        response = await (await client_for(user)).post("/api/v1/billing/checkout", json=body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert message in str(response.json()["error"])
        assert stripe_api.requests == []

    async def test_a_plan_without_a_stripe_price_is_not_configured(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe
    ) -> None:
        response = await checkout(await client_for(user), "studio")
        assert error_of(response) == (
            503,
            "BILLING_NOT_CONFIGURED",
            "The Studio plan has no Stripe price configured.",
        )
        assert stripe_api.requests == []

    async def test_a_subscriber_changes_plans_in_the_portal_instead(
        self,
        client_for: MakeClient,
        client: httpx.AsyncClient,
        user: Account,
        stripe_api: FakeStripe,
    ) -> None:
        signed_in = await client_for(user)
        url = (await checkout(signed_in, "starter")).json()["data"]["url"]
        event = stripe_api.complete_checkout(url.rsplit("/", 1)[-1])
        assert (await deliver(client, stripe_api, event)).status_code == 200
        status, code, message = error_of(await checkout(signed_in, "pro"))
        assert (status, code) == (409, "CONFLICT")
        assert message == (
            "You already have the Starter plan. Change or cancel it from Manage billing."
        )

    async def test_a_price_stripe_refuses_is_a_readable_bad_gateway(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe
    ) -> None:
        stripe_api.prices.discard("price_pro")
        try:
            response = await checkout(await client_for(user), "pro")
        finally:
            stripe_api.prices.add("price_pro")
        assert error_of(response) == (
            502,
            "PAYMENT_PROVIDER_ERROR",
            "Stripe refused to start the checkout: No such price: 'price_pro'",
        )

    async def test_a_failed_customer_creation_leaves_no_customer(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe, pool: Pool
    ) -> None:
        stripe_api.fail_next(status=402, type="card_error", message="Your card was declined.")
        status, code, _ = error_of(await checkout(await client_for(user)))
        assert (status, code) == (502, "PAYMENT_PROVIDER_ERROR")
        assert (await profile_of(pool, user.id)).customer_id is None
        assert stripe_api.sessions == {}

    async def test_stripe_down_is_a_bad_gateway_after_one_retry(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe
    ) -> None:
        stripe_api.fail_next(2, status=500, type="api_error", message="Something broke.")
        status, code, message = error_of(await checkout(await client_for(user)))
        assert (status, code) == (502, "PAYMENT_PROVIDER_ERROR")
        assert message == (
            "Stripe could not create your billing account right now. Please try again in a moment."
        )
        assert len(stripe_api.requests_to("POST", CUSTOMERS)) == 2
        # The retry is the same request to Stripe: one idempotency key.
        assert len({request.headers["idempotency-key"] for request in stripe_api.requests}) == 1

    async def test_a_wrong_secret_key_is_a_bad_gateway_that_names_no_key(
        self,
        billing_settings: Settings,
        pool: Pool,
        user: Account,
    ) -> None:
        wrong = billing_settings.model_copy(
            update={"stripe_secret_key": SecretStr("sk_test_wrong_key")}
        )
        async with open_runtime(wrong, pool) as runtime:
            response = await _checkout_on(create_app(wrong, runtime=runtime), user)
        status, code, message = error_of(response)
        assert (status, code) == (502, "PAYMENT_PROVIDER_ERROR")
        assert message == (
            "Stripe refused to create your billing account: "
            "payments are not set up correctly on this server."
        )
        assert "sk_test" not in response.text

    async def test_stripe_unreachable_is_a_bad_gateway(
        self, billing_settings: Settings, pool: Pool, user: Account
    ) -> None:
        closed = billing_settings.model_copy(update={"stripe_api_base": "http://127.0.0.1:9"})
        async with open_runtime(closed, pool) as runtime:
            response = await _checkout_on(create_app(closed, runtime=runtime), user)
        assert error_of(response)[:2] == (502, "PAYMENT_PROVIDER_ERROR")


async def _checkout_on(app: FastAPI, user: Account) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50100))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as signed_in:
        await sign_in(signed_in, user)
        return await checkout(signed_in)


class TestPortal:
    async def test_opens_the_portal_of_the_users_customer(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe, pool: Pool
    ) -> None:
        signed_in = await client_for(user)
        assert (await checkout(signed_in)).status_code == 200
        response = await portal(signed_in)
        assert response.status_code == 200, response.text
        [request] = stripe_api.requests_to("POST", "/v1/billing_portal/sessions")
        assert request.form == {
            "customer": (await profile_of(pool, user.id)).customer_id,
            "return_url": f"{PUBLIC_BASE_URL}/settings",
        }
        assert response.json()["data"]["url"].startswith(f"{stripe_api.base_url}/portal/bps_")

    async def test_without_a_customer_yet_it_says_to_choose_a_plan(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe
    ) -> None:
        assert error_of(await portal(await client_for(user))) == (
            409,
            "CONFLICT",
            "You have no billing account yet. Choose a plan first.",
        )
        assert stripe_api.requests == []

    async def test_another_users_customer_is_never_used(
        self,
        client_for: MakeClient,
        user: Account,
        other_user: Account,
        stripe_api: FakeStripe,
    ) -> None:
        assert (await checkout(await client_for(other_user))).status_code == 200
        assert (await portal(await client_for(user))).status_code == 409

    async def test_a_customer_stripe_does_not_know_is_a_readable_bad_gateway(
        self, client_for: MakeClient, user: Account, stripe_api: FakeStripe
    ) -> None:
        signed_in = await client_for(user)
        assert (await checkout(signed_in)).status_code == 200
        stripe_api.customers.clear()
        status, code, message = error_of(await portal(signed_in))
        assert (status, code) == (502, "PAYMENT_PROVIDER_ERROR")
        assert message.startswith("Stripe refused to open the billing portal: No such customer")


class TestBillingOff:
    @pytest.fixture
    def app(self, settings: Settings, runtime: Runtime) -> FastAPI:
        """The harness's settings: no Stripe keys."""
        return create_app(settings, runtime=runtime)

    @pytest.fixture
    async def runtime(self, settings: Settings, pool: Pool) -> AsyncIterator[Runtime]:
        async with open_runtime(settings, pool) as opened:
            yield opened

    async def test_every_billing_route_says_billing_is_not_configured(
        self, client_for: MakeClient, client: httpx.AsyncClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        webhook = await client.post("/webhooks/stripe", content=b"{}")
        for response in (await checkout(signed_in), await portal(signed_in), webhook):
            assert error_of(response) == (
                503,
                "BILLING_NOT_CONFIGURED",
                "Billing is not configured on this server: every account is on the free plan.",
            )
