"""Generation fixtures: photos as a phone would send them, uploads, and running the worker."""

import io
from collections.abc import Awaitable, Callable

import httpx
import pytest
from PIL import Image, ImageDraw

from roomcraft.runtime import Runtime
from roomcraft.worker.run import run_worker


def room_photo(width: int = 1600, height: int = 1200, *, seed: int = 0) -> bytes:
    """A JPEG that looks enough like a room: wall, floor, a window and a sofa."""
    image = Image.new("RGB", (width, height), (200 - seed, 190, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(height * 0.65), width, height), fill=(140, 110, 80))
    draw.rectangle(
        (int(width * 0.1), int(height * 0.15), int(width * 0.35), int(height * 0.5)),
        fill=(220, 235, 250),
    )
    draw.rectangle(
        (int(width * 0.45), int(height * 0.55), int(width * 0.85), int(height * 0.75)),
        fill=(90, 100, 120),
    )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def armchair_photo() -> bytes:
    image = Image.new("RGB", (400, 400), (255, 255, 255))
    ImageDraw.Draw(image).ellipse((60, 60, 340, 340), fill=(200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


Upload = Callable[[httpx.AsyncClient, bytes], Awaitable[str]]


@pytest.fixture
def upload() -> Upload:
    """Upload an image through the API; returns the upload id."""

    async def send(client: httpx.AsyncClient, data: bytes) -> str:
        response = await client.post(
            "/api/v1/uploads", files={"file": ("photo.jpg", data, "image/jpeg")}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["id"])

    return send


@pytest.fixture
def drain(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    """Run the worker until no job is due (what `roomcraft serve` does in the background)."""

    async def run() -> None:
        await run_worker(runtime, wait=False, concurrency=2)

    return run
