"""The async connection pool shared by the web process and the worker."""

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]


async def open_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    """Open a pool of autocommit connections: every unit of work opens its own transaction."""
    pool: Pool = AsyncConnectionPool(
        url,
        connection_class=AsyncConnection[DictRow],
        kwargs={"autocommit": True, "row_factory": dict_row},
        min_size=min_size,
        max_size=max_size,
        open=False,
        name="roomcraft",
    )
    await pool.open(wait=True, timeout=30)
    return pool
