"""The plan rules on their own: which plan a profile has, and what a subscription's state makes
of it (`users.service.plan_of` and `billing_after`)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from roomcraft.config import Settings
from roomcraft.users.repository import ProfileRow
from roomcraft.users.service import Subscription, billing_after, plan_of
from tests.billing.conftest import billing_plans

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
PERIOD_END = NOW + timedelta(days=10)


@pytest.fixture
def plans(settings: Settings) -> Settings:
    return settings.model_copy(update={"plans": billing_plans(settings)})


def profile(**billing: object) -> ProfileRow:
    fields: dict[str, object] = {
        "subscription_id": "sub_1",
        "price_id": "price_pro",
        "has_access": True,
        "current_period_end": PERIOD_END,
        "next_price_id": None,
        "plan_changes_at": None,
    }
    fields.update(billing)
    return ProfileRow(
        id=uuid4(),
        email="a@example.com",
        name=None,
        customer_id="cus_1",
        is_admin=False,
        **fields,  # type: ignore[arg-type]
    )


def subscription(**state: object) -> Subscription:
    fields: dict[str, object] = {
        "id": "sub_1",
        "status": "active",
        "price_id": "price_pro",
        "current_period_end": PERIOD_END,
        "ends_at": None,
        "cancellation_reason": None,
    }
    fields.update(state)
    return Subscription(**fields)  # type: ignore[arg-type]


def plan_after(plans: Settings, before: ProfileRow, state: Subscription, at: datetime) -> str:
    billing = billing_after(plans, before, state, now=NOW)
    after = replace(before, **billing.__dict__)
    return plan_of(plans, after, now=at).key


class TestPlanOf:
    def test_a_paid_price_without_access_is_free(self, plans: Settings) -> None:
        assert plan_of(plans, profile(has_access=False), now=NOW).key == "free"

    def test_a_price_no_plan_sells_is_free(self, plans: Settings) -> None:
        assert plan_of(plans, profile(price_id="price_retired"), now=NOW).key == "free"

    def test_a_scheduled_change_applies_from_its_time(self, plans: Settings) -> None:
        scheduled = profile(next_price_id="price_starter", plan_changes_at=PERIOD_END)
        assert plan_of(plans, scheduled, now=PERIOD_END - timedelta(microseconds=1)).key == "pro"
        assert plan_of(plans, scheduled, now=PERIOD_END).key == "starter"


class TestBillingAfter:
    @pytest.mark.parametrize("status", ["unpaid", "incomplete_expired", "paused", "incomplete"])
    def test_losing_access_without_choosing_to_is_immediate(
        self, plans: Settings, status: str
    ) -> None:
        assert plan_after(plans, profile(), subscription(status=status), NOW) == "free"

    def test_a_subscription_set_to_end_at_a_time_is_free_from_then(self, plans: Settings) -> None:
        ends = NOW + timedelta(days=3)
        state = subscription(ends_at=ends)
        assert plan_after(plans, profile(), state, ends - timedelta(seconds=1)) == "pro"
        assert plan_after(plans, profile(), state, ends) == "free"

    def test_a_trial_grants_the_plan(self, plans: Settings) -> None:
        free = profile(has_access=False, price_id=None, subscription_id=None)
        assert plan_after(plans, free, subscription(status="trialing"), NOW) == "pro"

    def test_a_downgrade_after_the_paid_period_applies_at_once(self, plans: Settings) -> None:
        lapsed = profile(current_period_end=NOW - timedelta(seconds=1))
        assert plan_after(plans, lapsed, subscription(price_id="price_starter"), NOW) == "starter"

    def test_applying_the_same_state_twice_changes_nothing(self, plans: Settings) -> None:
        state = subscription(price_id="price_starter")
        once = billing_after(plans, profile(), state, now=NOW)
        twice = billing_after(plans, replace(profile(), **once.__dict__), state, now=NOW)
        assert once == twice
