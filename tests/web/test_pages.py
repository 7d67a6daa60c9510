"""The pages, through plain HTTP: forms work without JavaScript."""

import re
from collections.abc import Awaitable, Callable

import httpx
import pytest

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from tests.factories import DEFAULT_PASSWORD, Account, create_user

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]

PUBLIC_PAGES = ["/", "/pricing", "/privacy", "/terms", "/signin", "/signup", "/community"]
APP_PAGES = ["/dashboard", "/generate", "/renders", "/favorites", "/collections", "/settings"]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


class TestPublicPages:
    @pytest.mark.parametrize("path", PUBLIC_PAGES)
    async def test_renders_for_anyone(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]
        assert "Roomcraft" in response.text

    async def test_pricing_lists_the_configured_plans(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/pricing")
        for name in ("Free", "Starter", "Pro"):
            assert name in response.text

    async def test_unknown_page_is_a_readable_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/no/such/page")
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]
        assert "Page not found" in response.text


class TestAppPages:
    @pytest.mark.parametrize("path", APP_PAGES)
    async def test_anonymous_is_sent_to_sign_in(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/signin?next=%2F{path[1:]}"

    @pytest.mark.parametrize("path", APP_PAGES)
    async def test_renders_for_a_signed_in_user(
        self, client_for: MakeClient, user: Account, path: str
    ) -> None:
        signed_in = await client_for(user)
        response = await signed_in.get(path)
        assert response.status_code == 200
        assert user.email in response.text
        assert response.headers["cache-control"] == "private, no-store"

    async def test_admin_page_is_forbidden_to_others(
        self, client_for: MakeClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        response = await signed_in.get("/admin")
        assert response.status_code == 403
        assert 'href="/admin"' not in (await signed_in.get("/dashboard")).text

    async def test_admin_sees_the_admin_page(
        self, client_for: MakeClient, pool: Pool, settings: Settings
    ) -> None:
        admin = await create_user(pool, settings, is_admin=True)
        signed_in = await client_for(admin)
        assert (await signed_in.get("/admin")).status_code == 200
        assert 'href="/admin"' in (await signed_in.get("/dashboard")).text


class TestSignInForms:
    async def test_sign_up_form_signs_in_and_redirects(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/signup",
            data={"email": "Form@Example.com", "password": "long enough", "next": "/settings"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/settings"
        page = await client.get("/settings")
        assert "form@example.com" in page.text

    async def test_sign_in_form_with_a_wrong_password_shows_the_error(
        self, client: httpx.AsyncClient, user: Account
    ) -> None:
        response = await client.post("/signin", data={"email": user.email, "password": "nope"})
        assert response.status_code == 401
        assert "Email or password is incorrect." in response.text
        assert "rc_session" not in response.headers.get("set-cookie", "")

    async def test_next_never_leaves_the_site(
        self, client: httpx.AsyncClient, user: Account
    ) -> None:
        response = await client.post(
            "/signin",
            data={"email": user.email, "password": DEFAULT_PASSWORD, "next": "//evil.example"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard"

    async def test_magic_link_through_the_dev_outbox(self, client: httpx.AsyncClient) -> None:
        sent = await client.post("/magic-link", data={"email": "New@Example.com"})
        assert sent.status_code == 200
        assert "new@example.com" in sent.text
        outbox = await client.get("/dev/outbox")
        link = re.search(r'href="(http[^"]+/auth/callback\?[^"]+)"', outbox.text)
        assert link
        path = link.group(1).replace("&amp;", "&").split("://", 1)[1].split("/", 1)[1]
        signed_in = await client.get("/" + path)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/dashboard"
        assert "new@example.com" in (await client.get("/dashboard")).text
        client.cookies.clear()
        reused = await client.get("/" + path)
        assert reused.headers["location"].startswith("/signin?error=")

    async def test_magic_link_with_a_bad_token_goes_back_to_sign_in(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/auth/callback?token=forged")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?error=")

    async def test_sign_out_form_needs_the_csrf_field(
        self, client_for: MakeClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        del signed_in.headers["X-CSRF-Token"]
        forged = await signed_in.post("/signout", data={})
        assert forged.status_code == 403
        html = (await signed_in.get("/dashboard")).text
        response = await signed_in.post("/signout", data={"csrf_token": csrf_of(html)})
        assert response.status_code == 303
        assert (await signed_in.get("/dashboard")).status_code == 303


class TestSettingsTokens:
    async def test_create_shows_the_token_once_then_revoke(
        self, client_for: MakeClient, client: httpx.AsyncClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        del signed_in.headers["X-CSRF-Token"]
        csrf = csrf_of((await signed_in.get("/settings")).text)
        created = await signed_in.post(
            "/settings/tokens", data={"name": "Laptop", "csrf_token": csrf}
        )
        assert created.status_code == 200
        token = re.search(r"(rc_[A-Za-z0-9_-]{40,})", created.text)
        assert token
        assert (
            await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"})
        ).status_code == 200
        listing = (await signed_in.get("/settings")).text
        assert "Laptop" in listing
        assert token.group(1) not in listing
        token_id = re.search(r"/settings/tokens/([0-9a-f-]{36})/revoke", listing)
        assert token_id
        revoked = await signed_in.post(
            f"/settings/tokens/{token_id.group(1)}/revoke", data={"csrf_token": csrf}
        )
        assert revoked.status_code == 303
        assert (
            await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"})
        ).status_code == 401

    async def test_empty_name_is_rejected_with_a_message(
        self, client_for: MakeClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        csrf = csrf_of((await signed_in.get("/settings")).text)
        response = await signed_in.post("/settings/tokens", data={"name": "  ", "csrf_token": csrf})
        assert response.status_code == 400
        assert "1 to 100 characters" in response.text

    async def test_sign_out_everywhere(self, client_for: MakeClient, user: Account) -> None:
        laptop = await client_for(user)
        phone = await client_for(user)
        csrf = csrf_of((await laptop.get("/settings")).text)
        response = await laptop.post("/settings/signout-all", data={"csrf_token": csrf})
        assert response.status_code == 303
        assert (await phone.get("/dashboard")).status_code == 303
