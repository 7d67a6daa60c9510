"""`/api/v1/generations` (submit, status, cancel, live events) and the Replicate webhook."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from uuid import UUID

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from roomcraft.api.deps import CurrentUser, RuntimeDep, ServiceConn, UserConn
from roomcraft.api.responses import errors
from roomcraft.db.session import as_user
from roomcraft.generations import lifecycle
from roomcraft.generations import service as generations_service
from roomcraft.generations.repository import JobRow, VariantRow
from roomcraft.generations.schemas import (
    GenerationCreated,
    GenerationRead,
    GenerationSubmit,
    VariantRead,
)
from roomcraft.kit.envelope import Envelope, ok
from roomcraft.kit.time import utcnow
from roomcraft.runtime import Runtime
from roomcraft.storage.service import Storage

router = APIRouter(tags=["generations"])
webhooks_router = APIRouter(tags=["webhooks"], include_in_schema=False)

# Without a notification for this long, the stream re-reads the job (a missed NOTIFY is harmless).
RECHECK_SECONDS = 10.0


def generation_read(storage: Storage, job: JobRow, variants: list[VariantRow]) -> GenerationRead:
    reads = [
        VariantRead(
            idx=variant.idx,
            url=storage.public_url(variant.image_path),
            thumb_url=storage.public_url(variant.thumb_path or variant.image_path),
            width=variant.width,
            height=variant.height,
        )
        for variant in variants
    ]
    return GenerationRead.model_validate(
        {
            "id": job.id,
            "status": job.status,
            "mode": job.mode,
            "room_type": job.room_type,
            "style": job.style,
            "prompt": job.prompt,
            "provider": job.provider,
            "created_at": job.created_at,
            "completed_at": job.completed_at,
            "url": reads[0].url if reads else None,
            "render_id": variants[0].render_id if variants else None,
            "variants": reads or None,
            "error": job.error,
        }
    )


@router.post("/generations/submit", responses=errors(400, 401, 402, 403, 404, 409))
async def submit(
    body: GenerationSubmit, identity: CurrentUser, conn: UserConn, runtime: RuntimeDep
) -> Envelope[GenerationCreated]:
    """Start a generation. Inputs are upload ids of the caller; an idempotency key makes a
    retried submit return the same job."""
    job_id = await generations_service.submit_generation(
        conn,
        runtime.settings,
        runtime.presets,
        runtime.scheduler,
        user_id=identity.user_id,
        body=body,
        now=utcnow(),
    )
    return ok(GenerationCreated(id=job_id))


@router.get("/generations/{job_id}", responses=errors(401, 404))
async def get_generation(
    job_id: UUID, conn: UserConn, runtime: RuntimeDep
) -> Envelope[GenerationRead]:
    """A generation's status, and its variants once it succeeded."""
    job, variants = await generations_service.get_generation(conn, job_id=job_id)
    return ok(generation_read(runtime.storage, job, variants))


@router.post("/generations/{job_id}/cancel", responses=errors(401, 403, 404))
async def cancel(job_id: UUID, conn: UserConn, runtime: RuntimeDep) -> Envelope[GenerationRead]:
    """Stop a generation and return its credits; a finished one is returned unchanged."""
    await generations_service.cancel_generation(conn, runtime.scheduler, job_id=job_id)
    job, variants = await generations_service.get_generation(conn, job_id=job_id)
    return ok(generation_read(runtime.storage, job, variants))


async def _read(runtime: Runtime, identity: CurrentUser, job_id: UUID) -> GenerationRead:
    async with as_user(runtime.pool, identity.user_id) as conn:
        job, variants = await generations_service.get_generation(conn, job_id=job_id)
    return generation_read(runtime.storage, job, variants)


@router.get("/generations/{job_id}/events", responses=errors(401, 404))
async def events(job_id: UUID, identity: CurrentUser, runtime: RuntimeDep) -> EventSourceResponse:
    """Server-sent events: the generation's state now and at every change, until it ends."""
    await _read(runtime, identity, job_id)  # another user's job: 404 before the stream starts

    async def stream() -> AsyncIterator[ServerSentEvent]:
        async with runtime.events.watch(job_id) as changes:
            # Read once listening, so no change can fall between the read and the watch.
            state = await _read(runtime, identity, job_id)
            yield ServerSentEvent(data=state.model_dump_json(by_alias=True), event="status")
            while state.status not in lifecycle.TERMINAL_JOB:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changes.get(), timeout=RECHECK_SECONDS)
                latest = await _read(runtime, identity, job_id)
                if latest != state:
                    state = latest
                    yield ServerSentEvent(data=state.model_dump_json(by_alias=True), event="status")

    return EventSourceResponse(stream(), ping=15, headers={"Cache-Control": "no-store"})


@webhooks_router.post("/webhooks/replicate")
async def replicate_webhook(
    request: Request, conn: ServiceConn, runtime: RuntimeDep
) -> dict[str, object]:
    """A Replicate prediction ended: verified on the raw body, applied once, answered fast."""
    provider = runtime.providers.get("replicate")
    await provider.ready_for_webhooks()
    webhook_id, prediction = provider.parse_webhook(request.headers, await request.body())
    job_id = await lifecycle.apply_webhook(conn, webhook_id=webhook_id, prediction=prediction)
    if job_id is not None:
        await runtime.scheduler.finish(conn, job_id=job_id)
    return {"success": True, "data": {"applied": job_id is not None}}
