"""The admins' Users & credits and Jobs pages, through plain HTTP: who may see them, what they show
of the database, their keyset pages, and the credit form posted without JavaScript."""

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.main import create_app
from roomcraft.runtime import Runtime, open_runtime
from roomcraft.usage import service as usage_service
from tests.billing.conftest import PRICES, billing_plans
from tests.factories import Account, create_user
from tests.renders.factories import create_render
from tests.renders.test_routes import _count_statements
from tests.web.test_community_pages import AdminForms
from tests.web.test_pages import MakeClient, csrf_of

ZERO = "00000000-0000-0000-0000-000000000000"
PAGES = ["/admin/users", f"/admin/users/{ZERO}", "/admin/jobs"]
STATS = ("accounts", "joined", "admins", "running", "stuck", "failed", "succeeded")


@pytest.fixture
async def runtime(settings: Settings, pool: Pool) -> AsyncIterator[Runtime]:
    """The runtime on plans that carry prices, so a profile's price can make it a paid user."""
    priced = settings.model_copy(update={"plans": billing_plans(settings)})
    async with open_runtime(priced, pool) as opened:
        yield opened


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime.settings, runtime=runtime)


@pytest.fixture
async def admin_account(pool: Pool, settings: Settings) -> Account:
    return await create_user(pool, settings, email="admin@example.com", is_admin=True)


@pytest.fixture
async def admin(admin_account: Account, client_for: MakeClient) -> AdminForms:
    """The admin's browser without JavaScript: no CSRF header, the token as a form field."""
    signed_in = await client_for(admin_account)
    del signed_in.headers["X-CSRF-Token"]
    return AdminForms(signed_in, csrf_of((await signed_in.get("/admin/users")).text))


# ---------- Making the world ----------


async def create_job(
    pool: Pool,
    *,
    owner_id: UUID,
    status: str = "processing",
    age: timedelta = timedelta(0),
    error: str | None = None,
    mode: str = "redesign",
    room_type: str = "bedroom",
    style: str = "japandi",
    variants: int = 2,
    provider: str = "local",
    model: str | None = None,
) -> UUID:
    """A job of `owner_id` made `age` ago, in `status`, as the worker would have left it."""
    async with as_service(pool) as conn:
        cur = await conn.execute(
            """
            insert into public.generation_jobs (owner_id, mode, room_type, style, prompt,
                   provider, model, settings, status, error, created_at, completed_at)
            values (%(owner)s, %(mode)s, %(room_type)s, %(style)s, null, %(provider)s, %(model)s,
                    jsonb_build_object('variants', %(variants)s::int), %(status)s, %(error)s,
                    clock_timestamp() - %(age)s,
                    case when %(status)s in ('succeeded', 'failed', 'canceled')
                         then clock_timestamp() - %(age)s + interval '9 seconds' end)
            returning id
            """,
            {
                "owner": owner_id,
                "mode": mode,
                "room_type": room_type,
                "style": style,
                "provider": provider,
                "model": model,
                "variants": variants,
                "status": status,
                "error": error,
                "age": age,
            },
        )
        row = await cur.fetchone()
        assert row is not None
        return UUID(str(row["id"]))


async def set_price(pool: Pool, user: Account, plan: str) -> None:
    async with as_service(pool) as conn:
        await conn.execute(
            "update public.profiles set price_id = %s, has_access = true where id = %s",
            (PRICES[plan], user.id),
        )


async def spend(pool: Pool, user: Account, amount: int, *, at: datetime | None = None) -> None:
    """A job of `amount` variants charged to the user (at `at`, default now)."""
    job_id = await create_job(pool, owner_id=user.id, status="succeeded", variants=amount)
    async with as_service(pool) as conn:
        await usage_service.debit(
            conn, owner_id=user.id, job_id=job_id, amount=amount, mode="redesign"
        )
        if at is not None:
            await conn.execute(
                "update public.usage_ledger set created_at = %s where job_id = %s", (at, job_id)
            )


async def ledger(pool: Pool, user_id: UUID) -> list[tuple[str, int, dict[str, Any]]]:
    async with as_service(pool) as conn:
        cur = await conn.execute(
            "select kind, amount, meta from public.usage_ledger where owner_id = %s"
            " order by created_at",
            (user_id,),
        )
        return [(row["kind"], row["amount"], row["meta"]) for row in await cur.fetchall()]


# ---------- Reading the pages ----------


def rows(page: str, testid: str, attribute: str) -> list[str]:
    """The `attribute` of every element marked `data-testid=testid`, in page order."""
    pattern = rf'data-testid="{testid}" {attribute}="([^"]+)"'
    return re.findall(pattern, page)


def row_of(page: str, testid: str, attribute: str, value: object) -> str:
    """The HTML of the table row whose `attribute` is `value`."""
    match = re.search(
        rf'<tr[^>]*data-testid="{testid}" {attribute}="{value}".*?</tr>', page, re.DOTALL
    )
    assert match, f"no row {value}"
    return match.group(0)


def text_of(fragment: str) -> str:
    """The words of some HTML, tags dropped and spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def stat(page: str, name: str) -> int:
    """A number of the `/admin` overview."""
    match = re.search(rf'data-testid="stat-{name}"><span class="admin-stat-value">(\d+)<', page)
    assert match, f"no number {name}"
    return int(match.group(1))


def next_page(page: str) -> str | None:
    match = re.search(r'href="([^"]+)" rel="next" data-testid="next-page"', page)
    return html.unescape(match.group(1)) if match else None


async def walk(client: httpx.AsyncClient, url: str, testid: str, attribute: str) -> list[list[str]]:
    """The ids on each page of a list, following "Next page" to the end."""
    pages: list[list[str]] = []
    following: str | None = url
    while following is not None:
        response = await client.get(following)
        assert response.status_code == 200, response.text
        pages.append(rows(response.text, testid, attribute))
        following = next_page(response.text)
    return pages


# ---------- Who may see them ----------


class TestWhoMayManage:
    @pytest.mark.parametrize("path", PAGES)
    async def test_anonymous_is_sent_to_sign_in(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)

        assert response.status_code == 303
        assert urlsplit(response.headers["location"]).path == "/signin"
        assert parse_qs(urlsplit(response.headers["location"]).query)["next"] == [path]

    @pytest.mark.parametrize("path", PAGES)
    async def test_a_user_who_is_not_an_admin_is_forbidden(
        self, client_for: MakeClient, user: Account, path: str
    ) -> None:
        response = await (await client_for(user)).get(path)

        assert response.status_code == 403
        assert "text/html" in response.headers["content-type"]
        assert "Not allowed" in response.text

    async def test_anonymous_cannot_give_credits(
        self, client: httpx.AsyncClient, user: Account, pool: Pool
    ) -> None:
        response = await client.post(
            f"/admin/users/{user.id}/credits", data={"amount": "5", "reason": "Hi"}
        )

        assert response.status_code == 401
        assert await ledger(pool, user.id) == []

    async def test_a_user_who_is_not_an_admin_cannot_give_credits(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        signed_in = await client_for(user)

        response = await signed_in.post(
            f"/admin/users/{user.id}/credits", data={"amount": "500", "reason": "For me"}
        )

        assert response.status_code == 403
        assert await ledger(pool, user.id) == []

    async def test_a_credit_form_without_the_csrf_token_is_refused(
        self, admin: AdminForms, user: Account, pool: Pool
    ) -> None:
        response = await admin.client.post(
            f"/admin/users/{user.id}/credits", data={"amount": "5", "reason": "Hi"}
        )

        assert response.status_code == 403
        assert await ledger(pool, user.id) == []


# ---------- The overview ----------


class TestOverview:
    async def test_shows_the_numbers_and_leads_to_the_lists(
        self, admin: AdminForms, user: Account, other_user: Account, pool: Pool
    ) -> None:
        await create_job(pool, owner_id=user.id, status="processing")
        await create_job(pool, owner_id=user.id, status="starting", age=timedelta(minutes=30))
        await create_job(pool, owner_id=other_user.id, status="failed", error="Provider down")
        await create_job(pool, owner_id=other_user.id, status="failed", age=timedelta(days=3))

        page = (await admin.client.get("/admin")).text

        assert {name: stat(page, name) for name in STATS} == {
            "accounts": 3,
            "joined": 3,
            "admins": 1,
            "running": 2,
            "stuck": 1,
            "failed": 1,
            "succeeded": 0,
        }
        assert 'href="/admin/jobs?status=stuck"' in page
        assert 'action="/admin/users"' in page
        assert "No users to show yet" not in page
        assert "No jobs yet" not in page


# ---------- Users ----------


class TestUsersPage:
    async def test_lists_users_newest_first_with_plan_and_this_months_usage(
        self, admin: AdminForms, admin_account: Account, pool: Pool, settings: Settings
    ) -> None:
        free = await create_user(pool, settings, email="anna@example.com")
        pro = await create_user(pool, settings, email="bruno@studio.example")
        idle = await create_user(pool, settings, email="carla@example.com")
        await set_price(pool, pro, "pro")
        await spend(pool, free, 3)
        await spend(pool, free, 4, at=datetime.now(UTC) - timedelta(days=40))
        async with as_service(pool) as conn:
            await usage_service.refund(
                conn, owner_id=free.id, job_id=None, amount=1, reason="Refund"
            )
        await spend(pool, pro, 2)

        response = await admin.client.get("/admin/users")

        assert response.status_code == 200
        page = response.text
        assert rows(page, "user-row", "data-user-id") == [
            str(idle.id),
            str(pro.id),
            str(free.id),
            str(admin_account.id),
        ]
        lines = {
            account.email: text_of(row_of(page, "user-row", "data-user-id", account.id))
            for account in (free, pro, idle, admin_account)
        }
        assert lines["anna@example.com"].startswith("anna@example.com Free 2 / 10")
        assert lines["bruno@studio.example"].startswith("bruno@studio.example Pro 2 / 500")
        assert lines["carla@example.com"].startswith("carla@example.com Free 0 / 10")
        assert lines["admin@example.com"].startswith("admin@example.com Admin Free 0 / 10")
        assert "Admin" not in lines["anna@example.com"].split("Free")[0]
        joined = datetime.now(UTC).strftime("%b %d, %Y")
        assert joined in lines["anna@example.com"]
        assert page.count('data-testid="credit-form"') == 4

    async def test_search_keeps_emails_containing_the_text_in_any_case(
        self, admin: AdminForms, pool: Pool, settings: Settings
    ) -> None:
        studio = await create_user(pool, settings, email="bruno@studio.example")
        other = await create_user(pool, settings, email="dora@studio.example")
        await create_user(pool, settings, email="anna@example.com")

        page = (await admin.client.get("/admin/users", params={"q": " STUDIO "})).text
        literal = (await admin.client.get("/admin/users", params={"q": "a%e"})).text

        assert rows(page, "user-row", "data-user-id") == [str(other.id), str(studio.id)]
        assert 'value="STUDIO"' in page
        assert "Emails containing “<strong>STUDIO</strong>”" in page
        assert rows(literal, "user-row", "data-user-id") == []
        assert "No users match" in literal

    async def test_a_search_that_finds_nobody_says_so(self, admin: AdminForms) -> None:
        page = (await admin.client.get("/admin/users", params={"q": "<nobody>"})).text

        assert "No users match" in page
        assert "&lt;nobody&gt;" in page
        assert "<nobody>" not in page
        assert 'href="/admin/users">Show every user' in page

    async def test_pages_follow_each_other_without_duplicates(
        self, admin: AdminForms, admin_account: Account, pool: Pool, settings: Settings
    ) -> None:
        made = [await create_user(pool, settings) for _ in range(44)]

        pages = await walk(admin.client, "/admin/users", "user-row", "data-user-id")

        assert [len(page) for page in pages] == [20, 20, 5]
        listed = [user_id for page in pages for user_id in page]
        expected = [str(account.id) for account in reversed([admin_account, *made])]
        assert listed == expected

    async def test_search_carries_into_the_next_page(
        self, admin: AdminForms, pool: Pool, settings: Settings
    ) -> None:
        for index in range(21):
            await create_user(pool, settings, email=f"team{index}@studio.example")
        await create_user(pool, settings, email="someone@example.com")

        pages = await walk(admin.client, "/admin/users?q=studio", "user-row", "data-user-id")

        assert [len(page) for page in pages] == [20, 1]

    async def test_a_damaged_cursor_is_a_readable_400(self, admin: AdminForms) -> None:
        response = await admin.client.get("/admin/users", params={"after": "%%%"})

        assert response.status_code == 400
        assert "The cursor is not valid." in response.text

    async def test_the_page_is_a_constant_number_of_statements(
        self,
        admin: AdminForms,
        pool: Pool,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        statements = _count_statements(monkeypatch)
        await admin.client.get("/admin/users")  # the session is touched once
        statements.clear()
        alone = await admin.client.get("/admin/users")
        counts = [len(statements)]
        for _ in range(24):
            account = await create_user(pool, settings)
            await spend(pool, account, 1)
        for params in ({}, {"q": "example"}):
            statements.clear()
            response = await admin.client.get("/admin/users", params=params)
            assert len(rows(response.text, "user-row", "data-user-id")) == 20
            counts.append(len(statements))

        assert len(rows(alone.text, "user-row", "data-user-id")) == 1
        assert counts[0] == counts[1] == counts[2]


class TestUserPage:
    async def test_shows_plan_usage_history_and_newest_jobs(
        self, admin: AdminForms, user: Account, pool: Pool
    ) -> None:
        await set_price(pool, user, "starter")
        await spend(pool, user, 2)
        job_id = await create_job(pool, owner_id=user.id, status="failed", error="Model timed out")
        async with as_service(pool) as conn:
            await usage_service.refund(
                conn, owner_id=user.id, job_id=job_id, amount=1, reason="Refund: a variant failed"
            )

        response = await admin.client.get(f"/admin/users/{user.id}")

        assert response.status_code == 200
        page = response.text
        assert f'<h1 class="admin-user-heading">{user.email}' in page
        assert re.search(r'data-testid="plan-name">Starter<', page)
        assert re.search(r'data-testid="usage-used">1<', page)
        assert re.search(r'data-testid="usage-limit">100<', page)
        history = [
            text_of(line)
            for line in re.findall(r'data-testid="usage-line">(.*?)</tr>', page, re.DOTALL)
        ]
        assert [line.split(" UTC ", 1)[1] for line in history] == [
            "Refund: a variant failed +1 1 given back",
            "Redesign: 2 variants −2 2 used",
        ]
        assert rows(page, "job-row", "data-job-id")[0] == str(job_id)
        assert "Model timed out" in page
        assert f'href="/admin/jobs?user={user.id}"' in page

    async def test_the_history_pages_to_older_activity(
        self, admin: AdminForms, user: Account, pool: Pool
    ) -> None:
        for index in range(12):
            async with as_service(pool) as conn:
                await usage_service.refund(
                    conn, owner_id=user.id, job_id=None, amount=1, reason=f"Gift {index}"
                )

        first = (await admin.client.get(f"/admin/users/{user.id}")).text
        more = re.search(r'href="([^"]+)" data-testid="history-more"', first)
        assert more
        older = (await admin.client.get(html.unescape(more.group(1)))).text

        def gifts(page: str) -> list[str]:
            return re.findall(r"<td>(Gift \d+)</td>", page)

        assert gifts(first) == [f"Gift {index}" for index in range(11, 1, -1)]
        assert gifts(older) == ["Gift 1", "Gift 0"]
        assert 'data-testid="history-more"' not in older
        assert f'href="/admin/users/{user.id}#history">Back to the newest' in older

    async def test_an_unknown_user_is_a_404_page(self, admin: AdminForms) -> None:
        response = await admin.client.get(f"/admin/users/{ZERO}")

        assert response.status_code == 404
        assert "Page not found" in response.text

    async def test_a_malformed_id_is_a_400_page(self, admin: AdminForms) -> None:
        response = await admin.client.get("/admin/users/nobody")

        assert response.status_code == 400
        assert "text/html" in response.headers["content-type"]


# ---------- The credit form ----------


class TestGiveCredits:
    async def test_a_gift_from_the_list_lands_back_on_the_same_page(
        self, admin: AdminForms, user: Account, pool: Pool, client_for: MakeClient
    ) -> None:
        response = await admin.post(
            f"/admin/users/{user.id}/credits",
            {"amount": "5", "reason": " Sorry about the outage ", "next": "/admin/users?q=user"},
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/users?q=user&notice=credited#user-{user.id}"
        assert await ledger(pool, user.id) == [
            (
                "credit_adjustment",
                5,
                {"reason": "Sorry about the outage", "source": "admin", "by": "admin@example.com"},
            )
        ]
        page = (await admin.client.get(response.headers["location"])).text
        assert "Credits given." in page
        assert text_of(row_of(page, "user-row", "data-user-id", user.id)).startswith(
            f"{user.email} Free 0 / 10"
        )
        usage = (await (await client_for(user)).get("/api/v1/usage")).json()["data"]
        assert usage["remaining"] == 15

    async def test_taking_back_from_the_users_page_returns_there(
        self, admin: AdminForms, user: Account, pool: Pool
    ) -> None:
        response = await admin.post(
            f"/admin/users/{user.id}/credits",
            {"amount": "-3", "reason": "Duplicate gift", "next": f"/admin/users/{user.id}"},
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/users/{user.id}?notice=debited#credits"
        page = (await admin.client.get(response.headers["location"])).text
        assert "Credits taken back." in page
        assert "Taken back by support: Duplicate gift" in page
        assert re.search(r'data-testid="usage-remaining">7 left<', page)

    @pytest.mark.parametrize("next_url", ["https://evil.example/admin/users", "//evil.example", ""])
    async def test_a_foreign_return_address_goes_to_the_users_page(
        self, admin: AdminForms, user: Account, next_url: str
    ) -> None:
        response = await admin.post(
            f"/admin/users/{user.id}/credits", {"amount": "1", "reason": "Hi", "next": next_url}
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/users/{user.id}?notice=credited#credits"

    @pytest.mark.parametrize(
        ("amount", "reason", "message"),
        [
            ("0", "Oops", "Give a whole number from -1000 to 1000, but not 0."),
            ("1001", "Too much", "Give a whole number from -1000 to 1000, but not 0."),
            ("-1001", "Too much", "Give a whole number from -1000 to 1000, but not 0."),
            ("2.5", "Half", "Give a whole number from -1000 to 1000, but not 0."),
            ("", "Nothing", "Give a whole number from -1000 to 1000, but not 0."),
            ("5", "   ", "Give a reason of 1 to 200 characters: the user reads it."),
            ("5", "x" * 201, "Give a reason of 1 to 200 characters: the user reads it."),
        ],
    )
    async def test_bad_input_is_shown_in_its_row_and_writes_nothing(
        self, admin: AdminForms, user: Account, pool: Pool, amount: str, reason: str, message: str
    ) -> None:
        response = await admin.post(
            f"/admin/users/{user.id}/credits",
            {"amount": amount, "reason": reason, "next": "/admin/users"},
        )

        assert response.status_code == 400
        row = row_of(response.text, "user-row", "data-user-id", user.id)
        assert message in html.unescape(row)
        assert '<details class="admin-popover" open>' in row
        assert 'aria-invalid="true"' in row
        assert f'value="{amount}"' in row
        assert await ledger(pool, user.id) == []

    async def test_bad_input_on_the_users_page_is_shown_there(
        self, admin: AdminForms, user: Account, pool: Pool
    ) -> None:
        response = await admin.post(
            f"/admin/users/{user.id}/credits",
            {"amount": "0", "reason": "Oops", "next": f"/admin/users/{user.id}"},
        )

        assert response.status_code == 400
        assert f'<h1 class="admin-user-heading">{user.email}' in response.text
        assert "but not 0." in response.text
        assert 'value="Oops"' in response.text
        assert await ledger(pool, user.id) == []

    @pytest.mark.parametrize("amount", ["5", "0"])
    async def test_an_unknown_user_is_a_404_page(
        self, admin: AdminForms, pool: Pool, amount: str
    ) -> None:
        response = await admin.post(
            f"/admin/users/{ZERO}/credits", {"amount": amount, "reason": "Hi"}
        )

        assert response.status_code == 404
        assert "Page not found" in response.text
        assert await ledger(pool, UUID(ZERO)) == []


# ---------- Jobs ----------


class TestJobsPage:
    async def test_lists_everyones_jobs_newest_first_with_what_an_admin_needs(
        self, admin: AdminForms, user: Account, other_user: Account, pool: Pool, runtime: Runtime
    ) -> None:
        render = await create_render(pool, owner_id=user.id, variants=3, style="japandi")
        failed = await create_job(
            pool,
            owner_id=other_user.id,
            status="failed",
            error="The provider did not return any image. Your credits were returned.",
            provider="replicate",
            model="google/nano-banana",
            variants=1,
            age=timedelta(minutes=5),
        )
        running = await create_job(
            pool, owner_id=other_user.id, status="processing", mode="imagine"
        )

        page = (await admin.client.get("/admin/jobs")).text

        assert rows(page, "job-row", "data-job-id") == [
            str(running),
            str(render.job_id),
            str(failed),
        ]
        failed_row = text_of(row_of(page, "job-row", "data-job-id", failed))
        assert "Japandi bedroom Redesign · 1 variant" in failed_row
        assert other_user.email in failed_row
        assert "Failed The provider did not return any image." in failed_row
        assert "replicate · google/nano-banana" in failed_row
        assert "5 min ago · took 9 s" in failed_row
        succeeded_row = row_of(page, "job-row", "data-job-id", render.job_id)
        assert f'src="/files/public/renders/{render.id}/0_thumb.webp"' in succeeded_row
        assert f'href="/files/public/renders/{render.id}/0.jpg"' in succeeded_row
        assert f'title="{render.id}"' in succeeded_row
        assert f'/renders/{render.id}"' not in succeeded_row
        assert "Succeeded" in text_of(succeeded_row)
        running_row = text_of(row_of(page, "job-row", "data-job-id", running))
        assert "Processing" in running_row
        assert "Stuck" not in running_row
        assert f'href="/admin/users/{other_user.id}"' in page

    async def test_filters_by_status_and_flags_stuck_jobs(
        self, admin: AdminForms, user: Account, pool: Pool
    ) -> None:
        starting = await create_job(pool, owner_id=user.id, status="starting")
        stuck = await create_job(
            pool, owner_id=user.id, status="processing", age=timedelta(minutes=11)
        )
        failed = await create_job(pool, owner_id=user.id, status="failed", error="Boom")
        canceled = await create_job(
            pool, owner_id=user.id, status="canceled", error="Canceled. Your credits were returned."
        )
        succeeded = await create_job(pool, owner_id=user.id, status="succeeded")

        async def listed(status: str) -> list[str]:
            response = await admin.client.get("/admin/jobs", params={"status": status})
            assert response.status_code == 200
            return rows(response.text, "job-row", "data-job-id")

        assert await listed("all") == [
            str(j) for j in (succeeded, canceled, failed, starting, stuck)
        ]
        assert await listed("running") == [str(starting), str(stuck)]
        assert await listed("stuck") == [str(stuck)]
        assert await listed("failed") == [str(failed)]
        assert await listed("canceled") == [str(canceled)]
        assert await listed("succeeded") == [str(succeeded)]
        page = (await admin.client.get("/admin/jobs")).text
        assert 'data-testid="job-stuck"' in row_of(page, "job-row", "data-job-id", stuck)
        assert 'data-testid="job-stuck"' not in row_of(page, "job-row", "data-job-id", starting)
        assert "Boom" in row_of(page, "job-row", "data-job-id", failed)
        assert "Canceled. Your credits" not in page
        assert re.search(r'aria-current="page" data-testid="filter-all"', page)

    async def test_an_empty_filter_says_so(
        self, admin: AdminForms, user: Account, pool: Pool
    ) -> None:
        await create_job(pool, owner_id=user.id, status="processing")

        page = (await admin.client.get("/admin/jobs", params={"status": "stuck"})).text

        assert "Nothing is stuck" in page
        assert 'data-testid="job-row"' not in page

    async def test_pages_follow_each_other_without_duplicates(
        self, admin: AdminForms, user: Account, other_user: Account, pool: Pool
    ) -> None:
        made = [
            await create_job(pool, owner_id=owner.id, status="failed", error="Boom")
            for owner in [user, other_user] * 21
        ]
        await create_job(pool, owner_id=user.id, status="succeeded")

        pages = await walk(admin.client, "/admin/jobs?status=failed", "job-row", "data-job-id")

        assert [len(page) for page in pages] == [20, 20, 2]
        assert [job_id for page in pages for job_id in page] == [str(j) for j in reversed(made)]

    async def test_narrows_to_one_user(
        self, admin: AdminForms, user: Account, other_user: Account, pool: Pool
    ) -> None:
        mine = await create_job(pool, owner_id=user.id, status="failed", error="Boom")
        await create_job(pool, owner_id=other_user.id, status="failed", error="Boom")

        page = (await admin.client.get("/admin/jobs", params={"user": str(user.id)})).text

        assert rows(page, "job-row", "data-job-id") == [str(mine)]
        assert f'Jobs of <a href="/admin/users/{user.id}">{user.email}</a>' in page
        assert f'href="/admin/jobs?status=failed&amp;user={user.id}"' in page

    @pytest.mark.parametrize(
        "params",
        [{"status": "lost"}, {"user": "nobody"}, {"after": "%%%"}],
    )
    async def test_bad_parameters_are_a_readable_400(
        self, admin: AdminForms, params: dict[str, str]
    ) -> None:
        response = await admin.client.get("/admin/jobs", params=params)

        assert response.status_code == 400
        assert "text/html" in response.headers["content-type"]

    async def test_an_unknown_user_is_a_404_page(self, admin: AdminForms) -> None:
        response = await admin.client.get("/admin/jobs", params={"user": ZERO})

        assert response.status_code == 404
