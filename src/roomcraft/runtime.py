"""What a process needs to serve requests and run jobs, built once and handed down explicitly."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import procrastinate

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.generations.events import JobEvents
from roomcraft.generations.presets import Presets, load_presets
from roomcraft.generations.providers.registry import Providers, build_providers
from roomcraft.generations.scheduling import Scheduler
from roomcraft.storage.service import Storage, storage_from_settings
from roomcraft.worker.app import opened


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    pool: Pool
    storage: Storage
    presets: Presets
    providers: Providers
    http: httpx.AsyncClient
    scheduler: Scheduler
    events: JobEvents
    queue: procrastinate.App


@asynccontextmanager
async def open_runtime(settings: Settings, pool: Pool) -> AsyncIterator[Runtime]:
    """The runtime of one process, with the task queue open; all of it is closed on exit."""
    from roomcraft.generations.tasks import QueueScheduler

    timeout = httpx.Timeout(30.0, connect=10.0)
    assert settings.database_url is not None
    events = JobEvents(settings.database_url)
    presets = load_presets(settings.presets_file)
    async with (
        httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http,
        opened(settings.database_url) as queue,
    ):
        try:
            yield Runtime(
                settings=settings,
                pool=pool,
                storage=storage_from_settings(settings),
                presets=presets,
                providers=build_providers(settings, http, presets),
                http=http,
                scheduler=QueueScheduler(),
                events=events,
                queue=queue,
            )
        finally:
            await events.stop()
