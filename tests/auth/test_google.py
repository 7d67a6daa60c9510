"""Sign-in with "Continue with Google": the OpenID Connect round trip, against a loopback provider.

The test plays the browser: the app sends it to the provider's authorization endpoint, the
provider (told who is signing in) sends it back to the callback with a code, and the app redeems
the code over real HTTP on 127.0.0.1 and checks the ID token before signing anyone in.
"""

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from roomcraft.auth.errors import EmailNotVerified
from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.main import create_app
from roomcraft.runtime import Runtime
from tests.factories import create_user
from tests.fakes.oidc import AuthorizationRequest, FakeOIDCProvider, Identity

CLIENT_ID = "roomcraft-test.apps.googleusercontent.example"
CLIENT_SECRET = "fake-google-client-secret"
CALLBACK_URL = "http://testserver/auth/google/callback"
GENERIC_FAILURE = "Google sign-in failed."


@pytest.fixture
def google() -> Iterator[FakeOIDCProvider]:
    with FakeOIDCProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as provider:
        yield provider


@pytest.fixture
def google_settings(settings: Settings, google: FakeOIDCProvider) -> Settings:
    return settings.model_copy(
        update={
            "google_client_id": CLIENT_ID,
            "google_client_secret": SecretStr(CLIENT_SECRET),
            "google_metadata_url": google.metadata_url,
            "public_base_url": "http://testserver",
        }
    )


def _browser(settings: Settings, runtime: Runtime) -> httpx.AsyncClient:
    """A browser on a new app; it keeps cookies between requests and follows no redirect."""
    transport = httpx.ASGITransport(
        app=create_app(settings, runtime=runtime), client=("127.0.0.1", 50200)
    )
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def browser(google_settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on the app with Google sign-in configured."""
    async with _browser(google_settings, runtime) as client:
        yield client


async def _go_to_google(browser: httpx.AsyncClient, path: str = "/auth/google") -> str:
    """Start the flow; the URL of the provider's authorization endpoint the app redirects to."""
    response = await browser.get(path)
    assert response.status_code == 302, response.text
    assert "rc_oauth" in response.cookies
    return response.headers["location"]


async def _consent(authorize_url: str) -> str:
    """Visit the provider as the browser would; the callback URL it redirects back to."""
    async with httpx.AsyncClient(trust_env=False) as outside:
        response = await outside.get(authorize_url)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def _sign_in_with_google(
    browser: httpx.AsyncClient,
    google: FakeOIDCProvider,
    identity: Identity,
    *,
    path: str = "/auth/google",
    **tampering: Any,
) -> httpx.Response:
    """The whole round trip; the app's response to the callback."""
    authorize_url = await _go_to_google(browser, path)
    google.sign_in_as(identity, **tampering)
    callback_url = await _consent(authorize_url)
    assert callback_url.startswith(f"{CALLBACK_URL}?")
    return await browser.get(callback_url)


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _assert_refused(response: httpx.Response, message: str = GENERIC_FAILURE) -> None:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert urlsplit(location).path == "/signin"
    assert _query(location) == {"error": message}
    assert "rc_session" not in response.cookies


async def _users(pool: Pool) -> list[str]:
    async with as_service(pool) as conn:
        cur = await conn.execute("select email from auth.users order by email")
        return [row["email"] for row in await cur.fetchall()]


async def _sessions(pool: Pool) -> int:
    async with as_service(pool) as conn:
        cur = await conn.execute("select count(*) as n from auth.sessions")
        row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def _signed_in_email(browser: httpx.AsyncClient) -> str | None:
    response = await browser.get("/api/v1/me")
    if response.status_code == 401:
        return None
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["email"])


# Ways an ID token can be wrong (`sign_in_as` keywords): each must sign nobody in.
BAD_ID_TOKENS = [
    pytest.param({"id_token_claims": {"nonce": "not-the-nonce-we-sent"}}, id="wrong-nonce"),
    pytest.param({"id_token_claims": {"nonce": None}}, id="missing-nonce"),
    pytest.param(
        {"id_token_claims": {"aud": "another-client", "azp": "another-client"}},
        id="issued-to-another-client",
    ),
    pytest.param(
        {"id_token_claims": {"iss": "https://accounts.evil.example"}}, id="another-issuer"
    ),
    pytest.param({"id_token_claims": {"iat": 1_000_000_000, "exp": 1_000_003_600}}, id="expired"),
    pytest.param({"forge_signature": True}, id="forged-signature"),
]


class TestContinueWithGoogle:
    async def test_first_sign_in_creates_the_account_and_lands_on_the_dashboard(
        self, browser: httpx.AsyncClient, google: FakeOIDCProvider, pool: Pool
    ) -> None:
        authorize_url = await _go_to_google(browser)
        assert authorize_url.startswith(f"{google.issuer}/authorize?")
        request = AuthorizationRequest.from_url(authorize_url)
        assert request.client_id == CLIENT_ID
        assert request.redirect_uri == CALLBACK_URL
        assert request.response_type == "code"
        assert set(request.scope.split()) == {"openid", "email", "profile"}
        assert request.state
        assert request.nonce

        google.sign_in_as(Identity(email="ada@gmail.example", name="Ada Lovelace"))
        callback_url = await _consent(authorize_url)
        assert _query(callback_url)["state"] == request.state
        response = await browser.get(callback_url)

        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/dashboard"
        assert response.cookies["rc_session"]
        session_cookie = next(
            value
            for value in response.headers.get_list("set-cookie")
            if value.startswith("rc_session=")
        )
        assert "HttpOnly" in session_cookie
        assert "samesite=lax" in session_cookie.lower()
        assert await _signed_in_email(browser) == "ada@gmail.example"
        assert await _users(pool) == ["ada@gmail.example"]
        # The code went to the token endpoint once, with the client's secret and redirect URI.
        [token_request] = google.token_requests
        assert token_request.form["grant_type"] == "authorization_code"
        assert token_request.form["redirect_uri"] == CALLBACK_URL

    async def test_next_is_honoured(
        self, browser: httpx.AsyncClient, google: FakeOIDCProvider
    ) -> None:
        response = await _sign_in_with_google(
            browser,
            google,
            Identity(email="grace@gmail.example"),
            path="/auth/google?next=/settings",
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/settings"
        assert await _signed_in_email(browser) == "grace@gmail.example"

    async def test_next_to_another_site_falls_back_to_the_dashboard(
        self, browser: httpx.AsyncClient, google: FakeOIDCProvider
    ) -> None:
        response = await _sign_in_with_google(
            browser,
            google,
            Identity(email="grace@gmail.example"),
            path="/auth/google?next=//evil.example/phish",
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/dashboard"

    async def test_existing_password_account_is_signed_in_not_duplicated(
        self,
        browser: httpx.AsyncClient,
        google: FakeOIDCProvider,
        pool: Pool,
        google_settings: Settings,
    ) -> None:
        user = await create_user(pool, google_settings, email="linus@example.com")
        # Google reports the address in its own case; it is the same account.
        response = await _sign_in_with_google(browser, google, Identity(email="Linus@Example.COM"))
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/dashboard"
        me = await browser.get("/api/v1/me")
        assert me.json()["data"]["id"] == str(user.id)
        assert me.json()["data"]["email"] == "linus@example.com"
        assert await _users(pool) == ["linus@example.com"]

    async def test_unverified_email_is_refused(
        self, browser: httpx.AsyncClient, google: FakeOIDCProvider, pool: Pool
    ) -> None:
        response = await _sign_in_with_google(
            browser, google, Identity(email="mallory@gmail.example", email_verified=False)
        )
        _assert_refused(response, EmailNotVerified().message)
        assert await _signed_in_email(browser) is None
        assert await _users(pool) == []
        assert await _sessions(pool) == 0

    async def test_unverified_email_does_not_open_an_existing_account(
        self,
        browser: httpx.AsyncClient,
        google: FakeOIDCProvider,
        pool: Pool,
        google_settings: Settings,
    ) -> None:
        await create_user(pool, google_settings, email="victim@example.com")
        response = await _sign_in_with_google(
            browser, google, Identity(email="victim@example.com", email_verified=False)
        )
        _assert_refused(response, EmailNotVerified().message)
        assert await _sessions(pool) == 0

    async def test_forged_state_is_refused(
        self, browser: httpx.AsyncClient, google: FakeOIDCProvider, pool: Pool
    ) -> None:
        authorize_url = await _go_to_google(browser)
        google.sign_in_as(Identity(email="ada@gmail.example"))
        callback = _query(await _consent(authorize_url))
        response = await browser.get(
            "/auth/google/callback", params={"code": callback["code"], "state": "forged-state"}
        )
        _assert_refused(response)
        assert google.token_requests == []  # the code was never redeemed
        assert await _signed_in_email(browser) is None
        assert await _users(pool) == []

    async def test_callback_from_another_browser_is_refused(
        self,
        browser: httpx.AsyncClient,
        google: FakeOIDCProvider,
        google_settings: Settings,
        runtime: Runtime,
        pool: Pool,
    ) -> None:
        # Login CSRF: an attacker starts the flow for their own Google account and has the victim's
        # browser (which has no matching `rc_oauth` state) open the callback.
        authorize_url = await _go_to_google(browser)
        google.sign_in_as(Identity(email="attacker@gmail.example"))
        callback_url = await _consent(authorize_url)
        async with _browser(google_settings, runtime) as victim:
            response = await victim.get(callback_url)
            _assert_refused(response)
            assert await _signed_in_email(victim) is None
        assert google.token_requests == []
        assert await _users(pool) == []

    async def test_declined_consent_is_refused(
        self, browser: httpx.AsyncClient, google: FakeOIDCProvider, pool: Pool
    ) -> None:
        authorize_url = await _go_to_google(browser)
        # Nobody signs in at the provider: it redirects back with error=access_denied.
        callback_url = await _consent(authorize_url)
        assert _query(callback_url)["error"] == "access_denied"
        response = await browser.get(callback_url)
        _assert_refused(response)
        assert await _users(pool) == []

    @pytest.mark.parametrize("tampering", BAD_ID_TOKENS)
    async def test_bad_id_token_signs_nobody_in(
        self,
        browser: httpx.AsyncClient,
        google: FakeOIDCProvider,
        pool: Pool,
        tampering: dict[str, Any],
    ) -> None:
        response = await _sign_in_with_google(
            browser, google, Identity(email="ada@gmail.example"), **tampering
        )
        assert len(google.token_requests) == 1  # the code was redeemed; the ID token is what failed
        assert response.headers.get("location") != "/dashboard"
        assert "rc_session" not in response.cookies
        assert await _signed_in_email(browser) is None
        assert await _users(pool) == []
        assert await _sessions(pool) == 0

    @pytest.mark.parametrize("tampering", BAD_ID_TOKENS)
    async def test_bad_id_token_redirects_to_signin_with_an_error(
        self, browser: httpx.AsyncClient, google: FakeOIDCProvider, tampering: dict[str, Any]
    ) -> None:
        response = await _sign_in_with_google(
            browser, google, Identity(email="ada@gmail.example"), **tampering
        )
        assert response.status_code != 500, "unhandled error"
        _assert_refused(response)

    async def test_id_token_for_another_audience_signs_nobody_in(
        self, browser: httpx.AsyncClient, google: FakeOIDCProvider, pool: Pool
    ) -> None:
        response = await _sign_in_with_google(
            browser,
            google,
            Identity(email="ada@gmail.example"),
            id_token_claims={"aud": "another-client"},  # azp stays ours
        )
        assert "rc_session" not in response.cookies
        assert await _users(pool) == []

    @pytest.mark.parametrize(
        "update",
        [
            pytest.param({"google_client_id": None}, id="no-client-id"),
            pytest.param({"google_client_id": None, "google_client_secret": None}, id="neither"),
        ],
    )
    async def test_without_google_client_id_the_routes_are_not_found(
        self, google_settings: Settings, runtime: Runtime, update: dict[str, Any]
    ) -> None:
        settings = google_settings.model_copy(update=update)
        assert not settings.google_enabled
        async with _browser(settings, runtime) as browser:
            start = await browser.get("/auth/google")
            callback = await browser.get(
                "/auth/google/callback", params={"code": "c", "state": "s"}
            )
        assert start.status_code == 404
        assert callback.status_code == 404
        assert "rc_oauth" not in start.cookies
