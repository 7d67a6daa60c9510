"""`roomcraft`: serve, migrate, and administer."""

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import structlog
import typer
import uvicorn

from roomcraft import logging as app_logging
from roomcraft.config import Settings
from roomcraft.db import embedded
from roomcraft.db.migrate import apply_migrations
from roomcraft.db.pool import Pool, open_pool
from roomcraft.db.session import as_service
from roomcraft.kit.errors import AppError

app = typer.Typer(help="Roomcraft: AI interior design.", no_args_is_help=True)
admin_app = typer.Typer(help="Administration.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")

log = structlog.get_logger("roomcraft.cli")
T = TypeVar("T")

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "roomcraft-demo"  # noqa: S105 (the published demo account of a local install)


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The database URL: `DATABASE_URL`, or the embedded server, started for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    server = embedded.start(settings.data_dir)
    log.info("db.embedded_started", data_dir=str(settings.data_dir))
    try:
        yield embedded.database_url(server)
    finally:
        server.cleanup()


def _run_with_pool(url: str, work: Callable[[Pool], Awaitable[T]]) -> T:
    async def main() -> T:
        pool = await open_pool(url, min_size=1, max_size=4)
        try:
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(main())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Create the demo account first.")] = False,
) -> None:
    """Run the web app (with the embedded PostgreSQL unless DATABASE_URL is set)."""
    from roomcraft.main import create_app

    settings = Settings()
    app_logging.configure(settings.log_level)
    with database(settings) as url:
        applied = apply_migrations(url)
        log.info("db.migrated", applied=applied)
        if demo:
            _run_with_pool(url, _ensure_demo_account(settings))
            log.info("demo.account", email=DEMO_EMAIL, password=DEMO_PASSWORD)
        web = create_app(settings.model_copy(update={"database_url": url}), worker=True)
        log.info("app.listening", url=f"http://{host}:{port}")
        # uvicorn re-raises SIGTERM once it has shut down; exit normally instead, so the
        # embedded server is stopped on the way out.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        uvicorn.run(web, host=host, port=port, log_config=None, proxy_headers=True)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs run at once.")] = 4,
) -> None:
    """Run the task queue's worker alone (more of them scale generation out)."""
    from roomcraft.runtime import open_runtime
    from roomcraft.worker.run import run_worker

    settings = Settings()
    app_logging.configure(settings.log_level)

    async def work(pool: Pool) -> None:
        async with open_runtime(settings.model_copy(update={"database_url": url}), pool) as rt:
            await run_worker(rt, concurrency=concurrency, signals=True)

    with database(settings) as url:
        apply_migrations(url)
        log.info("worker.started", concurrency=concurrency)
        _run_with_pool(url, work)


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""
    settings = Settings()
    app_logging.configure(settings.log_level)
    with database(settings) as url:
        applied = apply_migrations(url)
    typer.echo(f"Applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}.")


@admin_app.command("grant-admin")
def grant_admin(email: str) -> None:
    """Make the account with EMAIL an administrator."""
    from roomcraft.users import service as users_service

    settings = Settings()
    app_logging.configure("WARNING")

    async def work(pool: Pool) -> None:
        async with as_service(pool) as conn:
            await users_service.grant_admin(conn, email=email.strip().lower())

    with database(settings) as url:
        apply_migrations(url)
        try:
            _run_with_pool(url, work)
        except AppError as error:
            typer.echo(error.message, err=True)
            raise typer.Exit(1) from error
    typer.echo(f"{email} is now an administrator.")


def _ensure_demo_account(settings: Settings) -> Callable[[Pool], Awaitable[None]]:
    from roomcraft.auth import service as auth_service
    from roomcraft.auth.passwords import Passwords

    passwords = Passwords.from_settings(settings)

    async def work(pool: Pool) -> None:
        async with as_service(pool) as conn:
            await auth_service.ensure_password_account(
                conn, passwords, email=DEMO_EMAIL, password=DEMO_PASSWORD
            )

    return work


@app.command()
def demo() -> None:
    """Create the demo account (idempotent) so a fresh install has someone to sign in as."""
    settings = Settings()
    app_logging.configure("WARNING")
    with database(settings) as url:
        apply_migrations(url)
        _run_with_pool(url, _ensure_demo_account(settings))
    typer.echo(f"Demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}")
