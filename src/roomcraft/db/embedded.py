"""The embedded PostgreSQL server used when no `DATABASE_URL` is configured."""

from pathlib import Path

from pgserver.postgres_server import PostgresServer, get_server


def start(data_dir: Path) -> PostgresServer:
    """Start (or join) the embedded server whose files live in `data_dir/postgres`.

    The server is stopped when the last process using it exits.
    """
    pg_dir = (data_dir / "postgres").resolve()
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    return get_server(pg_dir, cleanup_mode="stop")


def database_url(server: PostgresServer, database: str = "postgres") -> str:
    """A libpq URL of `database` on the embedded server (a Unix socket in its data directory)."""
    url: str = server.get_uri(database)
    return url
