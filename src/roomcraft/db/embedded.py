"""The embedded PostgreSQL server used when no `DATABASE_URL` is configured."""

import json
import os
from pathlib import Path

from pgserver.postgres_server import PostgresServer, get_server


def start(data_dir: Path) -> PostgresServer:
    """Start (or join) the embedded server whose files live in `data_dir/postgres`.

    The server is stopped when the last process using it exits.
    """
    pg_dir = (data_dir / "postgres").resolve()
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pg_dir)
    return get_server(pg_dir, cleanup_mode="stop")


def _forget_dead_handles(pg_dir: Path) -> None:
    """Drop processes that died without saying so (killed) from pgserver's list of users.

    pgserver stops the server when its last user exits; a user that was killed stays listed and
    would keep the server running forever.
    """
    handles = pg_dir / ".handle_pids.json"
    if not handles.exists():
        return
    pids = [pid for pid in json.loads(handles.read_text() or "[]") if _alive(pid)]
    handles.write_text(json.dumps(pids))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def database_url(server: PostgresServer, database: str = "postgres") -> str:
    """A libpq URL of `database` on the embedded server (a Unix socket in its data directory)."""
    url: str = server.get_uri(database)
    return url
