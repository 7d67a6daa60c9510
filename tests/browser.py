"""Browser fixtures: the app served by uvicorn on 127.0.0.1 in a thread, and Debian's Chromium
driven by Playwright. Screenshots go to `test-output/screenshots/`."""

import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from roomcraft.config import Settings
from roomcraft.main import create_app

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium keeps trying to reach Google's services from a machine with no internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def live_server(settings: Settings) -> Iterator[str]:
    """The base URL of the app served for real, on the test database, with its worker.

    One module at a time: its worker takes every due job of the database, and a process runs
    one worker at a time (the queue's connector is the process's), so it must not outlive the
    browser tests into tests that run a worker of their own."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(settings.model_copy(update={"public_base_url": base_url}), worker=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield base_url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Chromium is missing: the README's test command installs Debian's chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser, live_server: str, pool: object) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies, light colour scheme) on the live server.

    It depends on `pool` so that the database is emptied after the test like any other.
    """
    context = await browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 860}, color_scheme="light"
    )
    context.set_default_timeout(10_000)
    tab = await context.new_page()
    yield tab
    await context.close()


@pytest.fixture
def screenshot(output_dir: Path, page: Page) -> Callable[[str], Awaitable[Path]]:
    """Keep a full-page screenshot under test-output/screenshots/NAME.png."""
    folder = output_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    async def take(name: str) -> Path:
        path = folder / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    return take
