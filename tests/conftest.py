"""The test harness: one migrated embedded PostgreSQL per test session, a clean database for every
test, the app wired to it, and clients signed in as a given user."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from roomcraft.config import Environment, Settings
from roomcraft.db import embedded
from roomcraft.db.migrate import apply_migrations
from roomcraft.db.pool import Pool, open_pool
from roomcraft.main import create_app
from roomcraft.runtime import Runtime, open_runtime
from tests.factories import Account, create_user, sign_in

pytest_plugins = ["tests.browser"]

# Tables the migrations own and every test starts without rows in.
_TRUNCATE = """
select string_agg(format('%I.%I', schemaname, tablename), ', ')
  from pg_tables
 where schemaname in ('public', 'auth') and tablename not like '%yoyo%'
   and tablename <> 'procrastinate_workers'  -- live workers stay registered
"""


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = embedded.start(tmp_path_factory.mktemp("roomcraft"))
    url = embedded.database_url(server)
    apply_migrations(url)
    yield url
    server.cleanup()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        ROOMCRAFT_ENV=Environment.test,
        ROOMCRAFT_DATA_DIR=tmp_path_factory.mktemp("data"),
        DATABASE_URL=database_url,
        ROOMCRAFT_SECRET_KEY=SecretStr("test-signing-key"),
        ROOMCRAFT_ARGON2_TIME_COST=1,
        ROOMCRAFT_ARGON2_MEMORY_KIB=1024,
    )


@pytest.fixture(scope="session")
async def session_pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await open_pool(database_url, min_size=2, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
async def pool(session_pool: Pool) -> AsyncIterator[Pool]:
    """The pool, with every table emptied after the test."""
    yield session_pool
    async with session_pool.connection() as conn:
        cur = await conn.execute(_TRUNCATE)
        row = await cur.fetchone()
        assert row is not None
        await conn.execute(f"truncate {row['string_agg']} cascade")


@pytest.fixture
async def runtime(settings: Settings, pool: Pool) -> AsyncIterator[Runtime]:
    """What the app and the worker share: storage, providers, presets, the queue."""
    async with open_runtime(settings, pool) as opened:
        yield opened


@pytest.fixture
def app(settings: Settings, runtime: Runtime) -> FastAPI:
    return create_app(settings, runtime=runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client of the app."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        yield anonymous


@pytest.fixture
async def user(pool: Pool, settings: Settings) -> Account:
    return await create_user(pool, settings)


@pytest.fixture
async def other_user(pool: Pool, settings: Settings) -> Account:
    return await create_user(pool, settings)


@pytest.fixture
async def client_for(
    app: FastAPI,
) -> AsyncIterator[Callable[[Account], Awaitable[httpx.AsyncClient]]]:
    """Make clients signed in (session cookie and CSRF header) as given users."""
    clients: list[httpx.AsyncClient] = []

    async def make(user: Account) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000 + len(clients) + 1))
        signed_in = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        clients.append(signed_in)
        await sign_in(signed_in, user)
        return signed_in

    yield make
    for signed_in in clients:
        await signed_in.aclose()


@pytest.fixture
def output_dir() -> Path:
    """Where tests keep what a person may want to look at (screenshots)."""
    path = Path(__file__).resolve().parent.parent / "test-output"
    path.mkdir(exist_ok=True)
    return path
