"""The admins' Users & credits and Jobs pages in Chromium against the live server, with
screenshots in test-output/screenshots/."""

import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
import uvicorn
from playwright.async_api import Page, expect

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.kit.images import thumbnail_webp
from roomcraft.main import create_app
from roomcraft.runtime import Runtime
from roomcraft.usage import service as usage_service
from tests.billing.conftest import billing_plans
from tests.browser import _free_port
from tests.factories import Account, create_user
from tests.renders.factories import create_render
from tests.web.test_admin_pages import create_job, set_price
from tests.web.test_billing_browser import fit_page
from tests.web.test_community_browser import images_loaded
from tests.web.test_community_pages import room_image

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Awaitable[Path]]
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# Accounts, oldest first: (email, name, plan, generations used this month).
ACCOUNTS = [
    ("dev.team@acme.example", "Acme design team", "starter", 12),
    ("carla.m@example.com", None, "free", 10),
    ("bruno@studio-nord.example", "Bruno Nordin", "pro", 138),
    ("emma@example.com", None, "free", 0),
    ("anna.berg@example.com", "Anna Berg", "free", 6),
]
# Jobs, oldest first: (account, status, mode, style, room type, variants, age, provider).
JOBS = [
    ("anna.berg", "succeeded", "redesign", "mediterranean", "living_room", 2, DAY * 2, "local"),
    ("carla.m", "succeeded", "staging", "farmhouse", "kitchen", 2, DAY + HOUR * 3, "local"),
    ("anna.berg", "succeeded", "staging", "coastal", "bathroom", 2, DAY, "local"),
    ("dev.team", "succeeded", "redesign", "industrial", "kitchen", 4, HOUR * 5, "replicate"),
    ("bruno", "succeeded", "redesign", "scandinavian", "living_room", 2, HOUR * 2, "replicate"),
    ("anna.berg", "succeeded", "redesign", "japandi", "bedroom", 2, MINUTE * 58, "local"),
    ("bruno", "failed", "compose", "coastal", "bedroom", 1, MINUTE * 41, "replicate"),
    ("dev.team", "processing", "staging", "minimalist", "home_office", 4, MINUTE * 26, "replicate"),
    ("anna.berg", "canceled", "imagine", "bohemian", "living_room", 2, MINUTE * 9, "local"),
    ("bruno", "processing", "redesign", "art_deco", "dining_room", 2, MINUTE * 2 / 3, "replicate"),
]
ERRORS = {
    "failed": "The provider did not return any image. Your credits were returned.",
    "canceled": "Canceled. Your credits were returned.",
}
REFUNDS = {
    "failed": "Refund: the renderer could not finish",
    "canceled": "Refund: you canceled the job",
}
MODEL = "google/nano-banana"


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """Plans with prices, so a profile's price makes a paid user."""
    return settings.model_copy(update={"plans": billing_plans(settings)})


@pytest.fixture(scope="module")
def live_server(settings: Settings) -> Iterator[str]:
    """The app served for real, without the queue's worker: its sweeper would fail, within the
    minute, the stuck jobs these pages are meant to show."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def rendered_job(
    pool: Pool,
    runtime: Runtime,
    owner_id: UUID,
    job: tuple[str, str, str, str, str, int, timedelta, str],
) -> UUID:
    """A job that succeeded, its render's pictures real files in storage."""
    _, _, mode, style, room, variants, age, provider = job
    render = await create_render(
        pool, owner_id=owner_id, mode=mode, style=style, room_type=room, variants=variants
    )
    picture = room_image(style, room)
    for path in render.paths:
        thumb = path.endswith(".webp")
        data = thumbnail_webp(picture, max_pixels=50_000_000) if thumb else picture
        await runtime.storage.put(
            "public", path, data, content_type="image/webp" if thumb else "image/jpeg"
        )
    async with as_service(pool) as conn:
        await conn.execute(
            """
            update public.generation_jobs
               set settings = jsonb_build_object('variants', %(variants)s::int),
                   provider = %(provider)s, model = %(model)s, created_at = now() - %(age)s,
                   completed_at = now() - %(age)s + interval '14 seconds'
             where id = %(id)s
            """,
            {
                "variants": variants,
                "provider": provider,
                "model": MODEL if provider == "replicate" else None,
                "age": age,
                "id": render.job_id,
            },
        )
    return render.job_id


async def seed_job(
    pool: Pool,
    runtime: Runtime,
    owner_id: UUID,
    job: tuple[str, str, str, str, str, int, timedelta, str],
) -> UUID:
    """One of `JOBS`, charged to its owner (and refunded when it did not deliver)."""
    _, status, mode, style, room, variants, age, provider = job
    if status == "succeeded":
        job_id = await rendered_job(pool, runtime, owner_id, job)
    else:
        job_id = await create_job(
            pool,
            owner_id=owner_id,
            status=status,
            error=ERRORS.get(status),
            mode=mode,
            room_type=room,
            style=style,
            variants=variants,
            provider=provider,
            model=MODEL if provider == "replicate" else None,
            age=age,
        )
    async with as_service(pool) as conn:
        await usage_service.debit(
            conn, owner_id=owner_id, job_id=job_id, amount=variants, mode=mode
        )
        if status in REFUNDS:
            await usage_service.refund(
                conn, owner_id=owner_id, job_id=job_id, amount=variants, reason=REFUNDS[status]
            )
    return job_id


async def seed(pool: Pool, settings: Settings, runtime: Runtime) -> dict[str, Account]:
    """The accounts above, their jobs, and earlier generations this month up to their usage."""
    admin = await create_user(pool, settings, email="admin@example.com", is_admin=True)
    accounts = {"admin": admin}
    for email, name, plan, _ in ACCOUNTS:
        accounts[email.split("@")[0]] = account = await create_user(pool, settings, email=email)
        if plan != "free":
            await set_price(pool, account, plan)
        async with as_service(pool) as conn:
            await conn.execute(
                "update public.profiles set name = %s where id = %s", (name, account.id)
            )
    charged: dict[str, int] = {}
    first_job: dict[str, UUID] = {}
    for job in JOBS:
        job_id = await seed_job(pool, runtime, accounts[job[0]].id, job)
        first_job.setdefault(job[0], job_id)
        charged[job[0]] = charged.get(job[0], 0) + (job[5] if job[1] not in REFUNDS else 0)
    async with as_service(pool) as conn:
        for email, _, _, used in ACCOUNTS:
            key = email.split("@")[0]
            if earlier := used - charged.get(key, 0):
                await usage_service.debit(
                    conn,
                    owner_id=accounts[key].id,
                    job_id=first_job[key],
                    amount=earlier,
                    mode="redesign",
                )
    return accounts


async def sign_in_at(page: Page, path: str, account: Account) -> None:
    await page.goto(path)
    await page.fill("#signin-email", account.email)
    await page.fill("#signin-password", account.password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))


class TestAdminUsersAndJobs:
    async def test_an_admin_gives_credits_and_watches_jobs(
        self,
        page: Page,
        screenshot: Screenshot,
        pool: Pool,
        settings: Settings,
        runtime: Runtime,
    ) -> None:
        accounts = await seed(pool, settings, runtime)
        anna, bruno = accounts["anna.berg"], accounts["bruno"]

        await sign_in_at(page, "/admin/users", accounts["admin"])
        await expect(page.get_by_test_id("user-row")).to_have_count(6)
        anna_row = page.locator(f"#user-{anna.id}")
        await expect(anna_row.get_by_test_id("user-usage")).to_have_text("6 / 10")
        await expect(page.locator(f"#user-{bruno.id}").get_by_test_id("user-plan")).to_have_text(
            "Pro"
        )
        await screenshot("admin-users")

        await anna_row.get_by_test_id("give-credits").click()
        await anna_row.get_by_label("Generations").fill("5")
        await anna_row.get_by_label("Reason").fill("Sorry about Tuesday's outage")
        await screenshot("admin-users-credit")
        await anna_row.get_by_test_id("credit-submit").click()
        await expect(page.get_by_test_id("notice")).to_contain_text("Credits given.")
        await expect(anna_row.get_by_test_id("user-usage")).to_have_text("1 / 10")
        await screenshot("admin-users-credited")

        bruno_row = page.locator(f"#user-{bruno.id}")
        await bruno_row.get_by_test_id("give-credits").click()
        await bruno_row.get_by_label("Generations").fill("0")
        await bruno_row.get_by_label("Reason").fill("Oops")
        await bruno_row.get_by_test_id("credit-submit").click()
        await expect(bruno_row.get_by_text("but not 0.")).to_be_visible()
        await expect(bruno_row.get_by_label("Generations")).to_have_attribute(
            "aria-invalid", "true"
        )
        await screenshot("admin-users-credit-error")

        await page.get_by_label("Search users by email").fill("studio")
        await page.get_by_role("button", name="Search", exact=True).click()
        await expect(page.get_by_test_id("user-row")).to_have_count(1)
        await page.get_by_label("Search users by email").fill("Anna")
        await page.get_by_role("button", name="Search", exact=True).click()
        await page.get_by_role("link", name="anna.berg@example.com", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("anna.berg@example.com")
        await expect(page.get_by_test_id("usage-line").first).to_contain_text(
            "Added by support: Sorry about Tuesday's outage"
        )
        await images_loaded(page)
        await fit_page(page)
        await screenshot("admin-user")

        await page.goto("/admin/jobs")
        await expect(page.get_by_test_id("job-row")).to_have_count(len(JOBS))
        await expect(page.get_by_test_id("job-stuck")).to_have_count(1)
        await expect(page.get_by_test_id("job-error")).to_contain_text("did not return any image")
        await images_loaded(page)
        await fit_page(page)
        await screenshot("admin-jobs")
        await page.get_by_test_id("filter-stuck").click()
        await expect(page.get_by_test_id("job-row")).to_have_count(1)
        await expect(page.get_by_test_id("filter-stuck")).to_have_attribute("aria-current", "page")
        await fit_page(page)
        await screenshot("admin-jobs-stuck")
        await page.emulate_media(color_scheme="dark")
        await page.goto("/admin/jobs")
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await images_loaded(page)
        await fit_page(page)
        await screenshot("admin-jobs-dark")
        await page.emulate_media(color_scheme="light")

        await page.goto("/admin#users")
        await expect(page.get_by_test_id("stat-accounts")).to_contain_text("6")
        await expect(page.get_by_test_id("stat-stuck")).to_contain_text("1")
        await fit_page(page)
        await screenshot("admin-overview")
