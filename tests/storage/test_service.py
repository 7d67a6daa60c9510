import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import httpx
import pytest

from roomcraft.config import Settings, StorageSettings
from roomcraft.storage import signing
from roomcraft.storage.service import (
    FileNotFound,
    InvalidPath,
    LinkInvalid,
    Storage,
    check_path,
    input_path,
    render_image_path,
    render_thumb_path,
    storage_from_settings,
)
from tests.storage.conftest import S3Server

TRAVERSALS = [
    "../secret",
    "a/../../secret",
    "/etc/passwd",
    "a//b",
    "./a",
    "a/./b",
    "..\\..\\secret",
    "a\\b",
    ".hidden",
    "a/\x00b",
    "a/b\n",
    "",
    "x" * 600,
]


@pytest.fixture
def local(local_settings: Settings) -> Storage:
    return storage_from_settings(local_settings)


@pytest.fixture
def s3(s3_settings: Settings) -> Storage:
    return storage_from_settings(s3_settings)


def unique_prefix() -> str:
    return f"t{uuid4().hex}"


class TestPaths:
    def test_app_paths_are_valid(self) -> None:
        owner, render = uuid4(), uuid4()
        path = input_path(owner, "jpg")
        assert path.startswith(f"{owner}/inputs/")
        assert path.endswith(".jpg")
        assert render_image_path(render, 2) == f"renders/{render}/2.jpg"
        assert render_thumb_path(render, 2) == f"renders/{render}/2_thumb.webp"
        assert check_path(render_thumb_path(render, 0))

    @pytest.mark.parametrize("path", TRAVERSALS)
    def test_unsafe_paths_are_refused(self, path: str) -> None:
        with pytest.raises(InvalidPath):
            check_path(path)

    @pytest.mark.parametrize("path", TRAVERSALS)
    async def test_no_operation_accepts_an_unsafe_path(self, local: Storage, path: str) -> None:
        with pytest.raises(InvalidPath):
            await local.put("public", path, b"x", content_type="text/plain")
        with pytest.raises(InvalidPath):
            await local.get("public", path)
        with pytest.raises(InvalidPath):
            await local.delete("public", [path])
        with pytest.raises(InvalidPath):
            local.local_file("public", path)


class TestLocalStorage:
    async def test_round_trip(self, local: Storage, local_settings: Settings) -> None:
        await local.put("private", "u1/inputs/a.jpg", b"photo", content_type="image/jpeg")

        assert await local.get("private", "u1/inputs/a.jpg") == b"photo"
        assert await local.exists("private", "u1/inputs/a.jpg")
        on_disk = local_settings.data_dir / "storage" / "private" / "u1" / "inputs" / "a.jpg"
        assert on_disk.read_bytes() == b"photo"

    async def test_buckets_are_separate(self, local: Storage) -> None:
        await local.put("private", "renders/x/0.jpg", b"secret", content_type="image/jpeg")

        assert not await local.exists("public", "renders/x/0.jpg")
        with pytest.raises(FileNotFound):
            await local.get("public", "renders/x/0.jpg")

    async def test_put_replaces(self, local: Storage) -> None:
        await local.put("public", "renders/r/0.jpg", b"one", content_type="image/jpeg")
        await local.put("public", "renders/r/0.jpg", b"two", content_type="image/jpeg")

        assert await local.get("public", "renders/r/0.jpg") == b"two"

    async def test_missing_file_is_not_found(self, local: Storage) -> None:
        with pytest.raises(FileNotFound):
            await local.get("public", "renders/none/0.jpg")
        assert not await local.exists("public", "renders/none/0.jpg")

    async def test_delete_removes_and_tolerates_missing_files(self, local: Storage) -> None:
        await local.put("public", "renders/r/0.jpg", b"a", content_type="image/jpeg")

        await local.delete("public", ["renders/r/0.jpg", "renders/r/missing.jpg"])
        await local.delete("public", [])

        assert not await local.exists("public", "renders/r/0.jpg")

    async def test_list_paths_lists_a_folder_recursively(self, local: Storage) -> None:
        for path in ["renders/ab/0.jpg", "renders/ab/0_thumb.webp", "renders/abc/0.jpg"]:
            await local.put("public", path, b"x", content_type="image/jpeg")

        assert await local.list_paths("public", "renders/ab") == [
            "renders/ab/0.jpg",
            "renders/ab/0_thumb.webp",
        ]
        assert len(await local.list_paths("public")) == 3
        assert await local.list_paths("public", "renders/nothing") == []

    def test_public_url_is_root_relative_or_absolute(self, local: Storage) -> None:
        assert local.public_url("renders/r/0.jpg") == "/files/public/renders/r/0.jpg"
        assert (
            local.public_url("renders/r/0.jpg", absolute=True)
            == "https://roomcraft.example/files/public/renders/r/0.jpg"
        )

    async def test_signed_url_carries_expiry_and_signature(
        self, local: Storage, local_settings: Settings
    ) -> None:
        url = await local.signed_url("u1/inputs/a.jpg", expires_in=120)

        parts = urlsplit(url)
        assert parts.path == "/files/private/u1/inputs/a.jpg"
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        assert abs(int(query["expires"]) - (time.time() + 120)) < 5
        assert query["signature"] == signing.signature(
            local_settings.signing_key, path="u1/inputs/a.jpg", expires=int(query["expires"])
        )
        absolute = await local.signed_url("u1/inputs/a.jpg", absolute=True)
        assert absolute.startswith("https://roomcraft.example/files/private/u1/inputs/a.jpg?")

    async def test_signed_local_file_checks_the_link(
        self, local: Storage, local_settings: Settings
    ) -> None:
        await local.put("private", "u1/inputs/a.jpg", b"photo", content_type="image/jpeg")
        now = time.time()
        expires = int(now) + 60
        good = signing.signature(
            local_settings.signing_key, path="u1/inputs/a.jpg", expires=expires
        )

        file, seconds_left = local.signed_local_file(
            "u1/inputs/a.jpg", expires=str(expires), signature=good, now=now
        )
        assert file.read_bytes() == b"photo"
        assert 59 <= seconds_left <= 60
        with pytest.raises(LinkInvalid):
            local.signed_local_file(
                "u1/inputs/a.jpg", expires=str(expires), signature=good, now=expires + 1
            )
        with pytest.raises(LinkInvalid):
            local.signed_local_file(
                "u1/inputs/b.jpg", expires=str(expires), signature=good, now=now
            )

    def test_local_file_never_leaves_the_root_even_through_a_symlink(
        self, local: Storage, local_settings: Settings, tmp_path: Path
    ) -> None:
        outside = tmp_path / "outside.txt"
        outside.write_text("secret")
        link = local_settings.data_dir / "storage" / "public" / "link.jpg"
        link.symlink_to(outside)

        with pytest.raises(FileNotFound):
            local.local_file("public", "link.jpg")

    def test_directories_are_created(self, tmp_path: Path) -> None:
        settings = Settings(ROOMCRAFT_DATA_DIR=tmp_path / "fresh")
        storage_from_settings(settings)
        assert (tmp_path / "fresh" / "storage" / "public").is_dir()
        assert (tmp_path / "fresh" / "storage" / "private").is_dir()


class TestSigning:
    KEY = b"k"

    def test_valid_signature(self) -> None:
        sig = signing.signature(self.KEY, path="a/b.jpg", expires=2_000)
        assert signing.is_valid(
            self.KEY, path="a/b.jpg", expires="2000", signature_hex=sig, now=1_000
        )

    @pytest.mark.parametrize(
        ("path", "expires", "signature_hex", "now"),
        [
            pytest.param("a/b.jpg", "2000", "0" * 64, 1_000, id="forged"),
            pytest.param("a/c.jpg", "2000", None, 1_000, id="other-path"),
            pytest.param("a/b.jpg", "2001", None, 1_000, id="extended-expiry"),
            pytest.param("a/b.jpg", "2000", None, 2_001, id="expired"),
            pytest.param("a/b.jpg", "2e3", None, 1_000, id="not-an-integer"),
            pytest.param("a/b.jpg", "", None, 1_000, id="missing-expiry"),
            pytest.param("a/b.jpg", "2000", "", 1_000, id="missing-signature"),
            pytest.param("a/b.jpg", "2000", "é" * 64, 1_000, id="non-ascii"),
        ],
    )
    def test_invalid_links(
        self, path: str, expires: str, signature_hex: str | None, now: float
    ) -> None:
        genuine = signing.signature(self.KEY, path="a/b.jpg", expires=2_000)
        assert not signing.is_valid(
            self.KEY,
            path=path,
            expires=expires,
            signature_hex=genuine if signature_hex is None else signature_hex,
            now=now,
        )

    def test_another_key_does_not_verify(self) -> None:
        sig = signing.signature(b"other", path="a/b.jpg", expires=2_000)
        assert not signing.is_valid(
            self.KEY, path="a/b.jpg", expires="2000", signature_hex=sig, now=1_000
        )


class TestS3Storage:
    async def test_put_get_exists_list_delete(self, s3: Storage) -> None:
        prefix = unique_prefix()
        await s3.put("private", f"{prefix}/inputs/a.jpg", b"photo", content_type="image/jpeg")
        await s3.put("private", f"{prefix}/inputs/b.png", b"png", content_type="image/png")

        assert await s3.get("private", f"{prefix}/inputs/a.jpg") == b"photo"
        assert await s3.exists("private", f"{prefix}/inputs/b.png")
        assert not await s3.exists("public", f"{prefix}/inputs/b.png")
        assert await s3.list_paths("private", prefix) == [
            f"{prefix}/inputs/a.jpg",
            f"{prefix}/inputs/b.png",
        ]

        await s3.delete("private", [f"{prefix}/inputs/a.jpg", f"{prefix}/inputs/missing.jpg"])

        assert await s3.list_paths("private", prefix) == [f"{prefix}/inputs/b.png"]
        with pytest.raises(FileNotFound):
            await s3.get("private", f"{prefix}/inputs/a.jpg")

    async def test_presigned_url_fetches_the_object(self, s3: Storage, s3_server: S3Server) -> None:
        path = f"{unique_prefix()}/inputs/a.jpg"
        await s3.put("private", path, b"private photo", content_type="image/jpeg")

        url = await s3.signed_url(path, expires_in=60)

        assert url.startswith(f"{s3_server.endpoint}/{s3_server.private_bucket}/{path}?")
        assert "X-Amz-Signature=" in url
        assert "X-Amz-Expires=60" in url
        async with httpx.AsyncClient() as http:
            response = await http.get(url)
            unsigned = await http.get(url.partition("?")[0])
        assert response.status_code == 200
        assert response.content == b"private photo"
        assert response.headers["content-type"] == "image/jpeg"
        assert unsigned.status_code == 403

    async def test_public_object_is_served_at_its_public_url(
        self, s3: Storage, s3_server: S3Server
    ) -> None:
        path = f"renders/{uuid4()}/0.jpg"
        await s3.put("public", path, b"render", content_type="image/jpeg")

        url = s3.public_url(path)

        assert url == f"{s3_server.endpoint}/{s3_server.public_bucket}/{path}"
        async with httpx.AsyncClient() as http:
            response = await http.get(url)
        assert response.content == b"render"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"

    def test_public_base_url_wins(self, s3_settings: Settings) -> None:
        storage_settings = s3_settings.storage.model_copy(
            update={"public_base_url": "https://cdn.example/"}
        )
        storage = storage_from_settings(
            s3_settings.model_copy(update={"storage": storage_settings})
        )
        assert storage.public_url("renders/r/0.jpg") == "https://cdn.example/renders/r/0.jpg"

    def test_s3_has_no_local_files(self, s3: Storage) -> None:
        with pytest.raises(FileNotFound):
            s3.local_file("public", "renders/r/0.jpg")

    def test_plain_http_to_another_host_is_refused(self) -> None:
        storage = StorageSettings(backend="s3", s3_endpoint="http://s3.example.com")
        with pytest.raises(ValueError, match="https"):
            storage_from_settings(Settings(ROOMCRAFT_STORAGE=storage))
