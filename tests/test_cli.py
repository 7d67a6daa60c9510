"""The `roomcraft` command, run for real against the test database."""

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from PIL import Image

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.demo.scenes import SCENES
from tests.factories import create_user
from tests.kit.photos import jpeg

ROOMCRAFT = Path(sys.executable).parent / "roomcraft"


def roomcraft(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command on the test database and the test storage."""
    assert settings.database_url is not None
    assert settings.secret_key is not None
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "ROOMCRAFT_ENV": "test",
        "ROOMCRAFT_DATA_DIR": str(settings.data_dir),
        "ROOMCRAFT_SECRET_KEY": settings.secret_key.get_secret_value(),
        "ROOMCRAFT_ARGON2_TIME_COST": "1",
        "ROOMCRAFT_ARGON2_MEMORY_KIB": "1024",
        "ROOMCRAFT_OUTPUT_HOSTS": json.dumps(["127.0.0.1"]),
    }
    return subprocess.run(
        [str(ROOMCRAFT), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def error_of(result: subprocess.CompletedProcess[str]) -> str:
    """The command's error: the last line on stderr (above it the platform may have warned,
    e.g. of a missing XDG_RUNTIME_DIR), and no traceback."""
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


def is_admin(database_url: str, email: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select is_admin from public.profiles where email = %s", (email,))
        result = row.fetchone()
        assert result is not None
        return bool(result[0])


def count(database_url: str, query: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


class TestMigrate:
    def test_nothing_pending_on_a_migrated_database(self, settings: Settings) -> None:
        result = roomcraft(settings, "migrate")
        assert result.returncode == 0, result.stderr
        assert "none pending" in result.stdout


class TestGrantAdmin:
    async def test_makes_the_account_an_administrator(
        self, database_url: str, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings, email="boss@example.com")
        result = roomcraft(settings, "admin", "grant-admin", "Boss@Example.com")
        assert result.returncode == 0, result.stderr
        assert is_admin(database_url, user.email)

    async def test_unknown_email_fails_clearly(self, settings: Settings, pool: Pool) -> None:
        result = roomcraft(settings, "admin", "grant-admin", "ghost@example.com")
        assert result.returncode == 1
        assert "No account with the email ghost@example.com" in result.stderr


def image_format(path: Path) -> str | None:
    with Image.open(path) as image:
        return image.format


class _ImageServer(BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = jpeg()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def image_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server of JPEGs: its base URL and the paths it was asked for."""
    requests: list[str] = []
    handler = type("Handler", (_ImageServer,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()
    thread.join()


def gallery_yaml(image_url: str, *, second_style: str = "japandi") -> str:
    return f"""
collections:
  - title: Calm rooms
    description: Soft light and pale wood.
    featured: true
    items:
      - title: Oak and linen
        imagePath: photos/room.jpg
        applySettings: {{mode: redesign, roomType: living_room, style: scandinavian}}
      - title: Fetched once
        externalImageUrl: {image_url}
        applySettings:
          mode: imagine
          style: {second_style}
          prompt: A quiet bedroom
  - title: Bold colour
"""


GALLERY_ROWS = """
select (select count(*) from public.community_collections)
     + (select count(*) from public.community_items)
"""


class TestImportCommunity:
    @pytest.fixture
    def gallery_dir(self, tmp_path: Path) -> Path:
        (tmp_path / "photos").mkdir()
        (tmp_path / "photos" / "room.jpg").write_bytes(jpeg())
        return tmp_path

    async def test_imports_local_and_fetched_images_once(
        self,
        settings: Settings,
        pool: Pool,
        gallery_dir: Path,
        image_server: tuple[str, list[str]],
    ) -> None:
        base_url, requests = image_server
        gallery = gallery_dir / "gallery.yaml"
        gallery.write_text(gallery_yaml(f"{base_url}/bedroom.jpg"))

        first = roomcraft(settings, "admin", "import-community", str(gallery))
        second = roomcraft(settings, "admin", "import-community", str(gallery))

        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == (
            "Imported 2 collections and 2 items (new: 2 collections, 2 items)."
        )
        assert second.returncode == 0, second.stderr
        assert "(new: 0 collections, 0 items)" in second.stdout
        assert requests == ["/bedroom.jpg"]
        with psycopg.connect(settings.database_url or "") as conn:
            items = conn.execute(
                "select i.title, i.image_path, i.thumb_path, c.is_featured"
                "  from public.community_items i"
                "  join public.community_collections c on c.id = i.collection_id"
                " order by i.order_index"
            ).fetchall()
        assert [(title, featured) for title, _, _, featured in items] == [
            ("Oak and linen", True),
            ("Fetched once", True),
        ]
        public = settings.data_dir / "storage" / "public"
        for _, image_path, thumb_path, _ in items:
            assert image_format(public / image_path) == "JPEG"
            assert image_format(public / thumb_path) == "WEBP"

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            pytest.param("collections: [\n  - title: x\n", "is not valid YAML", id="bad-yaml"),
            pytest.param("- just a list\n", "must hold a mapping", id="not-a-mapping"),
            pytest.param(
                "collections:\n  - title: x\n    items:\n      - applySettings: {mode: imagine}\n",
                "is not a valid gallery: collections.0.items.0: An item needs either"
                " externalImageUrl or imagePath.",
                id="item-without-image",
            ),
            pytest.param(
                "collections:\n  - title: x\n    items:\n"
                "      - imagePath: photos/missing.jpg\n        applySettings: {mode: imagine}\n",
                "No image file at",
                id="missing-image",
            ),
        ],
    )
    async def test_invalid_file_fails_in_one_line_before_writing(
        self, settings: Settings, pool: Pool, gallery_dir: Path, content: str, message: str
    ) -> None:
        gallery = gallery_dir / "gallery.yaml"
        gallery.write_text(content)

        result = roomcraft(settings, "admin", "import-community", str(gallery))

        assert message in error_of(result)
        assert count(settings.database_url or "", GALLERY_ROWS) == 0

    async def test_a_late_invalid_item_leaves_nothing_written(
        self,
        settings: Settings,
        pool: Pool,
        gallery_dir: Path,
        image_server: tuple[str, list[str]],
    ) -> None:
        base_url, _ = image_server
        gallery = gallery_dir / "gallery.yaml"
        gallery.write_text(gallery_yaml(f"{base_url}/b.jpg", second_style="neon"))

        result = roomcraft(settings, "admin", "import-community", str(gallery))

        assert error_of(result) == "Unknown style 'neon'."
        assert count(settings.database_url or "", GALLERY_ROWS) == 0

    async def test_missing_file_fails_clearly(
        self, settings: Settings, pool: Pool, tmp_path: Path
    ) -> None:
        result = roomcraft(settings, "admin", "import-community", str(tmp_path / "nope.yaml"))

        assert error_of(result) == (
            f"Cannot read {tmp_path / 'nope.yaml'}: No such file or directory."
        )


class TestDemo:
    async def test_makes_the_demo_account_and_its_renders_once(
        self, settings: Settings, pool: Pool
    ) -> None:
        first = roomcraft(settings, "demo")
        second = roomcraft(settings, "demo")

        assert first.returncode == 0, first.stderr
        assert second.returncode == 0, second.stderr
        assert "demo@example.com / roomcraft-demo" in first.stdout
        assert f"Demo renders: {len(SCENES)} ({len(SCENES)} new)." in first.stdout
        assert f"Demo renders: {len(SCENES)} (0 new)." in second.stdout
        url = settings.database_url or ""
        assert count(url, "select count(*) from auth.users where email = 'demo@example.com'") == 1
        assert count(url, "select count(*) from public.renders") == len(SCENES)
