"""Profiles: who the user is and which plan applies to them.

A profile follows one subscription. Its plan is the plan of `price_id` while `has_access`, until
`plan_changes_at`; from then on it is the plan of `next_price_id` (none: free). An upgrade applies
at once; a downgrade or a cancellation the user chose waits for the end of the period already paid
for (`current_period_end`), which is when `plan_changes_at` falls. Losing a subscription to unpaid
invoices applies at once.
"""

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from uuid import UUID

from roomcraft.config import Plan, Settings
from roomcraft.db.session import Conn
from roomcraft.kit.errors import NotFound
from roomcraft.kit.pagination import Cursor
from roomcraft.kit.time import utcnow
from roomcraft.users import repository
from roomcraft.users.repository import BillingState, ProfileRow, UserCounts, UserRow

# Subscription statuses that grant the paid plan; past_due while the payment is being retried.
GRANTING_STATUSES = frozenset({"active", "trialing", "past_due"})
# Why a subscription may end that does not leave the period it was paid for to the user.
UNPAID_REASONS = frozenset({"payment_failed", "payment_disputed"})


@dataclass(frozen=True)
class Subscription:
    """A subscription as the payment provider reports it now."""

    id: str
    status: str
    price_id: str | None
    current_period_end: datetime | None
    # When it is set to end: at a given time, or at the end of its period.
    ends_at: datetime | None
    cancellation_reason: str | None

    @property
    def grants(self) -> bool:
        return self.status in GRANTING_STATUSES

    @property
    def chosen_by_user(self) -> bool:
        """A change the user made (a new price, a cancellation), not a lapse in payment."""
        if self.grants:
            return True
        return self.status == "canceled" and self.cancellation_reason not in UNPAID_REASONS


def plan_for_price(settings: Settings, price_id: str | None) -> Plan:
    """The plan sold at this price; free for none or a price no plan has."""
    for plan in settings.plans:
        if price_id is not None and plan.stripe_price_id == price_id:
            return plan
    return settings.plan("free")


def plan_of(settings: Settings, profile: ProfileRow, *, now: datetime | None = None) -> Plan:
    """The plan of a profile at `now` (default: now): its paid price while it has access and
    no scheduled change has fallen due, else the scheduled plan, else free."""
    at = now or utcnow()
    if profile.plan_changes_at is not None and at >= profile.plan_changes_at:
        return plan_for_price(settings, profile.next_price_id)
    return plan_for_price(settings, profile.price_id if profile.has_access else None)


def billing_after(
    settings: Settings, profile: ProfileRow, subscription: Subscription, *, now: datetime
) -> BillingState:
    """What the profile's billing becomes, given its subscription's state at `now`.

    Only the subscription's own state counts, never the event that announced it, so the same
    state applied twice, or states read in any order that ends with the latest, agree.
    """
    mirrored = BillingState(
        subscription_id=subscription.id,
        price_id=subscription.price_id,
        has_access=subscription.grants,
        current_period_end=subscription.current_period_end,
        next_price_id=None,
        plan_changes_at=subscription.ends_at if subscription.grants else None,
    )
    current = plan_of(settings, profile, now=now)
    following = plan_of(settings, _with(profile, mirrored), now=now)
    paid_until = profile.current_period_end
    keeps_paid_period = (
        subscription.chosen_by_user
        and following.monthly_generations < current.monthly_generations
        and paid_until is not None
        and paid_until > now
    )
    if not keeps_paid_period:
        return mirrored
    return BillingState(
        subscription_id=subscription.id,
        price_id=current.stripe_price_id,
        has_access=True,
        current_period_end=paid_until,
        next_price_id=following.stripe_price_id,
        plan_changes_at=paid_until,
    )


def _with(profile: ProfileRow, state: BillingState) -> ProfileRow:
    return replace(profile, **asdict(state))


async def get_profile(conn: Conn, *, user_id: UUID) -> ProfileRow:
    """The caller's profile."""
    profile = await repository.get_profile(conn, user_id=user_id)
    if profile is None:
        raise NotFound("Profile not found.")
    return profile


async def get_profile_by_email(conn: Conn, *, email: str) -> ProfileRow:
    """The profile of the account with this email (as the service role)."""
    profile = await repository.get_profile_by_email(conn, email=email.strip())
    if profile is None:
        raise NotFound(f"No account with the email {email}.")
    return profile


async def find_billing_profile(
    conn: Conn, *, customer_id: str, user_id: UUID | None
) -> ProfileRow | None:
    """The profile of a billing customer, or of `user_id` (linking the customer to it) when
    the customer was never linked; None when neither is known."""
    profile = await repository.get_profile_by_customer(conn, customer_id=customer_id)
    if profile is not None or user_id is None:
        return profile
    if not await repository.update_customer_id(conn, user_id=user_id, customer_id=customer_id):
        return None
    return await repository.get_profile(conn, user_id=user_id)


async def link_customer(conn: Conn, *, user_id: UUID, customer_id: str) -> None:
    """Remember the billing customer made for this user (as the service role)."""
    await repository.update_customer_id(conn, user_id=user_id, customer_id=customer_id)


async def apply_subscription(
    conn: Conn,
    settings: Settings,
    *,
    profile: ProfileRow,
    subscription: Subscription,
    now: datetime,
) -> Plan:
    """Set the profile's billing from its subscription's state (as the service role); returns the
    plan that applies now. A subscription other than the one the profile follows is taken up only
    when it grants access: the end of an old one does not undo a newer one."""
    follows_another = profile.subscription_id not in {None, subscription.id}
    if follows_another and not subscription.grants:
        return plan_of(settings, profile, now=now)
    state = billing_after(settings, profile, subscription, now=now)
    await repository.update_billing(conn, user_id=profile.id, state=state)
    return plan_of(settings, _with(profile, state), now=now)


async def grant_admin(conn: Conn, *, email: str) -> None:
    """Make the account with this email an administrator."""
    if not await repository.update_admin_by_email(conn, email=email, is_admin=True):
        raise NotFound(f"No account with the email {email}.")


async def list_users(
    conn: Conn, *, email_contains: str | None, after: Cursor | None, limit: int
) -> list[UserRow]:
    """Every account, newest first, or those whose email contains a text; for administrators,
    on a service-role connection."""
    text = (email_contains or "").strip() or None
    return await repository.list_users(conn, email_contains=text, after=after, limit=limit)


async def get_user(conn: Conn, *, user_id: UUID) -> UserRow:
    """Any account, for administrators (on a service-role connection)."""
    user = await repository.get_user(conn, user_id=user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


async def count_users(conn: Conn, *, joined_since: datetime) -> UserCounts:
    """Accounts, administrators and newcomers since a date (on a service-role connection)."""
    return await repository.count_users(conn, joined_since=joined_since)
