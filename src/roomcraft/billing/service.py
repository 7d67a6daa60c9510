"""Paid plans through Stripe: Checkout to subscribe, the Billing Portal to change or cancel, and
the webhook that keeps each profile's plan equal to its subscription's state.

Without `STRIPE_SECRET_KEY` billing is off: these raise `BillingNotConfigured` and everyone is on
the free plan.
"""

from uuid import UUID

import structlog

from roomcraft.billing import gateway, repository
from roomcraft.billing.errors import (
    AlreadySubscribed,
    BillingNotConfigured,
    NoBillingAccount,
    UnknownPlan,
)
from roomcraft.config import Settings
from roomcraft.db.session import Conn, set_identity
from roomcraft.kit.time import utcnow
from roomcraft.runtime import Runtime
from roomcraft.users import service as users_service

log = structlog.get_logger(__name__)

SETTINGS_PATH = "/settings"


def _price_of(settings: Settings, plan_key: str) -> str:
    """The Stripe price a paid plan is sold at."""
    plan = next((plan for plan in settings.plans if plan.key == plan_key), None)
    if plan is None:
        raise UnknownPlan(f"There is no plan {plan_key!r}.")
    if plan.key == "free":
        raise UnknownPlan("The Free plan needs no checkout.")
    if plan.stripe_price_id is None:
        raise BillingNotConfigured(f"The {plan.name} plan has no Stripe price configured.")
    return plan.stripe_price_id


def _settings_url(settings: Settings, billing: str | None = None) -> str:
    query = f"?billing={billing}" if billing else ""
    return f"{settings.public_base_url.rstrip('/')}{SETTINGS_PATH}{query}"


def _billing_settings(runtime: Runtime) -> Settings:
    if not runtime.settings.billing_enabled:
        raise BillingNotConfigured
    return runtime.settings


async def start_checkout(
    conn: Conn, runtime: Runtime, *, user_id: UUID, email: str, plan_key: str
) -> str:
    """The URL of a Stripe Checkout page subscribing the caller to a paid plan.

    Runs in the caller's transaction; a user's checkouts serialize, so their Stripe customer is
    made once and remembered. Someone already subscribed changes plans in the Billing Portal.
    """
    settings = _billing_settings(runtime)
    price_id = _price_of(settings, plan_key)
    stripe_client = gateway.client(settings, runtime.http)
    await repository.lock_user(conn, user_id=user_id)
    profile = await users_service.get_profile(conn, user_id=user_id)
    if profile.has_access:
        current = users_service.plan_of(settings, profile)
        raise AlreadySubscribed(
            f"You already have the {current.name} plan. Change or cancel it from Manage billing."
        )
    customer_id = profile.customer_id
    if customer_id is None:
        customer_id = await gateway.create_customer(stripe_client, user_id=user_id, email=email)
        # Users may change only their name: the billing columns are the service's.
        await set_identity(conn, role="service_role")
        await users_service.link_customer(conn, user_id=user_id, customer_id=customer_id)
    return await gateway.create_checkout_session(
        stripe_client,
        customer_id=customer_id,
        user_id=user_id,
        price_id=price_id,
        success_url=_settings_url(settings, "success"),
        cancel_url=_settings_url(settings, "cancel"),
    )


async def open_portal(conn: Conn, runtime: Runtime, *, user_id: UUID) -> str:
    """The URL of the caller's Stripe Billing Portal (change plan, payment method, cancel)."""
    settings = _billing_settings(runtime)
    profile = await users_service.get_profile(conn, user_id=user_id)
    if profile.customer_id is None:
        raise NoBillingAccount
    return await gateway.create_portal_session(
        gateway.client(settings, runtime.http),
        customer_id=profile.customer_id,
        return_url=_settings_url(settings),
    )


async def apply_webhook(
    conn: Conn, runtime: Runtime, *, payload: bytes, signature: str | None
) -> bool:
    """Apply a Stripe webhook delivery (as the service role); False for an event already applied.

    The event is verified on the raw body and recorded in the same transaction as its effect. Its
    subscription is read again from Stripe under a per-customer lock, so events applied in any
    order leave the profile as the subscription is now.
    """
    settings = _billing_settings(runtime)
    if settings.stripe_webhook_secret is None:
        raise BillingNotConfigured("Stripe webhooks are not configured on this server.")
    event = gateway.verify_event(
        payload, signature, settings.stripe_webhook_secret.get_secret_value()
    )
    if not await repository.insert_billing_event(conn, event_id=event.id, type=event.type):
        log.info("billing.event_duplicate", event_id=event.id, type=event.type)
        return False
    ref = gateway.subscription_ref(event)
    if ref is not None:
        await _follow_subscription(conn, runtime, event=event, ref=ref)
    return True


async def _follow_subscription(
    conn: Conn, runtime: Runtime, *, event: gateway.StripeEvent, ref: gateway.SubscriptionRef
) -> None:
    """Set the profile of the event's customer from its subscription as Stripe has it now."""
    await repository.lock_customer(conn, customer_id=ref.customer_id)
    latest = await gateway.get_subscription(
        gateway.client(runtime.settings, runtime.http), ref.subscription_id
    )
    profile = await users_service.find_billing_profile(
        conn, customer_id=latest.customer_id, user_id=latest.user_id or ref.user_id
    )
    if profile is None:
        log.warning("billing.customer_unknown", event_id=event.id, customer=latest.customer_id)
        return
    plan = await users_service.apply_subscription(
        conn, runtime.settings, profile=profile, subscription=latest.subscription, now=utcnow()
    )
    log.info(
        "billing.subscription_applied",
        event_id=event.id,
        type=event.type,
        user_id=str(profile.id),
        status=latest.subscription.status,
        plan=plan.key,
    )
