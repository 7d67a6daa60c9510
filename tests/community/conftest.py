"""Community tests: a runtime allowed to fetch from a loopback image server."""

import dataclasses
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from roomcraft.runtime import Runtime


def jpeg_bytes(size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/room.jpg":
            self.send_error(404)
            return
        body = jpeg_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="session")
def image_server() -> Iterator[str]:
    """The base URL of a loopback HTTP server that serves a JPEG at `/room.jpg`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
async def runtime(runtime: Runtime) -> Runtime:
    """The shared runtime, on a copy of the settings that allows fetching from 127.0.0.1."""
    settings = runtime.settings.model_copy(update={"output_hosts": ["127.0.0.1"]})
    return dataclasses.replace(runtime, settings=settings)
