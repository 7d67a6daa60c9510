"""The application: API, pages, static files, and the resources they share."""

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
from roomcraft.config import Settings
from roomcraft.db.pool import Pool, open_pool
from roomcraft.web.routes import app as app_pages
from roomcraft.web.routes import auth as auth_pages
from roomcraft.web.routes import public as public_pages
from roomcraft.web.templating import STATIC_DIR, Templates


def _asset_version() -> str:
    """A digest of the static files, so browsers fetch them again only when they change."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()[:10]


def create_app(settings: Settings | None = None, *, pool: Pool | None = None) -> FastAPI:
    """Build the app; it opens its own pool from `DATABASE_URL` unless one is given."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if pool is not None:  # owned by the caller (the tests)
            yield
            return
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set: start the app with `roomcraft serve`.")
        app.state.pool = await open_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        try:
            yield
        finally:
            await app.state.pool.close()

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
    if pool is not None:
        app.state.pool = pool

    handlers.install(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(ops.router)
    app.include_router(api_router)
    app.include_router(public_pages.router)
    app.include_router(auth_pages.router)
    app.include_router(app_pages.router)
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
