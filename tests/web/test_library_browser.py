"""The library in Chromium against the live server: hearts, the "Add to collection" menu, the
selection toolbar, collections, with screenshots (light, and dark for My Renders)."""

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import UUID

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.generations.presets import DEFAULT_PRESETS
from roomcraft.generations.providers.local import LocalJob, render_variant
from roomcraft.kit.images import thumbnail_webp
from roomcraft.storage.service import storage_from_settings
from tests.factories import Account, create_user
from tests.renders.factories import Render, count_rows, create_render

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Awaitable[Path]]

LOOKS = [
    ("redesign", "living_room", "scandinavian"),
    ("staging", "bedroom", "japandi"),
    ("imagine", "home_office", "mid_century_modern"),
    ("redesign", "kitchen", "industrial"),
    ("compose", "dining_room", "coastal"),
]


async def renders_with_images(
    pool: Pool, settings: Settings, owner: Account, looks: list[tuple[str, str, str]]
) -> list[Render]:
    """Renders whose variants are real pictures from the local engine, oldest first."""
    storage = storage_from_settings(settings)
    renders = []
    for mode, room_type, style in looks:
        render = await create_render(
            pool, owner_id=owner.id, mode=mode, room_type=room_type, style=style, variants=2
        )
        look = DEFAULT_PRESETS.style(style)
        assert look is not None
        for idx in range(2):
            job = LocalJob(str(render.id), "imagine", room_type, look, (800, 600), None, None)
            jpeg = await asyncio.to_thread(render_variant, job, idx)
            base = f"renders/{render.id}/{idx}"
            await storage.put("public", f"{base}.jpg", jpeg, content_type="image/jpeg")
            thumb = thumbnail_webp(jpeg)
            await storage.put("public", f"{base}_thumb.webp", thumb, content_type="image/webp")
        renders.append(render)
    return renders


async def sign_in(page: Page, account: Account) -> None:
    await page.goto("/signin")
    await page.fill("#signin-email", account.email)
    await page.fill("#signin-password", account.password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


@pytest.fixture
def snap(page: Page, screenshot: Screenshot, output_dir: Path) -> Callable[..., Awaitable[None]]:
    """A screenshot once animations have finished: the whole page, or only the screen (a modal
    dialog's backdrop covers the screen, not the page)."""

    async def take(name: str, *, full_page: bool = True) -> None:
        await page.wait_for_function(
            "document.getAnimations().every(a => a.playState !== 'running')"
        )
        if full_page:
            await screenshot(name)
        else:
            await page.screenshot(path=str(output_dir / "screenshots" / f"{name}.png"))

    return take


Snap = Callable[..., Awaitable[None]]


def card(page: Page, title: str) -> Locator:
    return page.get_by_test_id("render-card").filter(has_text=title)


def page_form_posts(page: Page) -> list[str]:
    """The page forms posted from now on (not the JSON API): the cards' forms are for pages
    without JavaScript, so with it this stays empty."""
    posts: list[str] = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url)
            if request.method == "POST" and "/api/" not in request.url
            else None
        ),
    )
    return posts


async def toggle_favorite(page: Page, heart: Locator) -> None:
    async with page.expect_response("**/api/v1/favorites/toggle"):
        await heart.click()


class TestFavorites:
    async def test_favorite_from_my_renders_then_unfavorite_in_favorites(
        self, page: Page, snap: Snap, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings)
        await renders_with_images(pool, settings, user, LOOKS[:4])
        await sign_in(page, user)
        form_posts = page_form_posts(page)

        await page.get_by_role("link", name="My Renders", exact=True).click()
        await expect(page.get_by_test_id("render-card")).to_have_count(4)
        heart = card(page, "Bedroom · Japandi").get_by_role("button", name="Favorite")
        await expect(heart).to_have_attribute("aria-pressed", "false")
        await toggle_favorite(page, heart)
        await expect(heart).to_have_attribute("aria-pressed", "true")
        await snap("library-renders")
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.get_by_label("Select Kitchen · Industrial").check()
        await snap("library-renders-phone")
        await page.get_by_label("Select Kitchen · Industrial").uncheck()
        await page.set_viewport_size({"width": 1280, "height": 860})

        await page.get_by_role("link", name="Favorites", exact=True).click()
        favorite = card(page, "Bedroom · Japandi")
        await expect(page.get_by_test_id("render-card")).to_have_count(1)
        await expect(favorite.get_by_role("button", name="Favorite")).to_have_attribute(
            "aria-pressed", "true"
        )
        await snap("library-favorites")

        await toggle_favorite(page, favorite.get_by_role("button", name="Favorite"))
        await expect(page.get_by_test_id("render-card")).to_have_count(0)
        await expect(page.get_by_role("heading", name="No favorites yet")).to_be_visible()
        await expect(page.get_by_role("link", name="Generate your first render")).to_be_focused()
        await snap("library-favorites-empty")
        await page.reload()
        await expect(page.get_by_test_id("render-card")).to_have_count(0)
        assert form_posts == []

    async def test_a_failing_toggle_rolls_back_with_a_toast(
        self, page: Page, snap: Snap, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings)
        renders = await renders_with_images(pool, settings, user, LOOKS[:2])
        await sign_in(page, user)
        await page.goto("/renders")
        heart = card(page, "Living room · Scandinavian").get_by_role("button", name="Favorite")
        await expect(heart).to_be_visible()

        async with as_service(pool) as conn:  # deleted in another tab, behind this page's back
            await conn.execute("delete from public.renders where id = %s", (renders[0].id,))
        await toggle_favorite(page, heart)

        await expect(heart).to_have_attribute("aria-pressed", "false")
        toast = page.locator(".toast--error")
        await expect(toast).to_contain_text("Couldn't update your favorites. Render not found.")
        await snap("library-heart-rollback")


class TestCollections:
    async def test_create_add_two_renders_rename_and_delete(
        self, page: Page, snap: Snap, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings)
        await renders_with_images(pool, settings, user, LOOKS[:3])
        await sign_in(page, user)

        await page.goto("/collections")
        await snap("library-collections-start")
        await page.get_by_label("New collection").fill("Living room ideas")
        await page.get_by_role("button", name="Create collection").click()
        await expect(page.get_by_test_id("collection-name")).to_have_text(
            ["My Favorites", "Living room ideas"]
        )

        # One render through its card's menu.
        await page.goto("/renders")
        first = card(page, "Living room · Scandinavian")
        menu_button = first.get_by_role("button", name="Add to collection")
        await menu_button.click()
        await expect(menu_button).to_have_attribute("aria-expanded", "true")
        item = page.get_by_role("menuitemcheckbox", name="Living room ideas")
        await expect(item).to_be_focused()
        await expect(item).to_have_attribute("aria-checked", "false")
        async with page.expect_response("**/api/v1/collections/items/toggle"):
            await item.click()
        await expect(item).to_have_attribute("aria-checked", "true")
        await snap("library-collection-menu")
        await page.keyboard.press("Escape")
        await expect(page.get_by_role("menu")).to_have_count(0)
        await expect(menu_button).to_be_focused()
        await expect(menu_button).to_have_attribute("aria-expanded", "false")

        # Another through the selection toolbar.
        toolbar = page.get_by_test_id("bulk-bar")
        await expect(toolbar).to_be_hidden()
        await page.get_by_label("Select Home office · Mid-century modern").check()
        await expect(toolbar).to_be_visible()
        await expect(toolbar).to_contain_text("1 selected")
        await page.get_by_test_id("bulk-collection").select_option(label="Living room ideas")
        await snap("library-selection")
        await page.get_by_test_id("bulk-add").click()
        await expect(page.locator(".toast--success")).to_contain_text(
            "Added 1 render to “Living room ideas”."
        )
        await expect(toolbar).to_be_hidden()

        await (
            page.get_by_role("navigation", name="App")
            .get_by_role("link", name="Collections")
            .click()
        )
        tile = page.get_by_test_id("collection").filter(has_text="Living room ideas")
        await expect(tile.get_by_test_id("collection-count")).to_have_text("2 renders")
        await snap("library-collections")

        await tile.get_by_role("link").click()
        await expect(page.get_by_test_id("collection-title")).to_have_text("Living room ideas")
        await expect(page.get_by_test_id("render-card")).to_have_count(2)
        await snap("library-collection")
        leaving = card(page, "Home office · Mid-century modern")
        form_posts = page_form_posts(page)
        async with page.expect_response("**/api/v1/collections/items/toggle"):
            await leaving.get_by_role("button", name="Remove from this collection").click()
        await expect(page.get_by_test_id("render-card")).to_have_count(1)
        await expect(page.get_by_text("1 render", exact=True)).to_be_visible()
        assert form_posts == []
        await page.reload()
        await expect(page.get_by_test_id("render-card")).to_have_count(1)

        await page.get_by_test_id("rename-collection").click()
        await expect(page.get_by_test_id("rename-input")).to_be_focused()
        await page.get_by_test_id("rename-input").fill("Sunny living rooms")
        await snap("library-collection-rename")
        await page.get_by_test_id("save-rename").click()
        await expect(page.get_by_test_id("collection-title")).to_have_text("Sunny living rooms")

        await page.get_by_test_id("delete-collection").click()
        await expect(page.get_by_test_id("confirm-delete-collection")).to_be_visible()
        await snap("library-collection-delete")
        await page.get_by_test_id("confirm-delete-collection").click()
        await expect(page).to_have_url(re.compile(r"/collections$"))
        await expect(page.get_by_test_id("collection-name")).to_have_text(["My Favorites"])

        await page.goto("/renders")
        await expect(page.get_by_test_id("render-card")).to_have_count(3)

    async def test_new_collection_from_the_render_page_menu(
        self, page: Page, snap: Snap, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings)
        (render,) = await renders_with_images(pool, settings, user, LOOKS[2:3])
        await sign_in(page, user)
        await page.goto(f"/renders/{render.id}")

        await toggle_favorite(page, page.get_by_test_id("render-heart"))
        await expect(page.get_by_test_id("render-heart")).to_have_attribute("aria-pressed", "true")
        menu_button = page.get_by_test_id("render-collection-menu")
        await menu_button.press("ArrowDown")
        new = page.get_by_role("menuitem", name="New collection…")
        await expect(new).to_be_focused()
        await new.press("Enter")
        await page.get_by_label("Name of the new collection").fill("Reading nooks")
        await snap("render-detail-new-collection")
        await page.get_by_role("button", name="Create and add").click()
        await expect(page.locator(".toast--success")).to_contain_text("Added to “Reading nooks”.")
        await expect(menu_button).to_be_focused()

        await menu_button.click()
        await expect(page.get_by_role("menuitemcheckbox", name="Reading nooks")).to_have_attribute(
            "aria-checked", "true"
        )
        await snap("render-detail-menu")
        await page.get_by_role("heading", level=1).click()  # a click outside closes it
        await expect(page.get_by_role("menu")).to_have_count(0)
        collection = await _collection_id(pool, user, "Reading nooks")
        query = "select count(*) from public.collection_items where collection_id = %s"
        assert await count_rows(pool, query, collection) == 1


class TestMyRenders:
    async def test_filters_and_deleting_a_selection(
        self, page: Page, snap: Snap, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings)
        await renders_with_images(pool, settings, user, LOOKS)
        await sign_in(page, user)
        await page.goto("/renders")

        await page.get_by_test_id("filter-mode").focus()
        await page.get_by_test_id("filter-mode").select_option("redesign")
        await expect(page).to_have_url(re.compile(r"mode=redesign"))
        await expect(page.get_by_test_id("render-card")).to_have_count(2)
        await expect(page.get_by_test_id("filter-mode")).to_be_focused()
        await page.get_by_test_id("filter-style").select_option("coastal")
        await expect(page.get_by_text("No renders match these filters")).to_be_visible()
        await snap("library-renders-no-match")
        await page.get_by_test_id("clear-filters").click()
        await expect(page.get_by_test_id("render-card")).to_have_count(5)

        await page.get_by_label("Select Kitchen · Industrial").check()
        await page.get_by_label("Select Dining room · Coastal").check()
        await expect(page.get_by_test_id("bulk-bar")).to_contain_text("2 selected")
        await page.get_by_test_id("bulk-delete").click()
        dialog = page.get_by_role("dialog", name="Delete 2 renders?")
        await expect(dialog).to_be_visible()
        await snap("library-delete-dialog", full_page=False)
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(page.get_by_test_id("render-card")).to_have_count(5)
        await page.get_by_test_id("bulk-delete").click()
        await page.get_by_test_id("confirm-bulk-delete").click()
        await expect(page.locator(".toast--success")).to_contain_text("Deleted 2 renders.")
        await expect(page.get_by_test_id("render-card")).to_have_count(3)
        assert await count_rows(pool, "select count(*) from public.renders") == 3

        await page.emulate_media(color_scheme="dark")
        await page.reload()
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await (
            card(page, "Bedroom · Japandi").get_by_role("button", name="Add to collection").click()
        )
        await expect(page.get_by_role("menuitem", name="New collection…")).to_be_focused()
        await snap("library-renders-dark")

    async def test_load_more_appends_the_next_page(
        self, page: Page, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings)
        for _ in range(26):
            await create_render(pool, owner_id=user.id, variants=1)
        await sign_in(page, user)
        await page.goto("/renders")
        cards = page.get_by_test_id("render-card")
        await expect(cards).to_have_count(24)

        await page.get_by_test_id("load-more").click()

        await expect(cards).to_have_count(26)
        await expect(page.get_by_test_id("load-more")).to_have_count(0)
        await expect(page).to_have_url(re.compile(r"/renders$"))
        ids = await cards.evaluate_all("cards => cards.map(c => c.dataset.renderId)")
        assert len(set(ids)) == 26
        await expect(cards.nth(24).locator(".render-card-link")).to_be_focused()


class TestGeneratePage:
    async def test_heart_a_live_result_and_find_it_in_favorites(
        self, page: Page, snap: Snap, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings)
        await sign_in(page, user)
        await page.goto("/generate")
        await page.get_by_test_id("mode-imagine").click()
        await page.get_by_test_id("prompt").fill("A sunlit reading nook with a linen armchair")
        await page.get_by_test_id("variants-1").check(force=True)
        await page.get_by_test_id("generate").click()
        result = page.get_by_test_id("results").get_by_test_id("result-card")
        await expect(result).to_have_count(1, timeout=30_000)

        heart = result.get_by_role("button", name="Favorite")
        render_id = await result.get_attribute("data-render-id")
        form = await heart.evaluate(
            "b => [b.form.getAttribute('action'), b.form.elements.csrf_token.value,"
            " b.form.elements.next.value, b.value]"
        )
        token = await page.locator("#csrf-token").get_attribute("data-token")
        assert form == [
            f"/renders/{render_id}/favorite",
            token,
            f"/renders/{render_id}?variant=0",
            "true",
        ]
        form_posts = page_form_posts(page)
        await toggle_favorite(page, heart)
        await expect(heart).to_have_attribute("aria-pressed", "true")
        await expect(heart).to_have_attribute("value", "false")
        assert form_posts == []
        await result.get_by_role("button", name="Add to collection").click()
        await expect(page.get_by_role("menuitem", name="New collection…")).to_be_focused()
        await snap("generate-result-menu")
        await page.keyboard.press("Escape")

        await page.get_by_role("link", name="Favorites", exact=True).click()
        await expect(page.get_by_test_id("render-card")).to_have_count(1)
        await expect(page.get_by_test_id("render-card")).to_contain_text("Imagine · 1 variant")


class TestWithoutJavaScript:
    async def test_filter_select_add_and_delete_with_plain_forms(
        self,
        browser: Browser,
        live_server: str,
        output_dir: Path,
        pool: Pool,
        settings: Settings,
    ) -> None:
        user = await create_user(pool, settings)
        await renders_with_images(pool, settings, user, LOOKS[:3])
        context = await browser.new_context(
            base_url=live_server, viewport={"width": 1280, "height": 860}, java_script_enabled=False
        )
        page = await context.new_page()
        folder = output_dir / "screenshots"
        try:
            await sign_in(page, user)
            await page.goto("/collections")
            await page.get_by_label("New collection").fill("Offices")
            await page.get_by_role("button", name="Create collection").click()

            await page.goto("/renders")
            cards = page.get_by_test_id("render-card")
            await expect(cards.get_by_role("button", name="Favorite")).to_have_count(3)
            await expect(cards.get_by_role("button", name="Add to collection")).to_have_count(0)
            await page.get_by_test_id("filter-style").select_option("japandi")
            await page.get_by_role("button", name="Apply filters").click()
            await expect(page.get_by_test_id("render-card")).to_have_count(1)
            await page.get_by_test_id("clear-filters").click()

            await page.get_by_label("Select Home office · Mid-century modern").check()
            await page.get_by_test_id("bulk-collection").select_option(label="Offices")
            await page.screenshot(path=str(folder / "library-renders-nojs.png"), full_page=True)
            await page.get_by_test_id("bulk-add").click()
            await expect(page.get_by_test_id("collection-title")).to_have_text("Offices")
            await expect(page.get_by_test_id("render-card")).to_have_count(1)
            await page.get_by_role("button", name="Remove from this collection").click()
            await expect(page.get_by_text("Nothing in this collection yet")).to_be_visible()
            await expect(page.get_by_test_id("render-card")).to_have_count(0)

            await page.goto("/renders")
            await page.get_by_label("Select Bedroom · Japandi").check()
            await page.get_by_test_id("bulk-delete").click()
            panel = page.get_by_test_id("confirm-bulk-delete-panel")
            await expect(panel).to_contain_text("Delete 1 render?")
            await page.screenshot(path=str(folder / "library-delete-nojs.png"), full_page=True)
            await panel.get_by_role("button", name="Delete 1 render").click()
            await expect(page.get_by_test_id("deleted-note")).to_have_text("Deleted 1 render.")
            await expect(page.get_by_test_id("render-card")).to_have_count(2)
        finally:
            await context.close()

    async def test_favorite_from_my_renders_and_find_it_in_favorites(
        self,
        browser: Browser,
        live_server: str,
        output_dir: Path,
        pool: Pool,
        settings: Settings,
    ) -> None:
        user = await create_user(pool, settings)
        renders = await renders_with_images(pool, settings, user, LOOKS[:3])
        context = await browser.new_context(
            base_url=live_server, viewport={"width": 1280, "height": 860}, java_script_enabled=False
        )
        page = await context.new_page()
        folder = output_dir / "screenshots"
        try:
            await sign_in(page, user)
            await page.goto("/renders")
            heart = card(page, "Bedroom · Japandi").get_by_role("button", name="Favorite")
            await expect(heart).to_have_attribute("aria-pressed", "false")
            await heart.click()
            await expect(page).to_have_url(re.compile(rf"/renders#card-{renders[1].id}$"))
            await expect(heart).to_have_attribute("aria-pressed", "true")
            await page.screenshot(path=str(folder / "library-heart-nojs.png"), full_page=True)

            await page.get_by_role("link", name="Favorites", exact=True).click()
            favorite = card(page, "Bedroom · Japandi")
            await expect(page.get_by_test_id("render-card")).to_have_count(1)
            await expect(favorite.get_by_role("button", name="Favorite")).to_have_attribute(
                "aria-pressed", "true"
            )
            await page.screenshot(path=str(folder / "library-favorites-nojs.png"), full_page=True)

            await favorite.get_by_role("link", name="Bedroom · Japandi").click()
            render_heart = page.get_by_test_id("render-heart")
            await expect(render_heart).to_have_attribute("aria-pressed", "true")
            await render_heart.click()
            await expect(page).to_have_url(re.compile(rf"/renders/{renders[1].id}\?variant=0$"))
            await expect(render_heart).to_have_attribute("aria-pressed", "false")
            await page.get_by_role("link", name="Favorites", exact=True).click()
            await expect(page.get_by_role("heading", name="No favorites yet")).to_be_visible()
        finally:
            await context.close()


async def _collection_id(pool: Pool, owner: Account, name: str) -> UUID:
    async with as_service(pool) as conn:
        cur = await conn.execute(
            "select id from public.collections where owner_id = %s and name = %s",
            (owner.id, name),
        )
        row = await cur.fetchone()
    assert row is not None
    return UUID(str(row["id"]))
