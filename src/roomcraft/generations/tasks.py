"""Generation tasks on the procrastinate queue; each owns its units of work.

The process that runs the worker passes its `Runtime` as `additional_context={"runtime": …}`.
"""

import contextlib
from typing import cast
from uuid import UUID

from procrastinate import JobContext, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued

from roomcraft.db.session import Conn
from roomcraft.generations import lifecycle
from roomcraft.runtime import Runtime
from roomcraft.worker.app import queue

QUEUE = "generations"
START_ATTEMPTS = 4


def _runtime(context: JobContext) -> Runtime:
    return cast(Runtime, context.additional_context["runtime"])


@queue.task(
    name="generations.start_job",
    queue=QUEUE,
    pass_context=True,
    retry=RetryStrategy(max_attempts=START_ATTEMPTS, exponential_wait=2),
)
async def start_job(context: JobContext, job_id: str) -> None:
    assert context.job is not None
    final_attempt = context.job.attempts >= START_ATTEMPTS - 1
    await lifecycle.start_job(_runtime(context), UUID(job_id), final_attempt=final_attempt)


@queue.task(name="generations.poll_job", queue=QUEUE, pass_context=True)
async def poll_job(context: JobContext, job_id: str, attempt: int) -> None:
    await lifecycle.poll_job(_runtime(context), UUID(job_id), attempt=attempt)


@queue.task(
    name="generations.finish_job",
    queue=QUEUE,
    pass_context=True,
    retry=RetryStrategy(max_attempts=3, exponential_wait=2),
)
async def finish_job(context: JobContext, job_id: str) -> None:
    await lifecycle.finish_job(_runtime(context), UUID(job_id))


@queue.task(name="generations.cancel_predictions", queue=QUEUE, pass_context=True)
async def cancel_predictions(context: JobContext, job_id: str) -> None:
    await lifecycle.cancel_predictions(_runtime(context), UUID(job_id))


@queue.periodic(cron="* * * * *", periodic_id="generations.sweep")
@queue.task(name="generations.sweep_stuck_jobs", queue=QUEUE, pass_context=True)
async def sweep_stuck_jobs(context: JobContext, timestamp: int) -> None:
    await lifecycle.sweep_stuck_jobs(_runtime(context))


class QueueScheduler:
    """`Scheduler` on procrastinate, deferring on the caller's connection (same transaction)."""

    async def start(self, conn: Conn, *, job_id: UUID) -> None:
        await start_job.configure(connection=conn).defer_async(job_id=str(job_id))

    async def poll(self, conn: Conn, *, job_id: UUID, attempt: int, delay_seconds: int) -> None:
        await poll_job.configure(
            connection=conn, schedule_in={"seconds": delay_seconds}
        ).defer_async(job_id=str(job_id), attempt=attempt)

    async def finish(self, conn: Conn, *, job_id: UUID) -> None:
        # A finish of this job already waiting will see everything: one is enough. The
        # savepoint keeps the caller's transaction alive when the queueing lock refuses.
        with contextlib.suppress(AlreadyEnqueued):
            async with conn.transaction():
                await finish_job.configure(
                    connection=conn, queueing_lock=f"finish:{job_id}"
                ).defer_async(job_id=str(job_id))

    async def cancel_predictions(self, conn: Conn, *, job_id: UUID) -> None:
        await cancel_predictions.configure(connection=conn).defer_async(job_id=str(job_id))
