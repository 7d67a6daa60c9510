"""The procrastinate app: one per process, opened on the runtime database.

Tasks are declared in each domain's `tasks.py` on this app. The web process defers jobs inside
its own transactions (`task.configure(connection=conn)`), so a job and its queue entry commit
together; `roomcraft serve` also runs a worker in-process, `roomcraft worker` runs one alone.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import procrastinate

queue = procrastinate.App(
    connector=procrastinate.PsycopgConnector(),
    import_paths=["roomcraft.generations.tasks", "roomcraft.storage.tasks"],
)


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[procrastinate.App]:
    """The app bound to this database, with its own small pool (the worker's LISTEN holds a
    connection of its own). One runtime at a time per process: the connector is the app's."""
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=4)
    with queue.replace_connector(connector) as app:
        async with app.open_async():
            yield app
