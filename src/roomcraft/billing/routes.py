"""`/api/v1/billing` (Checkout, Billing Portal) and the Stripe webhook."""

from typing import Any

from fastapi import APIRouter, Request

from roomcraft.api.deps import CurrentUser, RuntimeDep, ServiceConn, UserConn
from roomcraft.api.responses import errors
from roomcraft.billing import service as billing_service
from roomcraft.billing.schemas import BillingRedirectRead, CheckoutCreate
from roomcraft.kit.envelope import Envelope, ErrorEnvelope, ok

router = APIRouter(tags=["billing"])
webhooks_router = APIRouter(tags=["webhooks"], include_in_schema=False)

_STRIPE_ERRORS: dict[int | str, dict[str, Any]] = {
    502: {
        "model": ErrorEnvelope,
        "description": "PAYMENT_PROVIDER_ERROR: Stripe refused or failed",
    },
    503: {"model": ErrorEnvelope, "description": "BILLING_NOT_CONFIGURED: no Stripe keys"},
}


@router.post("/billing/checkout", responses=errors(400, 401, 403, 409) | _STRIPE_ERRORS)
async def checkout(
    body: CheckoutCreate, identity: CurrentUser, conn: UserConn, runtime: RuntimeDep
) -> Envelope[BillingRedirectRead]:
    """Start a subscription to a paid plan: the URL of its Stripe Checkout page."""
    url = await billing_service.start_checkout(
        conn, runtime, user_id=identity.user_id, email=identity.email, plan_key=body.plan
    )
    return ok(BillingRedirectRead(url=url))


@router.post("/billing/portal", responses=errors(401, 403, 409) | _STRIPE_ERRORS)
async def portal(
    identity: CurrentUser, conn: UserConn, runtime: RuntimeDep
) -> Envelope[BillingRedirectRead]:
    """Manage the subscription (plan, payment method, invoices, cancel): the Billing Portal URL."""
    url = await billing_service.open_portal(conn, runtime, user_id=identity.user_id)
    return ok(BillingRedirectRead(url=url))


@webhooks_router.post("/webhooks/stripe")
async def stripe_webhook(
    request: Request, conn: ServiceConn, runtime: RuntimeDep
) -> dict[str, object]:
    """A Stripe event: verified on the raw body, applied once, in one transaction."""
    applied = await billing_service.apply_webhook(
        conn,
        runtime,
        payload=await request.body(),
        signature=request.headers.get("stripe-signature"),
    )
    return {"success": True, "data": {"applied": applied}}
