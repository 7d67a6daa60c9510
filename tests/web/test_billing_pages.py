"""The plan pages through plain HTTP: Pricing, Settings → Plan & usage, and Generate out of credits.

The module runs on its own plans, so nothing here can pass by echoing the built-in defaults."""

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from roomcraft.config import Plan, Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.kit.time import utcnow
from roomcraft.main import create_app
from roomcraft.runtime import open_runtime
from roomcraft.usage import service as usage_service
from tests.factories import Account, sign_in
from tests.fakes.stripe import FakeStripe

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]

PLANS = [
    Plan(
        key="free",
        name="Free",
        description="A taste of every mode.",
        price_display="Free",
        monthly_generations=5,
        jobs_in_flight=1,
        max_variants=2,
    ),
    Plan(
        key="studio",
        name="Studio",
        description="For a busy interior studio.",
        price_display="$29 / month",
        stripe_price_id="price_studio",
        monthly_generations=250,
        jobs_in_flight=2,
        max_variants=3,
    ),
    Plan(
        key="agency",
        name="Agency",
        description="For teams staging every listing.",
        price_display="$99 / month",
        stripe_price_id="price_agency",
        monthly_generations=1000,
        jobs_in_flight=3,
        max_variants=4,
    ),
]
FREE_LIMIT = PLANS[0].monthly_generations
NOT_CONFIGURED = "Billing is not configured on this server; everyone is on the Free plan."


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """The harness's settings with this module's plans (and, like them, no Stripe keys)."""
    return settings.model_copy(update={"plans": PLANS})


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[FakeStripe]:
    prices = {plan.stripe_price_id for plan in PLANS if plan.stripe_price_id}
    with FakeStripe(prices=prices) as fake:
        yield fake


@pytest.fixture
def stripe_api(stripe_server: FakeStripe) -> FakeStripe:
    stripe_server.reset()
    return stripe_server


@pytest.fixture
async def billing_app(
    settings: Settings, stripe_api: FakeStripe, pool: Pool
) -> AsyncIterator[FastAPI]:
    """The app with Stripe keys, its SDK pointed at the loopback Stripe: billing is on."""
    with_stripe = settings.model_copy(
        update={
            "stripe_secret_key": SecretStr(stripe_api.api_key),
            "stripe_webhook_secret": SecretStr(stripe_api.webhook_secret),
            "stripe_api_base": stripe_api.base_url,
        }
    )
    async with open_runtime(with_stripe, pool) as runtime:
        yield create_app(with_stripe, runtime=runtime)


@asynccontextmanager
async def signed_in(app: FastAPI, user: Account) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await sign_in(client, user)
        yield client


async def subscribe(
    pool: Pool, user: Account, *, price_id: str, ends_at: datetime | None = None
) -> None:
    """What a processed Stripe subscription leaves on the profile (`ends_at`: a cancellation
    that waits for the end of the paid period)."""
    async with as_service(pool) as conn:
        await conn.execute(
            """
            update public.profiles
               set customer_id = %(customer)s, subscription_id = %(subscription)s,
                   price_id = %(price)s, has_access = true, current_period_end = %(ends_at)s,
                   next_price_id = null, plan_changes_at = %(ends_at)s
             where id = %(user)s
            """,
            {
                "customer": f"cus_{user.id.hex[:14]}",
                "subscription": f"sub_{user.id.hex[:14]}",
                "price": price_id,
                "ends_at": ends_at,
                "user": user.id,
            },
        )


async def charge(pool: Pool, user: Account, *, variants: int = 1, mode: str = "imagine") -> UUID:
    """A finished job and its debit, written by the service role as a submit does; one
    transaction each, so every line has its own time."""
    async with as_service(pool) as conn:
        cur = await conn.execute(
            """
            insert into public.generation_jobs (owner_id, mode, provider, prompt, status)
            values (%s, %s, 'local', 'a reading nook', 'succeeded')
            returning id
            """,
            (user.id, mode),
        )
        row = await cur.fetchone()
        assert row is not None
        job_id = UUID(str(row["id"]))
        await usage_service.debit(conn, owner_id=user.id, job_id=job_id, amount=variants, mode=mode)
    return job_id


async def credit(pool: Pool, user: Account, *, amount: int, reason: str) -> None:
    async with as_service(pool) as conn:
        await usage_service.refund(
            conn, owner_id=user.id, job_id=None, amount=amount, reason=reason
        )


def plan_card(html: str, key: str) -> str:
    match = re.search(rf'<article[^>]*data-testid="plan-{key}".*?</article>', html, re.DOTALL)
    assert match, f"no card for the {key} plan"
    return match.group(0)


def history_lines(html: str) -> list[str]:
    """The ledger's lines as text: date, activity and amount, tags and spacing removed."""
    rows = re.findall(r'<tr tabindex="-1" data-testid="usage-line">(.*?)</tr>', html, re.DOTALL)
    return [
        " ".join(re.sub(r"<span class=\"visually-hidden\">.*?</span>|<[^>]+>", " ", row).split())
        for row in rows
    ]


def readable_reset_date() -> str:
    _, resets_at = usage_service.month_bounds(utcnow())
    return f"{resets_at:%B} {resets_at.day}, {resets_at.year}"


class TestPricing:
    async def test_lists_the_configured_plans(self, client: httpx.AsyncClient) -> None:
        html = (await client.get("/pricing")).text
        studio = plan_card(html, "studio")
        assert "Studio" in studio
        assert "$29 / month" in studio
        assert "For a busy interior studio." in studio
        assert "<strong>250</strong> generations a month" in studio
        assert "Up to 3 variants per request" in studio
        assert "2 generations running at a time" in studio
        agency = plan_card(html, "agency")
        assert "$99 / month" in agency
        assert "<strong>1000</strong> generations a month" in agency
        assert "<strong>5</strong> generations a month" in plan_card(html, "free")
        assert "Starter" not in html  # the built-in plans are replaced, not merged

    async def test_signed_out_visitors_sign_up_or_sign_in_back_to_pricing(
        self, client: httpx.AsyncClient
    ) -> None:
        html = (await client.get("/pricing")).text
        assert 'href="/signup?next=%2Fpricing">Start for free' in plan_card(html, "free")
        assert 'href="/signin?next=%2Fpricing">Sign in' in html
        assert "Current plan" not in html

    async def test_marks_a_free_users_current_plan(
        self, client_for: MakeClient, user: Account
    ) -> None:
        html = (await (await client_for(user)).get("/pricing")).text
        assert 'aria-current="true"' in plan_card(html, "free")
        assert "Current plan" in plan_card(html, "free")
        for key in ("studio", "agency"):
            assert "Current plan" not in plan_card(html, key)

    async def test_marks_a_subscribers_paid_plan(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await subscribe(pool, user, price_id="price_agency")
        html = (await (await client_for(user)).get("/pricing")).text
        assert "Current plan" in plan_card(html, "agency")
        assert "Current plan" not in plan_card(html, "free")

    async def test_without_stripe_the_buttons_are_disabled_with_a_note(
        self, client_for: MakeClient, user: Account, client: httpx.AsyncClient
    ) -> None:
        html = (await (await client_for(user)).get("/pricing")).text
        assert NOT_CONFIGURED in html
        studio = plan_card(html, "studio")
        assert re.search(r"<button[^>]*disabled[^>]*>Upgrade to Studio</button>", studio)
        assert "data-billing=" not in html
        anonymous = (await client.get("/pricing")).text
        assert NOT_CONFIGURED in anonymous
        assert re.search(r"<button[^>]*disabled[^>]*>Get Agency</button>", anonymous)

    async def test_with_billing_a_free_user_gets_checkout_buttons(
        self, billing_app: FastAPI, user: Account
    ) -> None:
        async with signed_in(billing_app, user) as client:
            html = (await client.get("/pricing")).text
        assert NOT_CONFIGURED not in html
        for key, name in (("studio", "Studio"), ("agency", "Agency")):
            card = plan_card(html, key)
            assert 'data-billing="checkout"' in card
            assert f'name="plan" value="{key}"' in card
            assert f">Upgrade to {name}</button>" in card
            assert "disabled" not in card
        assert "data-billing" not in plan_card(html, "free")

    async def test_with_billing_a_subscriber_switches_plans_in_the_portal(
        self, billing_app: FastAPI, user: Account, pool: Pool
    ) -> None:
        await subscribe(pool, user, price_id="price_studio")
        async with signed_in(billing_app, user) as client:
            html = (await client.get("/pricing")).text
        agency = plan_card(html, "agency")
        assert 'data-billing="portal"' in agency
        assert ">Switch to Agency</button>" in agency
        assert 'data-billing="checkout"' not in html
        assert "Manage billing" in plan_card(html, "free")


class TestSettingsPlanAndUsage:
    async def test_shows_the_plan_used_limit_and_reset_date(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await charge(pool, user, variants=2)
        await charge(pool, user, variants=1, mode="redesign")
        html = (await (await client_for(user)).get("/settings")).text
        assert '<strong data-testid="plan-name">Free</strong>' in html
        assert (
            '<strong data-testid="usage-used">3</strong> of <span data-testid="usage-limit">5'
            in html
        )
        assert ">2 left<" in html
        assert re.search(
            r'role="progressbar"[^>]*aria-valuemax="5" aria-valuenow="3"\s+'
            r'aria-valuetext="3 of 5 generations used"',
            html,
        )
        assert 'style="width: 60%"' in html
        assert f">{readable_reset_date()}</time> (UTC)" in html

    async def test_a_subscriber_sees_the_paid_plan_and_its_limit(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await subscribe(pool, user, price_id="price_studio")
        await charge(pool, user, variants=3)
        html = (await (await client_for(user)).get("/settings")).text
        assert '<strong data-testid="plan-name">Studio</strong>' in html
        assert '<span data-testid="usage-limit">250</span>' in html
        assert ">247 left<" in html

    async def test_a_cancellation_shows_when_the_plan_moves_to_free(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        ends_at = datetime(2099, 3, 7, 12, tzinfo=UTC)
        await subscribe(pool, user, price_id="price_agency", ends_at=ends_at)
        html = (await (await client_for(user)).get("/settings")).text
        assert '<strong data-testid="plan-name">Agency</strong>' in html
        assert "Moves to Free on March 7, 2099, at the end of the period you paid for." in html

    async def test_a_past_plan_change_is_not_announced(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await subscribe(pool, user, price_id="price_agency", ends_at=utcnow() - timedelta(days=1))
        html = (await (await client_for(user)).get("/settings")).text
        assert '<strong data-testid="plan-name">Free</strong>' in html
        assert 'data-testid="plan-change"' not in html

    async def test_history_lists_readable_lines_newest_first_with_signed_amounts(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await charge(pool, user, variants=2, mode="staging")
        await credit(pool, user, amount=1, reason="Refund: 1 of 2 variants failed")
        await charge(pool, user, variants=1, mode="compose")
        html = (await (await client_for(user)).get("/settings")).text
        lines = history_lines(html)
        assert len(lines) == 3
        assert lines[0].endswith("Compose: 1 variant −1")
        assert lines[1].endswith("Refund: 1 of 2 variants failed +1")
        assert lines[2].endswith("Staging: 2 variants −2")
        today = utcnow()
        assert lines[0].startswith(f"{today:%b %d, %Y}")
        assert "UTC" in lines[0]

    async def test_show_more_pages_through_the_history_without_javascript(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        for n in range(1, 13):
            await credit(pool, user, amount=1, reason=f"Goodwill credit {n}")
        signed_in_client = await client_for(user)
        first = (await signed_in_client.get("/settings")).text
        assert [line.split("Goodwill ")[1] for line in history_lines(first)] == [
            f"credit {n} +1" for n in range(12, 2, -1)
        ]
        more = re.search(r'href="(/settings\?history=[^"#]+)#usage-history"', first)
        assert more, "no Show more link"
        second = (await signed_in_client.get(more.group(1))).text
        assert [line.split("Goodwill ")[1] for line in history_lines(second)] == [
            "credit 2 +1",
            "credit 1 +1",
        ]
        assert "Show more" not in second
        assert 'href="/settings#usage-history">Back to the newest' in second

    async def test_a_damaged_history_cursor_is_a_readable_400(
        self, client_for: MakeClient, user: Account
    ) -> None:
        response = await (await client_for(user)).get("/settings?history=not-a-cursor")
        assert response.status_code == 400
        assert "text/html" in response.headers["content-type"]
        assert "The cursor is not valid." in response.text

    async def test_without_history_an_empty_state_leads_to_generate(
        self, client_for: MakeClient, user: Account
    ) -> None:
        html = (await (await client_for(user)).get("/settings")).text
        assert "No generations yet" in html
        assert 'href="/generate">Generate your first render' in html
        assert 'data-testid="usage-history"' not in html

    async def test_without_billing_upgrade_leads_to_pricing(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await subscribe(pool, user, price_id="price_studio")
        html = (await (await client_for(user)).get("/settings")).text
        assert 'href="/pricing" data-testid="upgrade">Upgrade' in html
        assert "Manage billing" not in html
        assert NOT_CONFIGURED in html

    async def test_with_billing_a_subscriber_manages_billing_in_the_portal(
        self, billing_app: FastAPI, user: Account, pool: Pool
    ) -> None:
        await subscribe(pool, user, price_id="price_studio")
        async with signed_in(billing_app, user) as client:
            html = (await client.get("/settings")).text
        assert re.search(
            r'<form method="post" action="[^"]+" data-billing="portal"[^>]*>\s*'
            r'<input type="hidden" name="csrf_token" value="[0-9a-f]+">\s*'
            r'<button[^>]*data-testid="manage-billing">Manage billing</button>',
            html,
        )
        assert 'data-testid="upgrade"' not in html

    async def test_with_billing_a_free_user_is_offered_an_upgrade(
        self, billing_app: FastAPI, user: Account
    ) -> None:
        async with signed_in(billing_app, user) as client:
            html = (await client.get("/settings")).text
        assert 'data-testid="upgrade"' in html
        assert "Manage billing" not in html

    @pytest.mark.parametrize(
        ("result", "banner"),
        [("success", "Thanks, your payment went through."), ("cancel", "Checkout canceled.")],
    )
    async def test_checkout_result_banner(
        self, client_for: MakeClient, user: Account, result: str, banner: str
    ) -> None:
        html = (await (await client_for(user)).get(f"/settings?billing={result}")).text
        assert banner in html
        assert html.count('data-testid="billing-banner"') == 1

    async def test_after_checkout_a_subscriber_is_welcomed_to_the_plan(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await subscribe(pool, user, price_id="price_agency")
        html = (await (await client_for(user)).get("/settings?billing=success")).text
        assert "Thanks, you're on Agency." in html

    async def test_an_unknown_billing_result_shows_no_banner(
        self, client_for: MakeClient, user: Account
    ) -> None:
        html = (await (await client_for(user)).get("/settings?billing=<script>")).text
        assert 'data-testid="billing-banner"' not in html


class TestGenerateOutOfGenerations:
    async def test_with_generations_left_the_button_is_ready(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await charge(pool, user, variants=FREE_LIMIT - 1)
        html = (await (await client_for(user)).get("/generate")).text
        assert re.search(r'data-testid="out-of-credits"[^>]*\shidden>', html)
        assert not re.search(r'<button[^>]*data-testid="generate"[^>]*\sdisabled>', html)

    async def test_with_none_left_the_page_explains_and_disables_generate(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await charge(pool, user, variants=FREE_LIMIT - 1)
        await charge(pool, user, variants=1)
        html = (await (await client_for(user)).get("/generate")).text
        panel = re.search(
            r'<div class="gen-out" data-testid="out-of-credits"[^>]*>(.*?)</div>', html, re.DOTALL
        )
        assert panel
        assert "hidden" not in panel.group(0).split(">")[0]
        text = " ".join(re.sub(r"<[^>]+>", " ", panel.group(1)).split())
        assert "You're out of generations this month" in text
        assert f"You've used all {FREE_LIMIT} generations of your Free plan." in text
        assert f"They come back on {readable_reset_date()} (UTC)." in text
        assert re.search(
            r'<a class="btn btn-primary btn-sm" href="/pricing"[^>]*>Upgrade</a>', panel.group(1)
        )
        assert re.search(r'<button[^>]*data-testid="generate"[^>]*\sdisabled>', html, re.DOTALL)

    async def test_a_credit_back_makes_generate_ready_again(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await charge(pool, user, variants=FREE_LIMIT)
        await credit(pool, user, amount=1, reason="Refund: you canceled the job")
        html = (await (await client_for(user)).get("/generate")).text
        assert re.search(r'data-testid="out-of-credits"[^>]*\shidden>', html)


class TestBillingFormsWithoutJavaScript:
    async def test_checkout_redirects_to_stripe_checkout(
        self, billing_app: FastAPI, user: Account, stripe_api: FakeStripe
    ) -> None:
        async with signed_in(billing_app, user) as client:
            response = await client.post(
                "/settings/billing/checkout",
                data={"csrf_token": client.headers.pop("X-CSRF-Token"), "plan": "agency"},
            )
        assert response.status_code == 303
        [session] = stripe_api.sessions.values()
        assert response.headers["location"] == session["url"]
        assert session["_price"] == "price_agency"
        assert session["client_reference_id"] == str(user.id)
        assert session["success_url"].endswith("/settings?billing=success")
        assert session["cancel_url"].endswith("/settings?billing=cancel")

    async def test_manage_billing_redirects_to_the_portal(
        self, billing_app: FastAPI, user: Account, stripe_api: FakeStripe
    ) -> None:
        async with signed_in(billing_app, user) as client:
            await client.post("/settings/billing/checkout", data={"plan": "studio"})
            html = (await client.get("/settings")).text
            assert 'data-testid="manage-billing"' in html  # a Stripe customer now
            response = await client.post("/settings/billing/portal")
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"{stripe_api.base_url}/portal/")

    async def test_a_stripe_failure_is_a_readable_page(
        self, billing_app: FastAPI, user: Account, stripe_api: FakeStripe
    ) -> None:
        stripe_api.fail_next(3, status=500, message="Stripe is down", type="api_error")
        async with signed_in(billing_app, user) as client:
            response = await client.post("/settings/billing/checkout", data={"plan": "studio"})
        assert response.status_code == 502
        assert "text/html" in response.headers["content-type"]
        assert "Please try again in a moment." in response.text

    async def test_without_stripe_the_form_explains_billing_is_off(
        self, client_for: MakeClient, user: Account
    ) -> None:
        client = await client_for(user)
        response = await client.post("/settings/billing/checkout", data={"plan": "studio"})
        assert response.status_code == 503
        assert "text/html" in response.headers["content-type"]
        assert "Billing is not configured on this server" in response.text

    async def test_the_form_needs_the_csrf_field(
        self, billing_app: FastAPI, user: Account, stripe_api: FakeStripe
    ) -> None:
        async with signed_in(billing_app, user) as client:
            del client.headers["X-CSRF-Token"]
            response = await client.post("/settings/billing/checkout", data={"plan": "studio"})
        assert response.status_code == 403
        assert stripe_api.requests == []

    async def test_anonymous_is_not_sent_to_stripe(
        self, billing_app: FastAPI, stripe_api: FakeStripe
    ) -> None:
        transport = httpx.ASGITransport(app=billing_app, client=("127.0.0.1", 51001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post("/settings/billing/portal")
        assert response.status_code == 401
        assert stripe_api.requests == []
