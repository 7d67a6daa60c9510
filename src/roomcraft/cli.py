"""`roomcraft`: serve, migrate, and administer."""

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

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

if TYPE_CHECKING:
    from roomcraft.community.service import ImportSummary
    from roomcraft.demo.seed import DemoSummary

app = typer.Typer(help="Roomcraft: AI interior design.", no_args_is_help=True)
admin_app = typer.Typer(help="Administration.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")

log = structlog.get_logger("roomcraft.cli")
T = TypeVar("T")


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
    demo: Annotated[
        bool, typer.Option(help="Create the demo account, renders and gallery first.")
    ] = False,
) -> None:
    """Run the web app (with the embedded PostgreSQL unless DATABASE_URL is set)."""
    from roomcraft.main import create_app

    settings = Settings()
    app_logging.configure(settings.log_level)
    with database(settings) as url:
        applied = apply_migrations(url)
        log.info("db.migrated", applied=applied)
        if demo:
            _run_with_pool(url, _seed_demo(settings, url))
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


@admin_app.command("credit")
def credit(
    email: str,
    amount: Annotated[int, typer.Argument(help="Generations to give; negative takes back.")],
    reason: Annotated[str, typer.Option(help="Why; the user reads it in their history.")],
) -> None:
    """Give the account with EMAIL AMOUNT generations this month.

    To take some back: `roomcraft admin credit --reason "…" EMAIL -- -5`.
    """
    from roomcraft.kit.time import utcnow
    from roomcraft.usage import service as usage_service

    settings = Settings()
    app_logging.configure("WARNING")

    async def work(pool: Pool) -> int:
        async with as_service(pool) as conn:
            usage = await usage_service.adjust_credits_by_email(
                conn,
                settings,
                email=email,
                amount=amount,
                reason=reason,
                adjusted_by="cli",
                now=utcnow(),
            )
        return usage.remaining

    with database(settings) as url:
        apply_migrations(url)
        try:
            remaining = _run_with_pool(url, work)
        except AppError as error:
            typer.echo(error.message, err=True)
            raise typer.Exit(1) from error
    typer.echo(f"Credited {amount} to {email}: {remaining} generations left this month.")


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _read_gallery(path: Path) -> tuple[dict[str, Any], int, int]:
    """The gallery document of a YAML file, checked before anything is written, with its
    numbers of collections and items; a readable one-line error otherwise."""
    import yaml
    from pydantic import ValidationError

    from roomcraft.community.import_document import GalleryDocument

    try:
        document = yaml.safe_load(path.read_bytes())
    except OSError as error:
        _fail(f"Cannot read {path}: {error.strerror or error}.")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or " ".join(str(error).split())
        _fail(f"{path} is not valid YAML: {problem}{where}.")
    if not isinstance(document, dict):
        _fail(f"{path} must hold a mapping with a `collections` list.")
    try:
        gallery = GalleryDocument.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            ".".join(str(part) for part in problem["loc"])
            + ": "
            + problem["msg"].removeprefix("Value error, ").rstrip(".")
            for problem in error.errors(include_url=False)
        )
        _fail(f"{path} is not a valid gallery: {problems}.")
    items = [item for collection in gallery.collections for item in collection.items]
    for item in items:
        if item.image_path is not None and not (path.parent / item.image_path).is_file():
            _fail(f"No image file at {path.parent / item.image_path}.")
    return document, len(gallery.collections), len(items)


@admin_app.command("import-community")
def import_community(
    file: Annotated[Path, typer.Argument(help="The gallery: a YAML file.", metavar="FILE")],
) -> None:
    """Load a community gallery from FILE; again, it updates what exists and adds what is new."""
    from roomcraft.community import service as community_service
    from roomcraft.runtime import open_runtime

    settings = Settings()
    app_logging.configure("WARNING")
    document, collections, items = _read_gallery(file)

    async def work(pool: Pool) -> "ImportSummary":
        runtime_settings = settings.model_copy(update={"database_url": url})
        async with open_runtime(runtime_settings, pool) as rt, as_service(pool) as conn:
            return await community_service.import_gallery(conn, rt, document, base_dir=file.parent)

    with database(settings) as url:
        apply_migrations(url)
        try:
            summary = _run_with_pool(url, work)
        except AppError as error:
            _fail(" ".join(error.message.split()))
    typer.echo(
        f"Imported {_plural(collections, 'collection')} and {_plural(items, 'item')} (new:"
        f" {_plural(summary.collections_created, 'collection')},"
        f" {_plural(summary.items_created, 'item')})."
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _seed_demo(settings: Settings, url: str) -> Callable[[Pool], Awaitable["DemoSummary"]]:
    from roomcraft.auth.passwords import Passwords
    from roomcraft.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, seed
    from roomcraft.runtime import open_runtime

    async def work(pool: Pool) -> "DemoSummary":
        async with open_runtime(settings.model_copy(update={"database_url": url}), pool) as rt:
            summary = await seed(rt, Passwords.from_settings(settings))
        log.info("demo.account", email=DEMO_EMAIL, password=DEMO_PASSWORD)
        return summary

    return work


@app.command()
def demo() -> None:
    """Create the demo account, its renders (local engine) and a community gallery; idempotent."""
    from roomcraft.demo.seed import DEMO_EMAIL, DEMO_PASSWORD

    settings = Settings()
    app_logging.configure("WARNING")
    with database(settings) as url:
        apply_migrations(url)
        summary = _run_with_pool(url, _seed_demo(settings, url))
    typer.echo(f"Demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}")
    typer.echo(f"Demo renders: {summary.renders} ({summary.new_renders} new).")
