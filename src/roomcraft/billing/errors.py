from roomcraft.kit.errors import AppError, Conflict, ValidationFailed


class BillingNotConfigured(AppError):
    """Billing is not configured on this server: every account is on the free plan."""

    code = "BILLING_NOT_CONFIGURED"
    status_code = 503


class UnknownPlan(ValidationFailed):
    """There is no such plan."""


class AlreadySubscribed(Conflict):
    """You already have a subscription. Change or cancel it from Manage billing."""


class NoBillingAccount(Conflict):
    """You have no billing account yet. Choose a plan first."""


class PaymentProviderError(AppError):
    """Payments are unavailable right now. Please try again in a moment."""

    code = "PAYMENT_PROVIDER_ERROR"
    status_code = 502


class InvalidStripeWebhook(ValidationFailed):
    """The Stripe webhook signature is missing, wrong or too old."""
