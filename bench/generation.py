"""Generation throughput and live-status latency, end to end over real HTTP on 127.0.0.1.

    .venv/bin/python bench/generation.py [--users 8] [--jobs 5]

Serves the app with uvicorn (worker in-process, embedded PostgreSQL in a temporary directory) and
measures, for the local engine and for the loopback fake Replicate at zero latency:
- jobs per second: `--users` users submit `--jobs` jobs each, one at a time (a user may have one
  job in flight), each followed on its SSE stream until it ends;
- webhook → SSE latency (Replicate only): webhooks are held by the fake and posted by this script
  once their prediction is on record, timed from the POST to the `succeeded` event on the job's
  stream. It includes the finish task: downloading the output, re-encoding, storing, one
  transaction, NOTIFY.
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from roomcraft import logging as app_logging
from roomcraft.auth.passwords import Passwords
from roomcraft.auth.service import ensure_password_account
from roomcraft.config import Environment, Plan, Settings
from roomcraft.db import embedded
from roomcraft.db.migrate import apply_migrations
from roomcraft.db.pool import Pool, open_pool
from roomcraft.db.session import as_service
from roomcraft.main import create_app
from tests.fakes.replicate import FakeReplicate

PASSWORD = "benchmark-password"
UNLIMITED = Plan(key="free", name="Bench", price_display="Free", monthly_generations=100_000)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """The app under uvicorn in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(settings.model_copy(update={"public_base_url": self.url}), worker=True)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Served":
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


async def create_users(settings: Settings, count: int) -> list[str]:
    assert settings.database_url is not None
    pool = await open_pool(settings.database_url, min_size=1, max_size=2)
    emails = [f"bench{n}@example.com" for n in range(count)]
    async with as_service(pool) as conn:
        for email in emails:
            await ensure_password_account(
                conn, Passwords.from_settings(settings), email=email, password=PASSWORD
            )
    await pool.close()
    return emails


async def follow(client: httpx.AsyncClient, job_id: str, ended: dict[str, float]) -> str:
    """Read the job's SSE stream to its end; note when the last event arrived."""
    status = ""
    async with client.stream("GET", f"/api/v1/generations/{job_id}/events") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                status = json.loads(line[6:])["status"]
                ended[job_id] = time.perf_counter()
    return status


async def user_session(base: str, email: str, jobs: int, ended: dict[str, float]) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        signed = await client.post(
            "/api/v1/auth/signin", json={"email": email, "password": PASSWORD}
        )
        client.headers["X-CSRF-Token"] = signed.json()["data"]["csrfToken"]
        statuses = []
        for n in range(jobs):
            body = {"mode": "imagine", "prompt": f"a bright loft {n}", "variants": 1}
            submitted = await client.post("/api/v1/generations/submit", json=body)
            submitted.raise_for_status()
            statuses.append(await follow(client, submitted.json()["data"]["id"], ended))
        return statuses


async def release(
    fake: FakeReplicate, settings: Settings, base: str, sent: dict[str, float], stop: asyncio.Event
) -> None:
    """Post the fake's held webhooks to the app, each once its prediction is on record (as a
    real model, slower than our bookkeeping, would), timing each POST."""
    assert settings.database_url is not None
    pool = await open_pool(settings.database_url, min_size=1, max_size=1)
    posted: set[str] = set()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while not stop.is_set():
            recorded = set(await predictions_to_jobs_on(pool))
            for delivery in list(fake.webhooks):
                if delivery.webhook_id in posted or delivery.prediction_id not in recorded:
                    continue
                posted.add(delivery.webhook_id)
                headers = fake.sign(delivery.body, webhook_id=delivery.webhook_id)
                sent[delivery.prediction_id] = time.perf_counter()
                response = await client.post(
                    "/webhooks/replicate", content=delivery.body, headers=headers
                )
                response.raise_for_status()
            await asyncio.sleep(0.002)
    await pool.close()


async def predictions_to_jobs_on(pool: Pool) -> dict[str, str]:
    async with as_service(pool) as conn:
        cur = await conn.execute("select prediction_id, job_id from public.generation_predictions")
        return {row["prediction_id"]: str(row["job_id"]) for row in await cur.fetchall()}


async def predictions_to_jobs(settings: Settings) -> dict[str, str]:
    assert settings.database_url is not None
    pool = await open_pool(settings.database_url, min_size=1, max_size=1)
    try:
        return await predictions_to_jobs_on(pool)
    finally:
        await pool.close()


async def measure(
    settings: Settings, users: int, jobs: int, fake: FakeReplicate | None
) -> dict[str, float]:
    emails = await create_users(settings, users)
    ended: dict[str, float] = {}
    sent: dict[str, float] = {}
    stop = asyncio.Event()
    with Served(settings) as served:
        releaser = (
            asyncio.create_task(release(fake, settings, served.url, sent, stop)) if fake else None
        )
        started = time.perf_counter()
        results = await asyncio.gather(*(user_session(served.url, e, jobs, ended) for e in emails))
        elapsed = time.perf_counter() - started
        stop.set()
        if releaser:
            await releaser
    statuses = [status for result in results for status in result]
    figures: dict[str, float] = {
        "jobs": len(statuses),
        "succeeded": statuses.count("succeeded"),
        "seconds": round(elapsed, 2),
        "jobs_per_second": round(len(statuses) / elapsed, 2),
    }
    if fake is not None:
        job_of = await predictions_to_jobs(settings)
        latencies = sorted(
            (ended[job_of[pid]] - at) * 1000 for pid, at in sent.items() if job_of.get(pid) in ended
        )
        figures["webhook_to_sse_p50_ms"] = round(statistics.median(latencies), 1)
        figures["webhook_to_sse_p95_ms"] = round(statistics.quantiles(latencies, n=20)[18], 1)
    return figures


def replicate_settings(base: Settings, fake: FakeReplicate) -> Settings:
    return base.model_copy(
        update={
            "provider": "replicate",
            "replicate_api_token": SecretStr(fake.api_token),
            "replicate_api_base": fake.api_base,
            "replicate_webhook_secret": SecretStr(fake.webhook_secret),
            "output_hosts": ["127.0.0.1"],
            "models": dict.fromkeys(base.models, "google/nano-banana"),
        }
    )


async def truncate_jobs(settings: Settings) -> None:
    assert settings.database_url is not None
    pool = await open_pool(settings.database_url, min_size=1, max_size=1)
    async with pool.connection() as conn:
        await conn.execute("truncate auth.users, procrastinate_jobs cascade")
    await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=5)
    args = parser.parse_args()
    app_logging.configure(os.environ.get("BENCH_LOG_LEVEL", "WARNING"), stream=sys.stderr)
    with tempfile.TemporaryDirectory() as data_dir:
        server = embedded.start(Path(data_dir))
        url = embedded.database_url(server)
        apply_migrations(url)
        base = Settings(
            ROOMCRAFT_ENV=Environment.test,
            ROOMCRAFT_DATA_DIR=Path(data_dir),
            DATABASE_URL=url,
            ROOMCRAFT_SECRET_KEY=SecretStr("bench"),
            ROOMCRAFT_PLANS=[UNLIMITED],
            ROOMCRAFT_DB_POOL_MAX=20,
        )
        local = asyncio.run(measure(base, args.users, args.jobs, None))
        print("local engine:          ", json.dumps(local))
        asyncio.run(truncate_jobs(base))
        with FakeReplicate(latency=0.0) as fake:
            fake.hold_webhooks = True
            remote = asyncio.run(
                measure(replicate_settings(base, fake), args.users, args.jobs, fake)
            )
        print("fake Replicate, 0 ms:  ", json.dumps(remote))
        server.cleanup()


if __name__ == "__main__":
    main()
