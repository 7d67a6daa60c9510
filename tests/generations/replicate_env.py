"""The Replicate side of the lifecycle tests: a runtime on the loopback fake, and what drives it.

Webhooks never travel over the network to the app: the fake holds them (`hold_webhooks`) and a
test replays each one through the ASGI client (`deliver`), signed the way the fake signs its own
deliveries, which is also how a test forges, repeats or reorders them.

Time is moved, never waited for. Deferred tasks (a poll's backoff, a start task's retry wait) are
made due at once by `fast_forward`, which sets `procrastinate_jobs.scheduled_at` to now() as the
service role: the production delays and retry strategy stay as they are (a test can still see
that a retry was scheduled in the future), only the clock jumps. A job is made stuck by moving its
`created_at` back past the stuck timeout (`age_job`), so no test depends on a short timeout that
the worker's periodic sweep could act on at any moment.
"""

import dataclasses
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from PIL import Image, ImageChops, ImageStat
from pydantic import SecretStr

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.generations.providers.registry import Providers
from roomcraft.generations.providers.replicate import ReplicateProvider
from roomcraft.runtime import Runtime
from roomcraft.worker.run import QUEUES, run_worker
from tests.fakes.replicate import FakeReplicate, WebhookDelivery

WEBHOOK_PATH = "/webhooks/replicate"
PUBLIC_BASE_URL = "http://testserver"
OPENAI_KEY = "sk-test-openai"
NANO_PATH = "/v1/models/google/nano-banana/predictions"
GPT_PATH = "/v1/models/openai/gpt-image-1/predictions"
TERMINAL_JOB = ("succeeded", "failed", "canceled")
ROOMCRAFT = Path(sys.executable).parent / "roomcraft"


# The runtime


def replicate_settings(
    base: Settings, fake: FakeReplicate, *, webhooks: bool, **changes: Any
) -> Settings:
    """`base` on the fake. With `webhooks`, `public_base_url` is set (so `receives_webhooks`);
    without, it is left out of the update and jobs are followed by polling."""
    update: dict[str, Any] = {
        "provider": "replicate",
        "replicate_api_token": SecretStr(fake.api_token),
        "replicate_api_base": fake.api_base,
        "replicate_webhook_secret": SecretStr(fake.webhook_secret),
        "openai_api_key": SecretStr(OPENAI_KEY),
        "output_hosts": ["127.0.0.1"],
    }
    if webhooks:
        update["public_base_url"] = PUBLIC_BASE_URL
    return base.model_copy(update=update | changes)


def with_replicate_timings(runtime: Runtime, **timings: float) -> Runtime:
    """The runtime with its Replicate provider built from the same settings but other retry
    timings (`max_attempts`, `base_delay`, `max_delay`, `timeout`), for tests of retries."""
    settings = runtime.settings
    assert settings.replicate_api_token is not None
    assert settings.replicate_webhook_secret is not None
    assert settings.openai_api_key is not None
    provider = ReplicateProvider(
        api_base=settings.replicate_api_base,
        api_token=settings.replicate_api_token.get_secret_value(),
        webhook_secret=settings.replicate_webhook_secret.get_secret_value(),
        openai_api_key=settings.openai_api_key.get_secret_value(),
        http=runtime.http,
        **timings,  # type: ignore[arg-type]
    )
    providers = Providers(
        {"local": runtime.providers.get("local"), "replicate": provider},
        default=runtime.providers.default,
    )
    return dataclasses.replace(runtime, providers=providers)


# The queue


async def due_tasks(pool: Pool) -> int:
    """Queued tasks of the worker's queues that are due now."""
    async with as_service(pool) as conn:
        cur = await conn.execute(
            """
            select count(*) as n from procrastinate_jobs
             where status = 'todo' and queue_name = any(%s)
               and (scheduled_at is null or scheduled_at <= now())
            """,
            (QUEUES,),
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def drain(runtime: Runtime, *, rounds: int = 10) -> None:
    """Run the worker until no task is due (a task may defer another one as it ends)."""
    for _ in range(rounds):
        await run_worker(runtime, wait=False, concurrency=2)
        if not await due_tasks(runtime.pool):
            return
    raise AssertionError(f"tasks were still due after {rounds} worker runs")


async def fast_forward(pool: Pool) -> int:
    """Make every task scheduled for later due now; how many there were."""
    async with as_service(pool) as conn:
        cur = await conn.execute(
            """
            update procrastinate_jobs set scheduled_at = now()
             where status = 'todo' and scheduled_at > now()
            """
        )
        return cur.rowcount


async def tick(runtime: Runtime) -> None:
    """Let the time of every scheduled task come, and run them."""
    await fast_forward(runtime.pool)
    await drain(runtime)


async def queued(pool: Pool, task_name: str) -> list[dict[str, Any]]:
    """The queue's entries of a task: status, attempts, args, whether it waits for later, and
    for how many seconds it has been running (None when never started)."""
    async with as_service(pool) as conn:
        cur = await conn.execute(
            """
            select status, attempts, args, scheduled_at > now() as later,
                   extract(epoch from now() - (select max(e.at) from procrastinate_events e
                                                where e.job_id = j.id and e.type = 'started'))
                     ::float as running_for
              from procrastinate_jobs j where task_name = %s order by id
            """,
            (task_name,),
        )
        return list(await cur.fetchall())


# Webhooks


async def wait_for_webhooks(fake: FakeReplicate, count: int) -> list[WebhookDelivery]:
    """The fake's held webhooks, once `count` of them were made."""
    await fake.wait_until(lambda: len(fake.webhooks) >= count)
    return fake.webhooks


async def post_webhook(
    client: httpx.AsyncClient,
    fake: FakeReplicate,
    body: bytes,
    *,
    webhook_id: str | None = None,
    timestamp: datetime | None = None,
    secret: str | None = None,
) -> httpx.Response:
    """POST `body` to the app's webhook, signed by the fake (or forged: another secret, an old
    timestamp)."""
    headers = fake.sign(body, webhook_id=webhook_id, timestamp=timestamp, secret=secret)
    return await client.post(WEBHOOK_PATH, content=body, headers=headers)


async def deliver(
    client: httpx.AsyncClient, fake: FakeReplicate, delivery: WebhookDelivery, **forgery: Any
) -> httpx.Response:
    """A held webhook, as the fake would send it: its body under its own webhook id."""
    options = {"webhook_id": delivery.webhook_id} | forgery
    return await post_webhook(client, fake, delivery.body, **options)


async def deliver_all(
    client: httpx.AsyncClient, fake: FakeReplicate, count: int, *, reverse: bool = False
) -> list[httpx.Response]:
    """Wait for `count` held webhooks and deliver them (newest first with `reverse`)."""
    deliveries = (await wait_for_webhooks(fake, count))[:count]
    ordered = list(reversed(deliveries)) if reverse else deliveries
    responses = [await deliver(client, fake, delivery) for delivery in ordered]
    assert [r.status_code for r in responses] == [200] * count, [r.text for r in responses]
    return responses


def applied(response: httpx.Response) -> bool:
    assert response.status_code == 200, response.text
    return bool(response.json()["data"]["applied"])


# What the database holds


async def _rows(pool: Pool, query: str, *params: object) -> list[dict[str, Any]]:
    async with as_service(pool) as conn:
        cur = await conn.execute(query, params)
        return list(await cur.fetchall())


async def job_row(pool: Pool, job_id: UUID | str) -> dict[str, Any]:
    (row,) = await _rows(
        pool, "select status, error, completed_at from public.generation_jobs where id = %s", job_id
    )
    return row


async def age_job(pool: Pool, job_id: UUID | str, *, seconds: int) -> None:
    """Move the job's creation `seconds` into the past (past the stuck timeout)."""
    async with as_service(pool) as conn:
        await conn.execute(
            """
            update public.generation_jobs
               set created_at = created_at - make_interval(secs => %s) where id = %s
            """,
            (seconds, job_id),
        )


async def prediction_rows(pool: Pool, job_id: UUID | str) -> list[dict[str, Any]]:
    return await _rows(
        pool,
        """
        select idx, prediction_id, status, error from public.generation_predictions
         where job_id = %s order by idx
        """,
        job_id,
    )


async def variant_rows(pool: Pool, job_id: UUID | str) -> list[dict[str, Any]]:
    return await _rows(
        pool,
        """
        select v.idx, v.image_path, v.thumb_path, v.width, v.height, v.bytes
          from public.renders r join public.render_variants v on v.render_id = r.id
         where r.job_id = %s order by v.idx
        """,
        job_id,
    )


async def job_ledger(pool: Pool, job_id: UUID | str) -> list[tuple[str, int, str | None]]:
    """The job's ledger entries in order: (kind, amount, the refund's reason)."""
    rows = await _rows(
        pool,
        """
        select kind, amount, meta ->> 'reason' as reason from public.usage_ledger
         where job_id = %s order by created_at, id
        """,
        job_id,
    )
    return [(row["kind"], row["amount"], row["reason"]) for row in rows]


async def webhook_delivery_ids(pool: Pool) -> set[str]:
    rows = await _rows(pool, "select webhook_id from public.webhook_deliveries")
    return {row["webhook_id"] for row in rows}


async def assert_ledger_matches_delivered(pool: Pool, job_id: UUID | str) -> None:
    """The job's net charge (debits − credit adjustments) equals the variants it delivered."""
    charge = sum(
        amount if kind == "generation_debit" else -amount
        for kind, amount, _ in await job_ledger(pool, job_id)
    )
    delivered = len(await variant_rows(pool, job_id))
    assert charge == delivered, f"job {job_id} is charged {charge} for {delivered} variants"


async def terminal_job_ids(pool: Pool) -> list[UUID]:
    rows = await _rows(
        pool, "select id from public.generation_jobs where status = any(%s)", list(TERMINAL_JOB)
    )
    return [row["id"] for row in rows]


# Images


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_same_picture(stored: bytes, original: bytes) -> None:
    """`stored` is `original` re-encoded: same size, pixels within JPEG noise."""
    ours, theirs = decoded(stored).convert("RGB"), decoded(original).convert("RGB")
    assert ours.size == theirs.size
    difference = ImageStat.Stat(ImageChops.difference(ours, theirs)).mean
    assert max(difference) < 6, difference


def output_urls(fake: FakeReplicate, prediction_id: str) -> list[str]:
    output = fake.prediction(prediction_id)["output"]
    return [output] if isinstance(output, str) else list(output or [])


# A worker of its own


@contextmanager
def worker_process(
    settings: Settings, fake: FakeReplicate, *, workdir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`roomcraft worker` as a real process on the test database and the fake (polling: no
    PUBLIC_BASE_URL); its output goes to `workdir/worker.log`. Killed on the way out if alive."""
    assert settings.database_url is not None
    assert settings.secret_key is not None
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ROOMCRAFT_", "REPLICATE_", "OPENAI_", "PUBLIC_BASE_URL"))
        and name != "DATABASE_URL"
    }
    env = inherited | {
        "DATABASE_URL": settings.database_url,
        "ROOMCRAFT_ENV": "test",
        "ROOMCRAFT_DATA_DIR": str(settings.data_dir),  # the same storage: it reads the inputs
        "ROOMCRAFT_SECRET_KEY": settings.secret_key.get_secret_value(),
        "ROOMCRAFT_PROVIDER": "replicate",
        "REPLICATE_API_TOKEN": fake.api_token,
        "REPLICATE_API_BASE": fake.api_base,
        "REPLICATE_WEBHOOK_SECRET": fake.webhook_secret,
        "ROOMCRAFT_OUTPUT_HOSTS": '["127.0.0.1"]',
        # Its own periodic sweep must not end the job before the test kills it.
        "ROOMCRAFT_STUCK_AFTER_SECONDS": "600",
        "ROOMCRAFT_LOG_LEVEL": "WARNING",
    }
    with (workdir / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [str(ROOMCRAFT), "worker", "--concurrency", "2"],
            env=env,
            cwd=workdir,  # no stray .env
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
