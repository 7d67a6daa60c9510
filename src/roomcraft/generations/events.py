"""Job status changes, fanned out to the SSE streams of this process.

One LISTEN connection per process receives every `generation_events` notification (sent by the
transaction that changed the job, so they arrive only once it committed) and hands them to the
streams watching that job. Other web processes have their own listener: scale-out needs nothing
more than Postgres.
"""

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from uuid import UUID

import psycopg
import structlog
from psycopg import sql

from roomcraft.generations.repository import EVENTS_CHANNEL

log = structlog.get_logger(__name__)
RECONNECT_SECONDS = 1.0


class JobEvents:
    def __init__(self, url: str) -> None:
        self._url = url
        self._watchers: dict[UUID, set[asyncio.Queue[str]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def _ensure_listening(self) -> None:
        """Start listening on first use (a worker-only process never opens the connection)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="generations.events")
        await asyncio.wait_for(self._listening.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True
                ) as conn:
                    await conn.execute(sql.SQL("listen {}").format(sql.Identifier(EVENTS_CHANNEL)))
                    self._listening.set()
                    async for notification in conn.notifies():
                        self._dispatch(notification.payload)
            except psycopg.Error:
                log.warning("generations.events_reconnect")
                await asyncio.sleep(RECONNECT_SECONDS)

    def _dispatch(self, payload: str) -> None:
        event = json.loads(payload)
        for watcher in self._watchers.get(UUID(event["jobId"]), ()):
            watcher.put_nowait(str(event["status"]))

    @contextlib.asynccontextmanager
    async def watch(self, job_id: UUID) -> AsyncIterator[asyncio.Queue[str]]:
        """The statuses the job goes through from now on, while the block runs."""
        await self._ensure_listening()
        watcher: asyncio.Queue[str] = asyncio.Queue()
        self._watchers[job_id].add(watcher)
        try:
            yield watcher
        finally:
            self._watchers[job_id].discard(watcher)
            if not self._watchers[job_id]:
                del self._watchers[job_id]
