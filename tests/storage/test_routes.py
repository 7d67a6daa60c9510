import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from roomcraft.config import Settings
from roomcraft.storage import signing
from roomcraft.storage.service import Storage, storage_from_settings
from tests.kit import photos


@pytest.fixture
def storage(app: FastAPI) -> Storage:
    storage: Storage = app.state.storage
    return storage


@pytest.fixture
def secret_outside_the_root(settings: Settings) -> Path:
    """A file next to the storage root, which no URL may ever reach."""
    secret = settings.data_dir / "secret.txt"
    secret.write_text("TOP SECRET")
    (settings.data_dir / "storage" / "secret.txt").write_text("TOP SECRET")
    return secret


def signed_path(settings: Settings, path: str, *, expires: int) -> str:
    query = signing.signed_query(settings.signing_key, path=path, expires=expires)
    return f"/files/private/{path}?{query}"


class TestPublicFile:
    async def test_public_file_is_served_with_a_long_cache(
        self, client: httpx.AsyncClient, storage: Storage
    ) -> None:
        image = photos.jpeg()
        await storage.put("public", "renders/r1/0.jpg", image, content_type="image/jpeg")

        response = await client.get(storage.public_url("renders/r1/0.jpg"))

        assert response.status_code == 200
        assert response.content == image
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"

    async def test_thumbnail_is_webp(self, client: httpx.AsyncClient, storage: Storage) -> None:
        await storage.put("public", "renders/r1/0_thumb.webp", b"RIFF", content_type="image/webp")

        response = await client.get("/files/public/renders/r1/0_thumb.webp")

        assert response.headers["content-type"] == "image/webp"

    async def test_head_is_answered(self, client: httpx.AsyncClient, storage: Storage) -> None:
        await storage.put("public", "renders/r1/0.jpg", b"12345", content_type="image/jpeg")

        response = await client.head("/files/public/renders/r1/0.jpg")

        assert response.status_code == 200
        assert response.headers["content-length"] == "5"

    async def test_missing_file_is_a_404_page(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/files/public/renders/none/0.jpg")

        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")

    async def test_private_file_is_not_public(
        self, client: httpx.AsyncClient, storage: Storage
    ) -> None:
        await storage.put("private", "u1/inputs/a.jpg", b"private", content_type="image/jpeg")

        response = await client.get("/files/public/u1/inputs/a.jpg")

        assert response.status_code == 404

    @pytest.mark.usefixtures("secret_outside_the_root")
    @pytest.mark.parametrize(
        "url",
        [
            "/files/public/%2e%2e/secret.txt",
            "/files/public/%2e%2e/%2e%2e/secret.txt",
            "/files/public/..%2f..%2fsecret.txt",
            "/files/public/%2fetc%2fpasswd",
            "/files/public//etc/passwd",
            "/files/public/..%5c..%5csecret.txt",
            "/files/public/renders/%00/0.jpg",
            "/files/public/../secret.txt",
            "/files/public/",
        ],
    )
    async def test_traversal_never_leaves_the_root(
        self, client: httpx.AsyncClient, url: str
    ) -> None:
        response = await client.get(url)

        assert response.status_code in {400, 404}
        assert "TOP SECRET" not in response.text


class TestPrivateFile:
    async def test_signed_url_serves_the_file(
        self, client: httpx.AsyncClient, storage: Storage
    ) -> None:
        await storage.put("private", "u1/inputs/a.jpg", b"private photo", content_type="image/jpeg")

        response = await client.get(await storage.signed_url("u1/inputs/a.jpg", expires_in=300))

        assert response.status_code == 200
        assert response.content == b"private photo"
        assert response.headers["content-type"] == "image/jpeg"
        cache_control = response.headers["cache-control"]
        assert cache_control.startswith("private, max-age=")
        assert 290 <= int(cache_control.rpartition("=")[2]) <= 300

    async def test_unsigned_request_is_forbidden(
        self, client: httpx.AsyncClient, storage: Storage
    ) -> None:
        await storage.put("private", "u1/inputs/a.jpg", b"private", content_type="image/jpeg")

        response = await client.get("/files/private/u1/inputs/a.jpg")

        assert response.status_code == 403

    async def test_tampered_signature_is_forbidden(
        self, client: httpx.AsyncClient, storage: Storage
    ) -> None:
        await storage.put("private", "u1/inputs/a.jpg", b"private", content_type="image/jpeg")
        url = await storage.signed_url("u1/inputs/a.jpg")
        last = url[-1]
        tampered = url[:-1] + ("0" if last != "0" else "1")

        response = await client.get(tampered)

        assert response.status_code == 403
        assert response.content != b"private"

    async def test_signature_of_another_path_is_forbidden(
        self, client: httpx.AsyncClient, storage: Storage
    ) -> None:
        await storage.put("private", "u1/inputs/a.jpg", b"a", content_type="image/jpeg")
        await storage.put("private", "u2/inputs/b.jpg", b"b", content_type="image/jpeg")
        url = await storage.signed_url("u1/inputs/a.jpg")

        response = await client.get(url.replace("u1/inputs/a.jpg", "u2/inputs/b.jpg"))

        assert response.status_code == 403

    async def test_expired_link_is_forbidden(
        self, client: httpx.AsyncClient, storage: Storage, settings: Settings
    ) -> None:
        await storage.put("private", "u1/inputs/a.jpg", b"a", content_type="image/jpeg")
        url = signed_path(settings, "u1/inputs/a.jpg", expires=int(time.time()) - 1)

        response = await client.get(url)

        assert response.status_code == 403

    async def test_extending_the_expiry_breaks_the_signature(
        self, client: httpx.AsyncClient, storage: Storage
    ) -> None:
        await storage.put("private", "u1/inputs/a.jpg", b"a", content_type="image/jpeg")
        url = await storage.signed_url("u1/inputs/a.jpg", expires_in=60)
        expires = url.split("expires=")[1].split("&")[0]

        response = await client.get(url.replace(expires, str(int(expires) + 86_400)))

        assert response.status_code == 403

    async def test_signed_link_to_a_missing_file_is_not_found(
        self, client: httpx.AsyncClient, storage: Storage
    ) -> None:
        response = await client.get(await storage.signed_url("u1/inputs/gone.jpg"))

        assert response.status_code == 404

    @pytest.mark.usefixtures("secret_outside_the_root")
    @pytest.mark.parametrize("path", ["../secret.txt", "../../secret.txt", "/etc/passwd"])
    async def test_traversal_is_refused_even_when_signed(
        self, client: httpx.AsyncClient, settings: Settings, path: str
    ) -> None:
        # Even a link signed with our key cannot name a file outside the private bucket.
        url = signed_path(settings, path, expires=int(time.time()) + 60)
        encoded = url.replace("..", "%2e%2e").replace("/files/private//", "/files/private/%2f")

        response = await client.get(encoded)

        assert response.status_code in {400, 404}
        assert "TOP SECRET" not in response.text


class TestS3Mode:
    async def test_files_routes_are_not_served_in_s3_mode(
        self, app: FastAPI, client: httpx.AsyncClient, s3_settings: Settings
    ) -> None:
        app.state.storage = storage_from_settings(s3_settings)

        response = await client.get("/files/public/renders/r1/0.jpg")

        assert response.status_code == 404
