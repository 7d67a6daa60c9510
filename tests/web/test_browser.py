"""Real Chromium against the live server: the flows a person goes through, with screenshots."""

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Awaitable[Path]]


async def sign_up(page: Page, email: str, password: str = "a long password") -> None:
    await page.goto("/signup")
    await page.fill("#signup-email", email)
    await page.fill("#signup-password", password)
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


class TestAccount:
    async def test_sign_up_see_the_shell_and_sign_out(
        self, page: Page, screenshot: Screenshot
    ) -> None:
        await page.goto("/")
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await screenshot("landing")
        await page.goto("/signup")
        await screenshot("signup")
        await sign_up(page, "browser@example.com")
        await expect(page.get_by_text("browser@example.com").first).to_be_visible()
        await screenshot("dashboard")
        for nav in ("Generate", "My Renders", "Favorites", "Collections", "Community"):
            await page.get_by_role("link", name=nav, exact=True).first.click()
            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            slug = nav.lower().replace(" ", "-")
            await expect(page.locator("nav a[aria-current=page]")).to_have_count(1)
            await screenshot(f"app-{slug}")
        await page.get_by_test_id("signout").click()
        await expect(page).to_have_url(re.compile(r"/$"))
        await page.goto("/dashboard")
        await expect(page).to_have_url(re.compile(r"/signin\?next=%2Fdashboard$"))
        await screenshot("signin")

    async def test_wrong_password_shows_an_error(self, page: Page) -> None:
        await sign_up(page, "wrong@example.com")
        await page.get_by_test_id("signout").click()
        await page.goto("/signin")
        await page.fill("#signin-email", "wrong@example.com")
        await page.fill("#signin-password", "not the password")
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await expect(page.get_by_role("alert")).to_contain_text("Email or password is incorrect.")

    async def test_magic_link_sign_in_through_the_dev_outbox(
        self, page: Page, screenshot: Screenshot
    ) -> None:
        await page.goto("/signin")
        await page.fill("#magic-email", "magic@example.com")
        await page.get_by_role("button", name="Email me a sign-in link").click()
        await expect(page.get_by_text("magic@example.com").first).to_be_visible()
        await page.goto("/dev/outbox")
        await screenshot("dev-outbox")
        await page.get_by_test_id("magic-link").first.click()
        await expect(page).to_have_url(re.compile(r"/dashboard$"))
        await expect(page.get_by_text("magic@example.com").first).to_be_visible()

    async def test_api_token_create_and_revoke(self, page: Page, screenshot: Screenshot) -> None:
        await sign_up(page, "tokens@example.com")
        await page.goto("/settings")
        await page.fill("#token-name", "Build server")
        await page.get_by_role("button", name=re.compile("Create", re.IGNORECASE)).click()
        token = page.get_by_test_id("new-token")
        await expect(token).to_have_value(re.compile(r"^rc_"))
        await screenshot("settings-new-token")
        await page.goto("/settings")
        await expect(page.get_by_test_id("new-token")).to_have_count(0)
        await expect(page.get_by_text("Build server")).to_be_visible()
        await page.get_by_test_id("revoke-token").click()
        await expect(page.get_by_text("Build server")).to_have_count(0)
        await screenshot("settings")


class TestTheme:
    async def test_dark_mode_toggle_persists(self, page: Page, screenshot: Screenshot) -> None:
        await page.goto("/")
        html = page.locator("html")
        await expect(html).to_have_attribute("data-theme", "light")
        light_background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        await page.locator("#theme-toggle").click()
        await expect(html).to_have_attribute("data-theme", "dark")
        await expect(page.locator("#theme-toggle")).to_have_attribute("aria-pressed", "true")
        dark_background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert dark_background != light_background
        await page.reload()
        await expect(html).to_have_attribute("data-theme", "dark")
        await screenshot("landing-dark")
        await page.goto("/pricing")
        await expect(html).to_have_attribute("data-theme", "dark")
        await screenshot("pricing-dark")

    async def test_follows_the_system_preference(self, page: Page) -> None:
        await page.emulate_media(color_scheme="dark")
        await page.goto("/")
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")


class TestPublicPages:
    @pytest.mark.parametrize("path", ["/pricing", "/privacy", "/terms", "/community"])
    async def test_screenshot(self, page: Page, screenshot: Screenshot, path: str) -> None:
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await screenshot(path.strip("/"))
