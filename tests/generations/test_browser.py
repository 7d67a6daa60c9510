"""The generate flow in Chromium against the live server and its in-process worker."""

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.generations.conftest import armchair_photo, room_photo
from tests.web.test_browser import sign_up

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Awaitable[Path]]


async def attach(page: Page, slot: int, path: Path) -> None:
    await page.get_by_test_id(f"upload-input-{slot}").set_input_files(str(path))
    await expect(page.get_by_test_id(f"upload-preview-{slot}")).to_be_visible()


class TestGenerate:
    async def test_redesign_from_a_photo_to_the_render_page(
        self, page: Page, screenshot: Screenshot, tmp_path: Path
    ) -> None:
        photo = tmp_path / "living-room.jpg"
        photo.write_bytes(room_photo())
        await sign_up(page, "maker@example.com")
        await page.goto("/generate")
        await expect(page.get_by_test_id("remaining")).to_contain_text("10")
        await page.get_by_test_id("mode-redesign").click()
        await attach(page, 1, photo)
        await page.get_by_test_id("room-type").select_option("living_room")
        await page.get_by_test_id("style-japandi").check(force=True)
        await page.get_by_test_id("variants-2").check(force=True)
        await screenshot("generate-ready")
        await page.get_by_test_id("generate").click()
        cards = page.get_by_test_id("results").get_by_test_id("result-card")
        await expect(cards).to_have_count(2, timeout=30_000)
        await expect(page.get_by_test_id("remaining")).to_contain_text("8")
        await screenshot("generate-results")
        await cards.first.get_by_role("link").first.click()
        await expect(page).to_have_url(re.compile(r"/renders/[0-9a-f-]{36}"))
        await expect(page.get_by_test_id("before-after")).to_be_visible()
        await expect(page.get_by_test_id("variant-thumb")).to_have_count(2)
        await page.get_by_test_id("before-after-range").fill("25")
        await screenshot("render-detail")
        await page.get_by_test_id("delete-render").click()
        await page.get_by_test_id("confirm-delete").click()
        await expect(page).to_have_url(re.compile(r"/renders$"))

    async def test_compose_and_imagine(
        self, page: Page, screenshot: Screenshot, tmp_path: Path
    ) -> None:
        room, chair = tmp_path / "room.jpg", tmp_path / "chair.png"
        room.write_bytes(room_photo())
        chair.write_bytes(armchair_photo())
        await sign_up(page, "composer@example.com")
        await page.goto("/generate")
        await page.get_by_test_id("mode-compose").click()
        await attach(page, 1, room)
        await attach(page, 2, chair)
        await page.get_by_test_id("variants-1").check(force=True)
        await page.get_by_test_id("generate").click()
        results = page.get_by_test_id("results").get_by_test_id("result-card")
        await expect(results).to_have_count(1, timeout=30_000)
        await page.get_by_test_id("mode-imagine").click()
        await page.get_by_test_id("prompt").fill("A sunlit reading nook with a terracotta armchair")
        await page.get_by_test_id("generate").click()
        await expect(page.get_by_test_id("progress")).to_be_visible()
        await expect(results).to_have_count(1, timeout=30_000)
        await screenshot("generate-imagine")

    async def test_try_this_look_prefills_the_generator(self, page: Page) -> None:
        await sign_up(page, "prefill@example.com")
        await page.goto("/generate?mode=imagine&style=industrial&prompt=Brick+loft&variants=1")
        await expect(page.get_by_test_id("mode-imagine")).to_have_attribute("aria-selected", "true")
        await expect(page.get_by_test_id("style-industrial")).to_be_checked()
        await expect(page.get_by_test_id("prompt")).to_have_value("Brick loft")
        await expect(page.get_by_test_id("variants-1")).to_be_checked()
