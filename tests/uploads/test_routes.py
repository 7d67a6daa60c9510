import gc
import hashlib
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service, as_user
from roomcraft.storage.service import Storage
from roomcraft.uploads import service as uploads_service
from tests.factories import Account
from tests.kit import photos

URL = "/api/v1/uploads"
MB = 1024 * 1024
ClientFor = Callable[[Account], Awaitable[httpx.AsyncClient]]


@pytest.fixture
def storage(app: FastAPI) -> Storage:
    storage: Storage = app.state.storage
    return storage


@pytest.fixture
async def signed_in(client_for: ClientFor, user: Account) -> httpx.AsyncClient:
    return await client_for(user)


async def upload(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
) -> httpx.Response:
    return await client.post(URL, files={"file": (filename, data, content_type)})


async def stored_image(storage: Storage, path: str) -> tuple[bytes, Image.Image]:
    data = await storage.get("private", path)
    image = Image.open(io.BytesIO(data))
    image.load()
    return data, image


async def upload_rows(pool: Pool, owner_id: UUID) -> list[dict[str, object]]:
    async with as_service(pool) as conn:
        cur = await conn.execute("select * from public.uploads where owner_id = %s", (owner_id,))
        return list(await cur.fetchall())


class Counter:
    """A request body of `total` bytes that counts how much of it the app actually pulled."""

    def __init__(self, total: int, *, chunk: int = MB) -> None:
        self.total = total
        self.chunk = chunk
        self.sent = 0

    async def body(self) -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n\r\n'
        block = b"\xff" * self.chunk
        while self.sent < self.total:
            self.sent += len(block)
            yield block


class TestCreateUpload:
    async def test_phone_photo_is_stored_upright_without_metadata(
        self, signed_in: httpx.AsyncClient, storage: Storage, user: Account, pool: Pool
    ) -> None:
        response = await upload(signed_in, photos.phone_jpeg((400, 300), orientation=6))

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["success"] is True
        data = body["data"]
        assert set(data) == {"id", "path", "width", "height", "url"}
        assert (data["width"], data["height"]) == (300, 400)
        assert data["path"].startswith(f"{user.id}/inputs/")
        assert data["path"].endswith(".jpg")
        stored, image = await stored_image(storage, data["path"])
        assert image.format == "JPEG"
        assert image.size == (300, 400)
        assert not image.getexif()
        assert "exif" not in image.info
        assert b"PhoneMaker" not in stored
        rows = await upload_rows(pool, user.id)
        assert len(rows) == 1
        assert rows[0]["id"] == UUID(data["id"])
        assert rows[0]["owner_id"] == user.id
        assert rows[0]["storage_path"] == data["path"]
        assert rows[0]["content_type"] == "image/jpeg"
        assert rows[0]["bytes"] == len(stored)
        assert rows[0]["sha256"] == hashlib.sha256(stored).hexdigest()
        assert response.headers["cache-control"] == "private, no-store"

    async def test_url_previews_the_stored_image(
        self, signed_in: httpx.AsyncClient, client: httpx.AsyncClient, storage: Storage
    ) -> None:
        response = await upload(signed_in, photos.jpeg())
        data = response.json()["data"]

        preview = await client.get(data["url"])  # anyone holding the signed link, for a while

        assert preview.status_code == 200
        assert preview.content == await storage.get("private", data["path"])
        assert preview.headers["content-type"] == "image/jpeg"

    async def test_heic_is_stored_as_jpeg(
        self, signed_in: httpx.AsyncClient, storage: Storage
    ) -> None:
        response = await upload(
            signed_in, photos.heic((320, 240)), filename="IMG_0001.HEIC", content_type="image/heic"
        )

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["path"].endswith(".jpg")
        _, image = await stored_image(storage, data["path"])
        assert image.format == "JPEG"
        assert image.size == (320, 240)

    async def test_png_with_alpha_stays_png(
        self, signed_in: httpx.AsyncClient, storage: Storage, user: Account, pool: Pool
    ) -> None:
        response = await upload(
            signed_in, photos.png(alpha=True), filename="cutout.png", content_type="image/png"
        )

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["path"].endswith(".png")
        _, image = await stored_image(storage, data["path"])
        assert (image.format, image.mode) == ("PNG", "RGBA")
        assert (await upload_rows(pool, user.id))[0]["content_type"] == "image/png"

    async def test_content_decides_not_the_name_or_the_header(
        self, signed_in: httpx.AsyncClient, storage: Storage
    ) -> None:
        response = await upload(
            signed_in, photos.png(alpha=True), filename="photo.jpg", content_type="image/jpeg"
        )

        assert response.status_code == 200, response.text
        _, image = await stored_image(storage, response.json()["data"]["path"])
        assert image.format == "PNG"

    async def test_long_side_is_capped(
        self, signed_in: httpx.AsyncClient, storage: Storage
    ) -> None:
        response = await upload(signed_in, photos.jpeg((4000, 3000)))

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["width"], data["height"]) == (2048, 1536)
        _, image = await stored_image(storage, data["path"])
        assert image.size == (2048, 1536)

    @pytest.mark.parametrize(
        ("data", "filename", "content_type"),
        [
            pytest.param(photos.SVG, "room.svg", "image/svg+xml", id="svg"),
            pytest.param(photos.gif(), "room.gif", "image/gif", id="gif"),
            pytest.param(photos.SVG, "room.jpg", "image/jpeg", id="svg-named-jpg"),
            pytest.param(b"%PDF-1.7\n", "room.pdf", "application/pdf", id="pdf"),
        ],
    )
    async def test_other_formats_are_unsupported(
        self,
        signed_in: httpx.AsyncClient,
        user: Account,
        pool: Pool,
        storage: Storage,
        data: bytes,
        filename: str,
        content_type: str,
    ) -> None:
        response = await upload(signed_in, data, filename=filename, content_type=content_type)

        assert response.status_code == 415
        assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert await upload_rows(pool, user.id) == []
        assert await storage.list_paths("private", str(user.id)) == []

    async def test_truncated_jpeg_is_a_validation_error(
        self, signed_in: httpx.AsyncClient, user: Account, pool: Pool
    ) -> None:
        response = await upload(signed_in, photos.truncated_jpeg())

        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": "VALIDATION_ERROR",
            "message": "The image is damaged or incomplete.",
        }
        assert await upload_rows(pool, user.id) == []

    async def test_decompression_bomb_is_refused_without_decoding(
        self, signed_in: httpx.AsyncClient, user: Account, pool: Pool
    ) -> None:
        bomb = photos.png_bomb(30_000, 30_000)  # 900 megapixels in a few kilobytes
        started = time.perf_counter()

        response = await upload(signed_in, bomb, filename="room.png", content_type="image/png")

        assert time.perf_counter() - started < 2
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert "megapixels" in error["message"]
        assert await upload_rows(pool, user.id) == []
        # The process is fine: the next upload works.
        assert (await upload(signed_in, photos.jpeg())).status_code == 200

    async def test_declared_oversized_body_is_refused_before_reading(
        self, signed_in: httpx.AsyncClient
    ) -> None:
        body = Counter(100 * MB)
        started = time.perf_counter()

        response = await signed_in.post(
            URL,
            content=body.body(),
            headers={
                "Content-Type": "multipart/form-data; boundary=b",
                "Content-Length": str(100 * MB),
            },
        )

        assert response.status_code == 413
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert body.sent <= MB  # nothing beyond what the transport had in hand
        assert time.perf_counter() - started < 2

    async def test_undeclared_oversized_body_is_cut_off_at_the_cap(
        self, signed_in: httpx.AsyncClient, settings: Settings
    ) -> None:
        body = Counter(100 * MB)

        response = await signed_in.post(
            URL,
            content=body.body(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )

        assert response.status_code == 413
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert body.sent <= settings.upload_max_bytes + 2 * MB

    async def test_file_over_the_cap_is_too_large(
        self, signed_in: httpx.AsyncClient, settings: Settings
    ) -> None:
        response = await upload(signed_in, b"\xff" * (settings.upload_max_bytes + 1))

        assert response.status_code == 413
        assert "15 MB" in response.json()["error"]["message"]

    async def test_no_database_connection_is_held_while_the_body_arrives(
        self, signed_in: httpx.AsyncClient, pool: Pool
    ) -> None:
        in_use: list[int] = []
        photo = photos.jpeg()

        async def slow_body() -> AsyncIterator[bytes]:
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
            for start in range(0, len(photo), 1024):
                stats = pool.get_stats()
                in_use.append(stats["pool_size"] - stats["pool_available"])
                yield photo[start : start + 1024]
            yield b"\r\n--b--\r\n"

        response = await signed_in.post(
            URL, content=slow_body(), headers={"Content-Type": "multipart/form-data; boundary=b"}
        )

        assert response.status_code == 200, response.text
        assert in_use
        assert set(in_use) == {0}

    async def test_missing_file_field_is_a_validation_error(
        self, signed_in: httpx.AsyncClient
    ) -> None:
        response = await signed_in.post(URL, files={"photo": ("a.jpg", photos.jpeg())})

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert "`file`" in response.json()["error"]["message"]

    async def test_json_body_is_a_validation_error(self, signed_in: httpx.AsyncClient) -> None:
        response = await signed_in.post(URL, json={"file": "aGVsbG8="})

        assert response.status_code == 400
        assert "multipart/form-data" in response.json()["error"]["message"]

    async def test_broken_multipart_is_a_validation_error(
        self, signed_in: httpx.AsyncClient
    ) -> None:
        response = await signed_in.post(
            URL,
            content=b"--b\r\nContent-Disposition: form-data; name=file\r\n\r\nabc",
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )

        assert response.status_code == 400
        assert response.json()["error"]["message"] == "The upload is incomplete."

    async def test_anonymous_is_unauthorized_and_the_body_is_not_read(
        self, client: httpx.AsyncClient
    ) -> None:
        body = Counter(100 * MB)

        response = await client.post(
            URL, content=body.body(), headers={"Content-Type": "multipart/form-data; boundary=b"}
        )

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
        assert body.sent <= MB

    async def test_a_multipart_csrf_field_is_not_enough(self, signed_in: httpx.AsyncClient) -> None:
        # Multipart bodies are never parsed for the CSRF check (that would spool the file before
        # the size cap): uploads carry the X-CSRF-Token header, as the generate page does.
        csrf = signed_in.headers.pop("X-CSRF-Token")

        response = await signed_in.post(
            URL, data={"csrf_token": csrf}, files={"file": ("a.jpg", photos.jpeg())}
        )

        assert response.status_code == 403

    async def test_cookie_post_without_csrf_is_forbidden(
        self, signed_in: httpx.AsyncClient, user: Account, pool: Pool
    ) -> None:
        signed_in.headers.pop("X-CSRF-Token")

        response = await upload(signed_in, photos.jpeg())

        assert response.status_code == 403
        assert await upload_rows(pool, user.id) == []
        gc.collect()


class TestOwnership:
    async def test_another_user_cannot_see_the_upload(
        self, signed_in: httpx.AsyncClient, pool: Pool, user: Account, other_user: Account
    ) -> None:
        response = await upload(signed_in, photos.jpeg())
        upload_id = UUID(response.json()["data"]["id"])

        async with as_user(pool, other_user.id) as conn:
            with pytest.raises(uploads_service.UploadNotFound):
                await uploads_service.get_owned_upload(conn, upload_id=upload_id)
        async with as_user(pool, user.id) as conn:
            owned = await uploads_service.get_owned_upload(conn, upload_id=upload_id)
        assert owned.owner_id == user.id
