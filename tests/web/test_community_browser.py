"""The Community gallery and its curation in Chromium against the live server, with screenshots."""

import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest
from playwright.async_api import Page, expect

from roomcraft.community import service as community_service
from roomcraft.community.schemas import (
    ApplySettings,
    CommunityCollectionCreate,
    CommunityItemCreate,
)
from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.kit.images import thumbnail_webp
from roomcraft.runtime import Runtime
from tests.factories import create_user
from tests.renders.factories import create_render
from tests.web.test_community_pages import fetching_from_loopback, room_image, serve_rooms

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Awaitable[Path]]

# A gallery as an admin might curate it: (title, description, featured, looks).
GALLERY = [
    (
        "Scandinavian calm",
        "Pale oak, linen and soft daylight: rooms that breathe.",
        True,
        [
            ("Sunlit living room", "redesign", "living_room", "scandinavian", None),
            ("Quiet bedroom", "staging", "bedroom", "japandi", "Linen bedding, oak, morning light"),
            ("Calm home office", "redesign", "home_office", "minimalist", None),
        ],
    ),
    (
        "Kitchens & dining",
        "Warm materials for the rooms where everyone gathers.",
        False,
        [
            ("Brick loft kitchen", "imagine", "kitchen", "industrial", "A brick loft kitchen"),
            (None, "redesign", "dining_room", "farmhouse", None),
            ("Terracotta and sun", "redesign", "kitchen", "mediterranean", None),
            ("Deco dinner", "staging", "dining_room", "art_deco", None),
        ],
    ),
    (
        "Bathrooms",
        None,
        False,
        [("Spa at home", "redesign", "bathroom", "zen", None)],
    ),
]


@pytest.fixture(scope="module")
def room_server() -> Iterator[str]:
    with serve_rooms() as base_url:
        yield base_url


@pytest.fixture
async def runtime(runtime: Runtime) -> Runtime:
    return fetching_from_loopback(runtime)


async def curate(pool: Pool, runtime: Runtime, room_server: str) -> None:
    """The gallery above, its images fetched from the loopback host like an admin's would be."""
    async with as_service(pool) as conn:
        for order, (title, description, featured, looks) in enumerate(GALLERY):
            body = CommunityCollectionCreate(
                title=title, description=description, is_featured=featured, order_index=order
            )
            collection = (await community_service.create_collection(conn, body=body)).collection
            for index, (name, mode, room, style, prompt) in enumerate(looks):
                look = {"mode": mode, "room_type": room, "style": style, "prompt": prompt}
                item = CommunityItemCreate(
                    collection_id=collection.id,
                    external_image_url=f"{room_server}/rooms/{style}/{room}.jpg",
                    title=name,
                    apply_settings=ApplySettings.model_validate(look),
                    order_index=index,
                )
                await community_service.create_item(conn, runtime, body=item)


async def render_with_files(
    pool: Pool, runtime: Runtime, owner_id: UUID, style: str, room_type: str
) -> None:
    """A render whose variants are real pictures in storage."""
    render = await create_render(pool, owner_id=owner_id, style=style, room_type=room_type)
    picture = room_image(style, room_type)
    for path in render.paths:
        thumb = path.endswith(".webp")
        data = thumbnail_webp(picture, max_pixels=50_000_000) if thumb else picture
        await runtime.storage.put(
            "public", path, data, content_type="image/webp" if thumb else "image/jpeg"
        )


async def images_loaded(page: Page) -> None:
    """Every image of the page decoded (lazy ones too), so a full-page screenshot shows them."""
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    await page.wait_for_function(
        "Array.from(document.images).every(image => image.complete && image.naturalWidth > 0)"
    )
    await page.evaluate("window.scrollTo(0, 0)")


class TestCommunity:
    async def test_try_this_look_signed_out_then_sign_in_lands_on_a_prefilled_generator(
        self,
        page: Page,
        screenshot: Screenshot,
        pool: Pool,
        settings: Settings,
        runtime: Runtime,
        room_server: str,
    ) -> None:
        await curate(pool, runtime, room_server)
        user = await create_user(pool, settings, email="visitor@example.com")

        await page.goto("/community")
        featured = page.get_by_test_id("featured-collection")
        await expect(featured.get_by_role("heading", name="Scandinavian calm")).to_be_visible()
        await expect(featured.get_by_test_id("look-card")).to_have_count(3)
        await expect(page.get_by_test_id("collection")).to_have_count(2)
        await expect(page.get_by_role("link", name="Sign in")).to_be_visible()
        await images_loaded(page)
        await screenshot("community")
        await page.emulate_media(color_scheme="dark")
        await page.reload()
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await images_loaded(page)
        await screenshot("community-dark")
        await page.emulate_media(color_scheme="light")
        await page.reload()

        card = page.get_by_test_id("look-card").filter(has_text="Quiet bedroom")
        await card.get_by_role("link", name=re.compile("Try this look")).click()
        await expect(page).to_have_url(re.compile(r"/signin\?next=%2Fgenerate%3F"))
        await page.fill("#signin-email", user.email)
        await page.fill("#signin-password", user.password)
        await screenshot("community-try-signin")
        await page.get_by_role("button", name="Sign in", exact=True).click()

        await expect(page).to_have_url(re.compile(r"/generate\?.*mode=staging"))
        await expect(page.get_by_test_id("mode-staging")).to_have_attribute("aria-selected", "true")
        await expect(page.get_by_test_id("room-type")).to_have_value("bedroom")
        await expect(page.get_by_test_id("style-japandi")).to_be_checked()
        await expect(page.get_by_test_id("prompt")).to_have_value(
            "Linen bedding, oak, morning light"
        )
        await screenshot("community-try-generate")

    async def test_a_collection_page_and_an_unknown_one(
        self, page: Page, screenshot: Screenshot, pool: Pool, runtime: Runtime, room_server: str
    ) -> None:
        await curate(pool, runtime, room_server)

        await page.goto("/community")
        await page.get_by_role("link", name=re.compile("See all 4")).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Kitchens & dining")
        await expect(page.get_by_test_id("look-card")).to_have_count(4)
        await expect(page.get_by_role("img", name="Farmhouse dining room")).to_be_visible()
        await images_loaded(page)
        await screenshot("community-collection")
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto("/community")
        await images_loaded(page)
        await screenshot("community-mobile")
        await page.goto("/community/00000000-0000-0000-0000-000000000000")
        await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


class TestCuration:
    async def test_admin_curates_a_collection(
        self,
        page: Page,
        screenshot: Screenshot,
        pool: Pool,
        settings: Settings,
        runtime: Runtime,
        room_server: str,
    ) -> None:
        await curate(pool, runtime, room_server)
        maker = await create_user(pool, settings, email="maker@example.com")
        for style, room in (
            ("bohemian", "living_room"),
            ("coastal", "bedroom"),
            ("rustic", "kitchen"),
        ):
            await render_with_files(pool, runtime, maker.id, style, room)
        admin = await create_user(pool, settings, email="admin@example.com", is_admin=True)

        await page.goto("/admin")
        await page.fill("#signin-email", admin.email)
        await page.fill("#signin-password", admin.password)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await expect(page.get_by_role("heading", name="Community curation")).to_be_visible()
        await expect(page.get_by_test_id("curation-row")).to_have_count(3)
        await expect(page.get_by_test_id("recent-render")).to_have_count(3)
        await images_loaded(page)
        await screenshot("admin-curation")

        await page.fill("#new-collection-title", "Coastal escapes")
        await page.get_by_role("button", name="Create collection").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Coastal escapes")
        await expect(page.get_by_test_id("notice")).to_contain_text("Collection created.")
        await page.goto("/admin")
        recent = page.get_by_test_id("recent-render").filter(has_text="Coastal bedroom")
        await recent.get_by_label("Collection for this render").select_option(
            label="Coastal escapes"
        )
        await recent.get_by_test_id("add-render").click()
        await expect(page.get_by_test_id("notice")).to_contain_text("Render added")
        await expect(page.get_by_test_id("curation-item")).to_have_count(1)
        await page.get_by_test_id("edit-item").click()
        await page.get_by_test_id("curation-item").get_by_label("Title").fill("Blue hour bedroom")
        await screenshot("admin-collection-edit")
        await page.get_by_role("button", name="Save look").click()
        await expect(page.get_by_test_id("curation-item")).to_contain_text("Blue hour bedroom")
        await images_loaded(page)
        await screenshot("admin-collection")
        await page.get_by_test_id("add-item").click()
        await expect(page.get_by_role("alert")).to_contain_text("Please correct the fields")
        await expect(page.get_by_text("Give the web address of a JPEG")).to_be_visible()
        await expect(page.locator("#new-item-url")).to_have_attribute("aria-invalid", "true")
        await screenshot("admin-collection-error")

        await page.get_by_test_id("delete-collection").click()
        await screenshot("admin-collection-delete")
        await page.get_by_test_id("confirm-delete").click()
        await expect(page.get_by_test_id("notice")).to_contain_text("Collection deleted.")
        await expect(page.get_by_test_id("curation-row")).to_have_count(3)
