"""The conventions every API route shares: the envelope, error codes, request ids, headers."""

import httpx
import pytest
from fastapi import FastAPI

from roomcraft.kit import errors


class TestEnvelope:
    async def test_unknown_api_route_is_not_found_in_the_envelope(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/no-such-thing")
        assert response.status_code == 404
        assert response.json()["success"] is False
        assert response.json()["error"]["code"] == "NOT_FOUND"

    async def test_wrong_method_is_method_not_allowed_in_the_envelope(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.put("/api/v1/me")
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
        assert "GET" in response.headers["allow"]

    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.json() == {
            "success": False,
            "error": {"code": "UNAUTHORIZED", "message": "Please sign in."},
        }

    async def test_unexpected_error_is_internal_without_details(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        async def explode() -> None:
            raise RuntimeError("select secret from table_name -- stack trace material")

        app.add_api_route("/api/v1/explode", explode)
        response = await client.get("/api/v1/explode")
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "INTERNAL_ERROR"
        assert "secret" not in response.text
        assert "Traceback" not in response.text

    @pytest.mark.parametrize(
        ("error", "status", "code"),
        [
            (errors.ValidationFailed, 400, "VALIDATION_ERROR"),
            (errors.Unauthorized, 401, "UNAUTHORIZED"),
            (errors.NoCredits, 402, "NO_CREDITS"),
            (errors.Forbidden, 403, "FORBIDDEN"),
            (errors.NotFound, 404, "NOT_FOUND"),
            (errors.MethodNotAllowed, 405, "METHOD_NOT_ALLOWED"),
            (errors.GenerationInFlight, 409, "GENERATION_IN_FLIGHT"),
            (errors.Conflict, 409, "CONFLICT"),
            (errors.PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"),
            (errors.UnsupportedMediaType, 415, "UNSUPPORTED_MEDIA_TYPE"),
            (errors.ProviderUnavailable, 503, "PROVIDER_UNAVAILABLE"),
            (errors.InternalError, 500, "INTERNAL_ERROR"),
        ],
    )
    async def test_every_error_maps_to_its_code_and_status(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        error: type[errors.AppError],
        status: int,
        code: str,
    ) -> None:
        async def fail() -> None:
            raise error

        app.add_api_route("/api/v1/fail", fail)
        response = await client.get("/api/v1/fail")
        assert response.status_code == status
        body = response.json()["error"]
        assert body["code"] == code
        assert body["message"] == (error.__doc__ or "").strip()

    async def test_rate_limited_carries_retry_after(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        async def fail() -> None:
            raise errors.RateLimited(retry_after=42)

        app.add_api_route("/api/v1/fail", fail)
        response = await client.get("/api/v1/fail")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "42"


class TestHeaders:
    async def test_every_response_has_a_request_id(self, client: httpx.AsyncClient) -> None:
        first = await client.get("/healthz")
        second = await client.get("/api/v1/nothing-here")
        assert first.headers["x-request-id"] != second.headers["x-request-id"]

    async def test_a_valid_incoming_request_id_is_kept(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "edge-1234"})
        assert response.headers["x-request-id"] == "edge-1234"

    async def test_a_hostile_incoming_request_id_is_replaced(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "a b\tc<script>"})
        assert response.headers["x-request-id"] != "a b\tc<script>"

    async def test_api_responses_are_not_cached(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/me")
        assert response.headers["cache-control"] == "no-store"
        response = await client.get("/api/v1/nothing-here")
        assert "no-store" in response.headers["cache-control"]

    async def test_security_headers(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


class TestOps:
    async def test_healthz(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.json() == {"status": "ok"}

    async def test_readyz_checks_the_database(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ready"}

    async def test_openapi_documents_the_api(self, client: httpx.AsyncClient) -> None:
        docs = await client.get("/api/docs")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        spec = (await client.get("/api/openapi.json")).json()
        assert "/api/v1/auth/signin" in spec["paths"]
        assert "/api/v1/tokens/{token_id}" in spec["paths"]
        assert "401" in spec["paths"]["/api/v1/me"]["get"]["responses"]
