"""The application: API, pages, static files, and the resources they share."""

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from roomcraft.api import handlers, ops
from roomcraft.api.middleware import RequestContextMiddleware
from roomcraft.api.router import api_router
from roomcraft.auth.passwords import Passwords
from roomcraft.billing.routes import webhooks_router as billing_webhooks_router
from roomcraft.config import Settings
from roomcraft.db.pool import open_pool
from roomcraft.generations.routes import webhooks_router
from roomcraft.runtime import Runtime, open_runtime
from roomcraft.storage import routes as storage_routes
from roomcraft.web.routes import admin as admin_pages
from roomcraft.web.routes import app as app_pages
from roomcraft.web.routes import auth as auth_pages
from roomcraft.web.routes import community as community_pages
from roomcraft.web.routes import curation as curation_pages
from roomcraft.web.routes import generate as generate_pages
from roomcraft.web.routes import library as library_pages
from roomcraft.web.routes import public as public_pages
from roomcraft.web.templating import STATIC_DIR, Templates
from roomcraft.worker.run import run_worker


@asynccontextmanager
async def _background_worker(runtime: Runtime, *, enabled: bool) -> AsyncIterator[None]:
    """The queue's worker as a task of this process, stopped (gracefully) on the way out."""
    if not enabled:
        yield
        return
    task = asyncio.create_task(run_worker(runtime), name="roomcraft.worker")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _asset_version() -> str:
    """A digest of the static files, so browsers fetch them again only when they change."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()[:10]


def _attach(app: FastAPI, runtime: Runtime) -> None:
    app.state.runtime = runtime
    app.state.pool = runtime.pool
    app.state.storage = runtime.storage


def create_app(
    settings: Settings | None = None, *, runtime: Runtime | None = None, worker: bool = False
) -> FastAPI:
    """Build the app. Given a runtime (the tests), it uses it; otherwise it opens its own from
    `DATABASE_URL` at startup, and with `worker=True` also runs the queue's worker in-process."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:  # owned by the caller
            yield
            return
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set: start the app with `roomcraft serve`.")
        pool = await open_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        try:
            async with open_runtime(settings, pool) as opened:
                _attach(app, opened)
                async with _background_worker(opened, enabled=worker):
                    yield
        finally:
            await pool.close()

    app = FastAPI(
        title="Roomcraft API",
        version="1",
        summary="AI interior design: redesign, stage, compose and imagine rooms.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.passwords = Passwords.from_settings(settings)
    app.state.templates = Templates(settings, asset_version=_asset_version())
    if runtime is not None:
        _attach(app, runtime)

    handlers.install(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(ops.router)
    app.include_router(api_router)
    app.include_router(webhooks_router)
    app.include_router(billing_webhooks_router)
    app.include_router(storage_routes.router)
    app.include_router(public_pages.router)
    app.include_router(auth_pages.router)
    app.include_router(app_pages.router)
    app.include_router(generate_pages.router)
    app.include_router(library_pages.router)
    app.include_router(community_pages.router)
    app.include_router(curation_pages.router)
    app.include_router(admin_pages.router)
    if settings.google_enabled:
        # Authlib keeps the OAuth state in a signed cookie session for the round trip to Google.
        app.add_middleware(
            SessionMiddleware,
            secret_key=settings.signing_key.decode(),
            session_cookie="rc_oauth",
            same_site="lax",
            https_only=settings.secure_cookies,
            max_age=600,
        )
        # Imported only when configured: Authlib is a heavy import that most installs never use.
        from roomcraft.web.routes import google as google_pages

        app.include_router(google_pages.build_router(settings))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
