"""Plans in Chromium against the live server: Pricing, Settings → Plan & usage, and the Generate
page when the month's generations are used up. Screenshots in test-output/screenshots/."""

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect
from pydantic import SecretStr

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.kit.time import utcnow
from roomcraft.usage import service as usage_service
from tests.factories import Account, create_user
from tests.fakes.stripe import FakeStripe
from tests.web.test_billing_pages import charge, credit

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Awaitable[Path]]

PRICES = {"starter": "price_starter", "pro": "price_pro"}


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe(prices=set(PRICES.values())) as fake:
        yield fake


@pytest.fixture
def stripe_api(stripe_server: FakeStripe) -> FakeStripe:
    stripe_server.reset()
    return stripe_server


@pytest.fixture(scope="module")
def settings(settings: Settings, stripe_server: FakeStripe) -> Settings:
    """The live server bills through the loopback Stripe; the built-in plans carry its prices."""
    return settings.model_copy(
        update={
            "stripe_secret_key": SecretStr(stripe_server.api_key),
            "stripe_webhook_secret": SecretStr(stripe_server.webhook_secret),
            "stripe_api_base": stripe_server.base_url,
            "plans": [
                plan.model_copy(update={"stripe_price_id": PRICES.get(plan.key)})
                for plan in settings.plans
            ],
        }
    )


# A month of use: debits by mode, refunds of failed variants and a credit from support; 6 of 10
# used.
LEDGER: list[tuple[str, int, str]] = [
    ("debit", 2, "redesign"),
    ("credit", 1, "Refund: 1 of 2 variants failed"),
    ("debit", 1, "staging"),
    ("debit", 1, "imagine"),
    ("debit", 2, "compose"),
    ("credit", 2, "Refund: you canceled the job"),
    ("debit", 2, "redesign"),
    ("debit", 1, "imagine"),
    ("debit", 2, "staging"),
    ("credit", 1, "Refund: the renderer could not finish"),
    ("debit", 1, "compose"),
    ("admin", 2, "welcome to Roomcraft"),
]


async def sign_in(page: Page, account: Account) -> None:
    await page.goto("/signin")
    await page.fill("#signin-email", account.email)
    await page.fill("#signin-password", account.password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def fit_page(page: Page) -> None:
    """Make the window as tall as the page, so a full-page screenshot shows the sticky sidebar
    and the progress bar where a person sees them."""
    await page.set_viewport_size({"width": 1280, "height": 860})
    height = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": 1280, "height": int(height)})


async def write_ledger(pool: Pool, settings: Settings, account: Account) -> None:
    for kind, amount, detail in LEDGER:
        if kind == "debit":
            await charge(pool, account, variants=amount, mode=detail)
        elif kind == "credit":
            await credit(pool, account, amount=amount, reason=detail)
        else:
            async with as_service(pool) as conn:
                await usage_service.adjust_credits(
                    conn,
                    settings,
                    user_id=account.id,
                    amount=amount,
                    reason=detail,
                    adjusted_by="support@roomcraft.example",
                    now=utcnow(),
                )


async def deliver(live_server: str, stripe_api: FakeStripe, event: dict[str, object]) -> None:
    """Post a Stripe event to the live server's webhook, signed as Stripe signs it."""
    body = json.dumps(event).encode()
    headers = {"Stripe-Signature": stripe_api.sign(body), "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 200, response.text


async def use_dark_theme(page: Page) -> None:
    await page.locator("#theme-toggle").click()
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    await page.wait_for_timeout(300)  # buttons fade their colours over 0.15 s


class TestPricing:
    async def test_upgrade_through_checkout_then_manage_billing(
        self,
        page: Page,
        screenshot: Screenshot,
        pool: Pool,
        settings: Settings,
        stripe_api: FakeStripe,
        live_server: str,
    ) -> None:
        account = await create_user(pool, settings, email="plans@example.com")
        await sign_in(page, account)
        await page.get_by_role("link", name="Settings", exact=True).click()
        await page.get_by_role("link", name="Upgrade", exact=True).click()
        await expect(page).to_have_url(re.compile(r"/pricing$"))
        free = page.get_by_test_id("plan-free")
        await expect(free).to_have_attribute("aria-current", "true")
        await expect(free.get_by_test_id("current-plan")).to_have_text("Current plan")
        await expect(page.get_by_test_id("current-plan")).to_have_count(1)
        await expect(page.get_by_test_id("billing-note")).to_have_count(0)
        await screenshot("pricing-signed-in")

        await page.get_by_role("button", name="Upgrade to Pro").click()
        await expect(page).to_have_url(re.compile(re.escape(stripe_api.base_url) + r"/pay/cs_"))
        [session] = stripe_api.sessions.values()
        assert session["client_reference_id"] == str(account.id)
        await deliver(live_server, stripe_api, stripe_api.complete_checkout(session["id"]))

        # Stripe sends the customer back to the success URL.
        await page.goto(session["success_url"])
        await expect(page.get_by_test_id("billing-banner")).to_contain_text("you're on Pro")
        await expect(page.get_by_test_id("plan-name")).to_have_text("Pro")
        await expect(page.get_by_test_id("usage-limit")).to_have_text("500")
        await fit_page(page)
        await screenshot("settings-after-checkout")

        await page.get_by_test_id("manage-billing").click()
        await expect(page).to_have_url(re.compile(re.escape(stripe_api.base_url) + r"/portal/"))

        await page.goto("/pricing")
        await expect(page.get_by_test_id("plan-pro")).to_have_attribute("aria-current", "true")
        await expect(page.get_by_role("button", name="Switch to Starter")).to_be_enabled()
        await use_dark_theme(page)
        await fit_page(page)
        await screenshot("pricing-subscriber-dark")

    async def test_a_refused_checkout_shows_stripes_message_on_the_card(
        self, page: Page, pool: Pool, settings: Settings, stripe_api: FakeStripe
    ) -> None:
        await sign_in(page, await create_user(pool, settings, email="refused@example.com"))
        await page.goto("/pricing")
        stripe_api.fail_next(message="Your account cannot currently make live charges.")
        await page.get_by_role("button", name="Upgrade to Starter").click()
        error = page.get_by_test_id("plan-starter").get_by_role("alert")
        await expect(error).to_have_text(
            "Stripe refused to create your billing account: "
            "Your account cannot currently make live charges."
        )
        await expect(page).to_have_url(re.compile(r"/pricing$"))
        await expect(page.get_by_role("button", name="Upgrade to Starter")).to_be_enabled()

    async def test_signed_out_sign_up_comes_back_to_pricing(self, page: Page) -> None:
        await page.goto("/pricing")
        await page.get_by_test_id("plan-free").get_by_role("link", name="Start for free").click()
        await page.fill("#signup-email", "from-pricing@example.com")
        await page.fill("#signup-password", "a long password")
        await page.get_by_role("button", name="Create account").click()
        await expect(page).to_have_url(re.compile(r"/pricing$"))
        await expect(page.get_by_test_id("plan-free")).to_have_attribute("aria-current", "true")


class TestSettingsPlanAndUsage:
    async def test_usage_bar_history_and_show_more(
        self, page: Page, screenshot: Screenshot, pool: Pool, settings: Settings
    ) -> None:
        account = await create_user(pool, settings, email="usage@example.com")
        await write_ledger(pool, settings, account)
        await sign_in(page, account)
        await page.get_by_role("link", name="Settings", exact=True).click()
        bar = page.get_by_role("progressbar")
        await expect(bar).to_have_attribute("aria-valuenow", "6")
        await expect(bar).to_have_attribute("aria-valuemax", "10")
        await expect(page.get_by_test_id("usage-remaining")).to_have_text("4 left")
        await expect(page.get_by_test_id("usage-resets")).to_contain_text("Resets on")
        rows = page.get_by_test_id("usage-line")
        await expect(rows).to_have_count(10)
        await expect(rows.first).to_contain_text("Added by support: welcome to Roomcraft")
        await expect(rows.first).to_contain_text("+2")
        await expect(rows.nth(1)).to_contain_text("Compose: 1 variant")
        await expect(rows.nth(1)).to_contain_text("−1")
        await fit_page(page)
        await screenshot("settings-plan-usage")

        await page.get_by_test_id("history-more").click()
        await expect(rows).to_have_count(12)
        await expect(rows.nth(10)).to_be_focused()
        await expect(rows.nth(11)).to_contain_text("Redesign: 2 variants")
        await expect(page.get_by_test_id("history-more")).to_have_count(0)
        await expect(page).to_have_url(re.compile(r"/settings$"))

        await use_dark_theme(page)
        await fit_page(page)
        await screenshot("settings-plan-usage-dark")

    async def test_a_new_account_sees_an_empty_history(
        self, page: Page, pool: Pool, settings: Settings
    ) -> None:
        await sign_in(page, await create_user(pool, settings, email="new@example.com"))
        await page.goto("/settings")
        await expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
        await expect(page.get_by_text("No generations yet")).to_be_visible()
        await page.get_by_role("link", name="Generate your first render").click()
        await expect(page).to_have_url(re.compile(r"/generate$"))


class TestOutOfGenerations:
    async def test_a_refused_submit_shows_the_upgrade_path(
        self, page: Page, screenshot: Screenshot, pool: Pool, settings: Settings
    ) -> None:
        account = await create_user(pool, settings, email="spent@example.com")
        await sign_in(page, account)
        await page.goto("/generate")
        await expect(page.get_by_test_id("remaining")).to_contain_text("10")
        await page.get_by_test_id("mode-imagine").click()
        await page.get_by_test_id("prompt").fill("A sunlit reading nook with a linen armchair")
        await page.get_by_test_id("variants-1").check(force=True)
        # The month's generations go elsewhere (another tab, the API) while this page is open.
        await charge(pool, account, variants=6, mode="redesign")
        await charge(pool, account, variants=4, mode="staging")

        await page.get_by_test_id("generate").click()
        out = page.get_by_test_id("out-of-credits")
        await expect(out).to_be_visible()
        await expect(out).to_contain_text("You're out of generations this month")
        await expect(out).to_contain_text("You've used all 10 generations of your Free plan.")
        await expect(out.locator("time")).to_have_attribute("datetime", re.compile(r"-01T00:00"))
        await expect(page.locator("#out-title")).to_be_focused()
        await expect(page.get_by_test_id("generate")).to_be_disabled()
        await expect(page.get_by_test_id("remaining")).to_contain_text("0 of 10")
        await expect(page.locator("#toasts .toast--error")).to_have_count(0)
        await fit_page(page)
        await screenshot("generate-out-of-generations")

        await out.get_by_role("link", name="Upgrade").click()
        await expect(page).to_have_url(re.compile(r"/pricing$"))

    async def test_opening_generate_with_nothing_left(
        self, page: Page, pool: Pool, settings: Settings
    ) -> None:
        account = await create_user(pool, settings, email="empty@example.com")
        await charge(pool, account, variants=10)
        await sign_in(page, account)
        await page.goto("/generate")
        await expect(page.get_by_test_id("out-of-credits")).to_be_visible()
        await expect(page.get_by_test_id("generate")).to_be_disabled()
        await expect(page.get_by_test_id("out-of-credits").get_by_role("link")).to_have_attribute(
            "href", "/pricing"
        )
