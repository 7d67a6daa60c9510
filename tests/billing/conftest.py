"""Billing on the loopback Stripe: the app's settings point the SDK at it, plans carry its
prices, and events are posted to the webhook signed with its secret."""

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from roomcraft.config import Plan, Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.main import create_app
from roomcraft.runtime import Runtime, open_runtime
from roomcraft.users import service as users_service
from roomcraft.users.repository import ProfileRow
from tests.fakes.stripe import FakeStripe

PUBLIC_BASE_URL = "https://roomcraft.example"
PRICES = {"starter": "price_starter", "pro": "price_pro"}


def billing_plans(settings: Settings) -> list[Plan]:
    """The built-in plans with Stripe prices, and one paid plan whose price is not set up."""
    priced = [
        plan.model_copy(update={"stripe_price_id": PRICES.get(plan.key)}) for plan in settings.plans
    ]
    unpriced = Plan(key="studio", name="Studio", price_display="$99", monthly_generations=2000)
    return [*priced, unpriced]


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe(prices=set(PRICES.values())) as fake:
        yield fake


@pytest.fixture
def stripe_api(stripe_server: FakeStripe) -> FakeStripe:
    """The module's fake Stripe, emptied for the test."""
    stripe_server.reset()
    return stripe_server


@pytest.fixture
def billing_settings(settings: Settings, stripe_api: FakeStripe) -> Settings:
    return settings.model_copy(
        update={
            "stripe_secret_key": SecretStr(stripe_api.api_key),
            "stripe_webhook_secret": SecretStr(stripe_api.webhook_secret),
            "stripe_api_base": stripe_api.base_url,
            "plans": billing_plans(settings),
            "public_base_url": PUBLIC_BASE_URL,
        }
    )


@pytest.fixture
async def runtime(billing_settings: Settings, pool: Pool) -> AsyncIterator[Runtime]:
    async with open_runtime(billing_settings, pool) as opened:
        yield opened


@pytest.fixture
def app(billing_settings: Settings, runtime: Runtime) -> FastAPI:
    return create_app(billing_settings, runtime=runtime)


async def deliver(
    client: httpx.AsyncClient,
    stripe_api: FakeStripe,
    event: dict[str, Any],
    *,
    timestamp: int | None = None,
    secret: str | None = None,
) -> httpx.Response:
    """Post an event to the webhook as Stripe does: the raw JSON body, signed."""
    body = json.dumps(event).encode()
    signature = stripe_api.sign(body, timestamp=timestamp, secret=secret)
    return await client.post(
        "/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def profile_of(pool: Pool, user_id: UUID) -> ProfileRow:
    async with as_service(pool) as conn:
        return await users_service.get_profile(conn, user_id=user_id)


async def recorded_events(pool: Pool) -> list[str]:
    async with as_service(pool) as conn:
        cur = await conn.execute("select event_id from public.billing_events order by received_at")
        return [row["event_id"] for row in await cur.fetchall()]
