from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from tests.factories import DEFAULT_PASSWORD, Account

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]


class TestSignUp:
    async def test_creates_account_and_session(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/auth/signup",
            json={"email": " New.Person@Example.COM ", "password": "s3cret-pass"},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["success"] is True
        assert body["data"]["user"]["email"] == "new.person@example.com"
        assert body["data"]["csrfToken"]
        cookie = response.headers["set-cookie"]
        assert "rc_session=" in cookie
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        me = await client.get("/api/v1/me")
        assert me.json()["data"]["email"] == "new.person@example.com"
        assert me.json()["data"]["plan"] == "free"

    async def test_duplicate_email_is_conflict_whatever_its_case(
        self, client: httpx.AsyncClient, user: Account
    ) -> None:
        response = await client.post(
            "/api/v1/auth/signup", json={"email": user.email.upper(), "password": "another-pass"}
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "CONFLICT"
        assert user.email not in error["message"]
        assert "set-cookie" not in response.headers

    async def test_short_password_and_bad_email_are_flattened(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/auth/signup", json={"email": "not-an-email", "password": "short"}
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert set(error["details"]["fieldErrors"]) == {"email", "password"}

    async def test_malformed_json_is_a_validation_error(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/auth/signup",
            content=b'{"email": "a@example.com", ',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json() == {
            "success": False,
            "error": {"code": "VALIDATION_ERROR", "message": "The request body is not valid JSON."},
        }


class TestSignIn:
    async def test_right_password_signs_in(self, client: httpx.AsyncClient, user: Account) -> None:
        response = await client.post(
            "/api/v1/auth/signin", json={"email": user.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200
        assert response.json()["data"]["user"]["id"] == str(user.id)

    async def test_wrong_password_is_unauthorized(
        self, client: httpx.AsyncClient, user: Account
    ) -> None:
        response = await client.post(
            "/api/v1/auth/signin", json={"email": user.email, "password": "wrong password"}
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
        assert "set-cookie" not in response.headers

    async def test_unknown_email_reads_like_a_wrong_password(
        self, client: httpx.AsyncClient, user: Account
    ) -> None:
        wrong = await client.post(
            "/api/v1/auth/signin", json={"email": user.email, "password": "wrong password"}
        )
        unknown = await client.post(
            "/api/v1/auth/signin", json={"email": "nobody@example.com", "password": "whatever"}
        )
        assert unknown.status_code == wrong.status_code == 401
        assert unknown.json() == wrong.json()

    async def test_too_many_attempts_are_rate_limited(
        self, app: object, client: httpx.AsyncClient, user: Account, settings: Settings
    ) -> None:
        limit = settings.auth_rate_per_email.limit
        for _ in range(limit):
            response = await client.post(
                "/api/v1/auth/signin", json={"email": user.email, "password": "wrong password"}
            )
            assert response.status_code == 401
        response = await client.post(
            "/api/v1/auth/signin", json={"email": user.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "RATE_LIMITED"
        assert (
            1 <= int(response.headers["retry-after"]) <= settings.auth_rate_per_email.window_seconds
        )

    async def test_rate_limit_per_ip_spans_emails(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        per_ip = settings.auth_rate_per_ip.limit
        statuses = []
        for n in range(per_ip + 1):
            response = await client.post(
                "/api/v1/auth/magic-link", json={"email": f"someone{n}@example.com"}
            )
            statuses.append(response.status_code)
        assert statuses[:per_ip] == [200] * per_ip
        assert statuses[-1] == 429


class TestCsrf:
    async def test_cookie_post_without_csrf_token_is_forbidden(
        self, client_for: MakeClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        del signed_in.headers["X-CSRF-Token"]
        response = await signed_in.post("/api/v1/tokens", json={"name": "laptop"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"

    async def test_cookie_post_with_another_sessions_token_is_forbidden(
        self, client_for: MakeClient, user: Account, other_user: Account
    ) -> None:
        mine = await client_for(user)
        theirs = await client_for(other_user)
        mine.headers["X-CSRF-Token"] = theirs.headers["X-CSRF-Token"]
        response = await mine.post("/api/v1/tokens", json={"name": "laptop"})
        assert response.status_code == 403

    async def test_safe_requests_need_no_token(self, client_for: MakeClient, user: Account) -> None:
        signed_in = await client_for(user)
        del signed_in.headers["X-CSRF-Token"]
        assert (await signed_in.get("/api/v1/me")).status_code == 200


class TestSignOut:
    async def test_sign_out_ends_the_session(self, client_for: MakeClient, user: Account) -> None:
        signed_in = await client_for(user)
        cookie = signed_in.cookies["rc_session"]
        response = await signed_in.post("/api/v1/auth/signout")
        assert response.status_code == 200
        signed_in.cookies.set("rc_session", cookie)
        assert (await signed_in.get("/api/v1/me")).status_code == 401

    async def test_sign_out_everywhere_ends_every_session(
        self, client_for: MakeClient, user: Account
    ) -> None:
        laptop = await client_for(user)
        phone = await client_for(user)
        response = await laptop.post("/api/v1/auth/signout-all")
        assert response.json()["data"]["sessionsEnded"] == 2
        assert (await phone.get("/api/v1/me")).status_code == 401

    async def test_anonymous_sign_out_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await client.post("/api/v1/auth/signout")).status_code == 401


class TestApiTokens:
    async def test_token_is_shown_once_and_works_as_bearer(
        self, client_for: MakeClient, client: httpx.AsyncClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        created = (await signed_in.post("/api/v1/tokens", json={"name": "  CI  "})).json()["data"]
        assert created["name"] == "CI"
        assert created["token"].startswith("rc_" + created["prefix"])
        listed = (await signed_in.get("/api/v1/tokens")).json()["data"]["tokens"]
        assert [token["id"] for token in listed] == [created["id"]]
        assert "token" not in listed[0]
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"})
        assert me.status_code == 200
        assert me.json()["data"]["id"] == str(user.id)

    async def test_bearer_requests_need_no_csrf_token(
        self, client_for: MakeClient, client: httpx.AsyncClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        token = (await signed_in.post("/api/v1/tokens", json={"name": "CI"})).json()["data"]
        response = await client.post(
            "/api/v1/tokens",
            json={"name": "second"},
            headers={"Authorization": f"Bearer {token['token']}"},
        )
        assert response.status_code == 200

    async def test_revoked_token_is_unauthorized(
        self, client_for: MakeClient, client: httpx.AsyncClient, user: Account
    ) -> None:
        signed_in = await client_for(user)
        created = (await signed_in.post("/api/v1/tokens", json={"name": "CI"})).json()["data"]
        revoked = await signed_in.delete(f"/api/v1/tokens/{created['id']}")
        assert revoked.status_code == 200
        response = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"}
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
        assert (await signed_in.get("/api/v1/tokens")).json()["data"]["tokens"] == []

    async def test_another_users_token_is_not_found(
        self, client_for: MakeClient, user: Account, other_user: Account
    ) -> None:
        mine = await client_for(user)
        theirs = await client_for(other_user)
        created = (await theirs.post("/api/v1/tokens", json={"name": "CI"})).json()["data"]
        response = await mine.delete(f"/api/v1/tokens/{created['id']}")
        assert response.status_code == 404
        assert (await theirs.get("/api/v1/tokens")).json()["data"]["tokens"] != []

    @pytest.mark.parametrize("name", ["", "   ", "x" * 101])
    async def test_bad_names_are_rejected(
        self, client_for: MakeClient, user: Account, name: str
    ) -> None:
        signed_in = await client_for(user)
        response = await signed_in.post("/api/v1/tokens", json={"name": name})
        assert response.status_code == 400

    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/tokens")).status_code == 401
        assert (await client.post("/api/v1/tokens", json={"name": "x"})).status_code == 401

    async def test_unknown_bearer_token_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/me", headers={"Authorization": "Bearer rc_nope"})
        assert response.status_code == 401


class TestAccountPreHijacking:
    async def test_proving_the_email_ends_an_unconfirmed_strangers_access(
        self, client: httpx.AsyncClient, app: FastAPI, pool: Pool
    ) -> None:
        """Someone signs up with an address that is not theirs; its owner then signs in by
        magic link: the stranger's password and session stop working."""
        credentials = {"email": "victim@example.com", "password": "stolen-pass"}
        assert (await client.post("/api/v1/auth/signup", json=credentials)).status_code == 200
        assert (
            await client.post("/api/v1/auth/magic-link", json={"email": "victim@example.com"})
        ).status_code == 200
        async with as_service(pool) as conn:
            row = await (await conn.execute("select link from auth.email_outbox")).fetchone()
        assert row is not None
        link = urlsplit(row["link"])
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50999))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as owner:
            callback = await owner.get(f"{link.path}?{link.query}")
            assert callback.status_code == 303
            assert (await owner.get("/api/v1/me")).status_code == 200
        assert (await client.get("/api/v1/me")).status_code == 401
        assert (await client.post("/api/v1/auth/signin", json=credentials)).status_code == 401
