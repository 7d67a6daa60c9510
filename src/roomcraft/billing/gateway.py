"""Stripe, through its SDK: customers, Checkout, the Billing Portal, subscriptions, signed events.

The SDK's async methods run on the process's shared httpx client, so a call to Stripe never blocks
the event loop. Every Stripe failure becomes a `PaymentProviderError` a person can read.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import stripe
import structlog

from roomcraft.billing.errors import (
    BillingNotConfigured,
    InvalidStripeWebhook,
    PaymentProviderError,
)
from roomcraft.config import Settings
from roomcraft.users.service import Subscription

log = structlog.get_logger(__name__)

# Stripe signs each delivery with a timestamp; older ones are refused as replays (Stripe's default).
WEBHOOK_TOLERANCE_SECONDS = 300
SUBSCRIPTION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
)


class _SharedHttpClient(stripe.HTTPClient):
    """The SDK's transport on the runtime's httpx client (async only; the runtime closes it)."""

    name = "roomcraft-httpx"

    def __init__(self, http: httpx.AsyncClient) -> None:
        super().__init__()
        self._http = http

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = await self._http.request(
                method, url, headers=dict(headers), content=post_data
            )
        except httpx.HTTPError as exc:
            # The SDK's retry loop acts on this error; its constructor is untyped.
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                f"Stripe could not be reached ({type(exc).__name__}).", should_retry=True
            ) from exc
        return response.content, response.status_code, response.headers

    def sleep_async(self, secs: float) -> Awaitable[None]:
        return asyncio.sleep(secs)

    async def close_async(self) -> None:
        return None


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    object: dict[str, Any]


@dataclass(frozen=True)
class SubscriptionRef:
    """The subscription an event is about, its customer, and the user our Checkout named."""

    subscription_id: str
    customer_id: str
    user_id: UUID | None


@dataclass(frozen=True)
class StripeSubscription:
    subscription: Subscription
    customer_id: str
    user_id: UUID | None  # from the metadata our Checkout sets


def client(settings: Settings, http: httpx.AsyncClient) -> stripe.StripeClient:
    """A Stripe client on `http`; cheap to make, so one per use."""
    if settings.stripe_secret_key is None:
        raise BillingNotConfigured
    return stripe.StripeClient(
        settings.stripe_secret_key.get_secret_value(),
        http_client=_SharedHttpClient(http),
        base_addresses={"api": settings.stripe_api_base},
        max_network_retries=1,
    )


@asynccontextmanager
async def _translated(action: str) -> AsyncIterator[None]:
    """Stripe's failures as a readable error: what was refused, never a 500."""
    try:
        yield
    except stripe.InvalidRequestError as exc:
        log.warning("billing.stripe_refused", action=action, error=exc.user_message)
        raise PaymentProviderError(
            f"Stripe refused to {action}: {exc.user_message or 'the request is not valid'}"
        ) from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        log.error("billing.stripe_key_refused", action=action, error=exc.user_message)
        raise PaymentProviderError(
            f"Stripe refused to {action}: payments are not set up correctly on this server."
        ) from exc
    except stripe.StripeError as exc:
        log.warning("billing.stripe_unavailable", action=action, error=exc.user_message)
        raise PaymentProviderError(
            f"Stripe could not {action} right now. Please try again in a moment."
        ) from exc


async def create_customer(stripe_client: stripe.StripeClient, *, user_id: UUID, email: str) -> str:
    """A new customer for the user. The SDK's retry reuses its idempotency key; no key of ours,
    since Stripe answers a key's first result again for a day, a failure too."""
    async with _translated("create your billing account"):
        customer = await stripe_client.v1.customers.create_async(
            params={"email": email, "metadata": {"user_id": str(user_id)}}
        )
    return customer.id


async def create_checkout_session(
    stripe_client: stripe.StripeClient,
    *,
    customer_id: str,
    user_id: UUID,
    price_id: str,
    success_url: str,
    cancel_url: str,
) -> str:
    """A subscription Checkout Session for the customer; its URL."""
    metadata = {"user_id": str(user_id)}
    async with _translated("start the checkout"):
        session = await stripe_client.v1.checkout.sessions.create_async(
            params={
                "mode": "subscription",
                "customer": customer_id,
                "client_reference_id": str(user_id),
                "line_items": [{"price": price_id, "quantity": 1}],
                "success_url": success_url,
                "cancel_url": cancel_url,
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
            }
        )
    if not session.url:
        raise PaymentProviderError("Stripe did not return a checkout page.")
    return session.url


async def create_portal_session(
    stripe_client: stripe.StripeClient, *, customer_id: str, return_url: str
) -> str:
    """A Billing Portal session for the customer; its URL."""
    async with _translated("open the billing portal"):
        session = await stripe_client.v1.billing_portal.sessions.create_async(
            params={"customer": customer_id, "return_url": return_url}
        )
    return session.url


async def get_subscription(
    stripe_client: stripe.StripeClient, subscription_id: str
) -> StripeSubscription:
    """The subscription's state now, read from Stripe (never from the event that named it)."""
    async with _translated("read the subscription"):
        subscription = await stripe_client.v1.subscriptions.retrieve_async(subscription_id)
    return _parse_subscription(subscription.to_dict())


def verify_event(payload: bytes, signature: str | None, secret: str) -> StripeEvent:
    """The event of a webhook delivery, verified on its raw body (`Stripe-Signature`, within the
    timestamp tolerance); `InvalidStripeWebhook` otherwise."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, WEBHOOK_TOLERANCE_SECONDS)
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise InvalidStripeWebhook(f"The Stripe webhook was refused: {exc.user_message}") from exc
    except ValueError as exc:
        raise InvalidStripeWebhook("The Stripe webhook body is not a JSON event.") from exc
    data = event.get("data") if isinstance(event, dict) else None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("object"), dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
    ):
        raise InvalidStripeWebhook("The Stripe webhook does not carry an event.")
    return StripeEvent(id=event["id"], type=event["type"], object=data["object"])


def subscription_ref(event: StripeEvent) -> SubscriptionRef | None:
    """The subscription a billing event is about; None for events that are not about one."""
    if event.type not in SUBSCRIPTION_EVENTS:
        return None
    found = event.object
    if event.type == "checkout.session.completed":
        subscription_id = _id_of(found.get("subscription"))
    elif event.type.startswith("customer.subscription."):
        subscription_id = _id_of(found.get("id"))
    else:  # an invoice: under `parent` since API version 2025-03-31, at the top before
        details = (found.get("parent") or {}).get("subscription_details") or {}
        subscription_id = _id_of(details.get("subscription") or found.get("subscription"))
    customer_id = _id_of(found.get("customer"))
    if subscription_id is None or customer_id is None:
        return None
    return SubscriptionRef(
        subscription_id=subscription_id,
        customer_id=customer_id,
        user_id=_uuid(found.get("client_reference_id")),
    )


def _parse_subscription(data: dict[str, Any]) -> StripeSubscription:
    items = (data.get("items") or {}).get("data") or [{}]
    first = items[0]
    # The period lives on the item since API version 2025-03-31, on the subscription before.
    period_end = _time(first.get("current_period_end") or data.get("current_period_end"))
    ends_at = _time(data.get("cancel_at")) or (
        period_end if data.get("cancel_at_period_end") else None
    )
    customer_id = _id_of(data.get("customer"))
    if customer_id is None:
        raise PaymentProviderError("Stripe returned a subscription without a customer.")
    return StripeSubscription(
        subscription=Subscription(
            id=str(data["id"]),
            status=str(data.get("status")),
            price_id=_id_of(first.get("price")),
            current_period_end=period_end,
            ends_at=ends_at,
            cancellation_reason=(data.get("cancellation_details") or {}).get("reason"),
        ),
        customer_id=customer_id,
        user_id=_uuid((data.get("metadata") or {}).get("user_id")),
    )


def _id_of(value: Any) -> str | None:
    """An id, whether Stripe sent it as a string or as the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None
