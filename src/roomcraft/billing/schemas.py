from pydantic import Field

from roomcraft.kit.envelope import CamelModel


class CheckoutCreate(CamelModel):
    plan: str = Field(min_length=1, max_length=40)


class BillingRedirectRead(CamelModel):
    """Where to send the browser: a Stripe Checkout or Billing Portal page."""

    url: str
