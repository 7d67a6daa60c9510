"""The worker side of a job: start it at the provider, follow it, and finish it exactly once.

Rules (DESIGN §7): every state change is one transaction and is NOTIFYed; provider outputs are
downloaded and stored before the transaction that creates the render; the ledger of a job always
ends equal to the variants it delivered (`reconcile_charge`), so refunds for failed variants, a
stuck job's full refund and a late success's new charge all follow from one rule.
"""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import structlog

from roomcraft.db.session import Conn, as_service
from roomcraft.generations import repository
from roomcraft.generations.downloads import download
from roomcraft.generations.presets import build_prompt
from roomcraft.generations.providers.base import (
    InputImage,
    Output,
    Prediction,
    PredictionStatus,
    ProviderError,
    RenderRequest,
    RetryableProviderError,
)
from roomcraft.generations.repository import JobRow, PredictionRow, VariantRow
from roomcraft.kit import images
from roomcraft.kit.errors import AppError
from roomcraft.kit.time import utcnow
from roomcraft.runtime import Runtime
from roomcraft.usage import service as usage_service

log = structlog.get_logger(__name__)

RENDERS_NAMESPACE = uuid.UUID("5b0f6f4e-2f7a-4c55-9d2b-5f1d3c1c9a11")
POLL_DELAYS = (1, 2, 3, 5, 8, 13, 20, 30)
# Behind webhooks, polls only rescue a webhook that was lost or came before the prediction was
# recorded (a provider that finishes within our own bookkeeping): early, then seldom.
WEBHOOK_SAFETY_POLL = 5
WEBHOOK_SAFETY_INTERVAL = 30
STUCK_ERROR = "This generation took too long and was stopped. Your credits were returned."
NOTHING_DELIVERED = "The provider did not return any image. Your credits were returned."
TERMINAL_JOB = frozenset({"succeeded", "failed", "canceled"})


def render_id_for(job_id: UUID) -> UUID:
    """A job's render id, fixed in advance so a repeated finish writes the same files."""
    return uuid.uuid5(RENDERS_NAMESPACE, str(job_id))


def poll_delay(attempt: int) -> int:
    return POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)]


async def reconcile_charge(conn: Conn, job: JobRow, *, delivered: int, reason: str) -> None:
    """Debit or refund so that the job's net charge equals the variants it delivered."""
    charged = await repository.get_job_charge(conn, job_id=job.id)
    if charged > delivered:
        await usage_service.refund(
            conn, owner_id=job.owner_id, job_id=job.id, amount=charged - delivered, reason=reason
        )
    elif charged < delivered:
        await usage_service.debit(
            conn, owner_id=job.owner_id, job_id=job.id, amount=delivered - charged, mode=job.mode
        )


async def set_status(conn: Conn, job: JobRow, status: str, *, error: str | None = None) -> None:
    await repository.update_job_status(conn, job_id=job.id, status=status, error=error)
    await repository.notify_job(conn, job_id=job.id, owner_id=job.owner_id, status=status)
    log.info("generations.job_" + status, job_id=str(job.id), error=error)


async def fail_job(conn: Conn, job: JobRow, *, error: str) -> None:
    """End a job with nothing delivered, refunding everything it was charged."""
    await set_status(conn, job, "failed", error=error)
    await reconcile_charge(conn, job, delivered=0, reason=f"Refund: {error}")


async def _render_request(rt: Runtime, job: JobRow) -> RenderRequest:
    inputs: list[InputImage] = []
    for path in (job.input1_path, job.input2_path):
        if path is None:
            continue
        data = await rt.storage.get("private", path)
        width, height = await asyncio.to_thread(images.dimensions, data)
        url = await rt.storage.signed_url(path, absolute=True)
        inputs.append(InputImage(url=url, data=data, width=width, height=height))
    base = rt.settings.public_base_url.rstrip("/")
    webhook = f"{base}/webhooks/replicate" if rt.settings.receives_webhooks else None
    return RenderRequest(
        job_id=str(job.id),
        mode=job.mode,
        room_type=job.room_type,
        style=job.style,
        prompt=build_prompt(
            rt.presets,
            mode=job.mode,
            room_type=job.room_type,
            style=job.style,
            user_prompt=job.prompt,
        ),
        user_prompt=job.prompt,
        inputs=inputs,
        aspect_ratio=str(job.settings["aspect_ratio"]),
        quality=str(job.settings["quality"]),
        variants=int(job.settings["variants"]),
        model=job.model or "",
        webhook_url=webhook if job.provider != "local" else None,
    )


async def start_job(rt: Runtime, job_id: UUID, *, final_attempt: bool) -> None:
    """Create the job's predictions; a provider that answers at once is finished here."""
    async with as_service(rt.pool) as conn:
        job = await repository.get_job(conn, job_id=job_id)
    if job is None or job.status != "starting":
        return
    provider = rt.providers.get(job.provider)
    failure = ""
    try:
        predictions = await provider.start(await _render_request(rt, job))
    except RetryableProviderError:
        if not final_attempt:
            raise
        predictions, failure = [], "The image provider is unavailable right now."
    except (ProviderError, AppError) as error:
        predictions, failure = [], error.message
    async with as_service(rt.pool) as conn:
        job = await repository.get_job(conn, job_id=job_id, for_update=True)
        assert job is not None
        if job.status != "starting":
            return
        if not predictions:
            await fail_job(conn, job, error=failure)
            return
        for prediction in predictions:
            await repository.insert_prediction(
                conn,
                job_id=job.id,
                owner_id=job.owner_id,
                idx=prediction.first_variant,
                prediction_id=prediction.prediction_id,
                status=prediction.status,
                error=prediction.error,
            )
        await set_status(conn, job, "processing")
        done = all(prediction.status.is_terminal for prediction in predictions)
        if not done:
            # With webhooks the first poll comes late: it only rescues a lost or early webhook.
            first = WEBHOOK_SAFETY_POLL if rt.settings.receives_webhooks else poll_delay(0)
            await rt.scheduler.poll(conn, job_id=job.id, attempt=0, delay_seconds=first)
    if done:
        await finish_job(rt, job_id, known={p.prediction_id: p for p in predictions})


async def poll_job(rt: Runtime, job_id: UUID, *, attempt: int) -> None:
    """Ask the provider about unfinished predictions; finish, or poll again with backoff."""
    async with as_service(rt.pool) as conn:
        job = await repository.get_job(conn, job_id=job_id)
        rows = await repository.list_predictions(conn, job_id=job_id)
    if job is None or job.status in TERMINAL_JOB:
        return
    provider = rt.providers.get(job.provider)
    fetched: dict[str, Prediction] = {}
    for row in rows:
        if row.prediction_id and not PredictionStatus(row.status).is_terminal:
            try:
                fetched[row.prediction_id] = await provider.fetch(row.prediction_id)
            except ProviderError as error:
                log.warning("generations.poll_failed", job_id=str(job_id), error=error.message)
    async with as_service(rt.pool) as conn:
        done = await _record_statuses(conn, job_id=job_id, fetched=fetched)
        too_old = utcnow() - job.created_at > timedelta(seconds=rt.settings.stuck_after_seconds)
        if not done and not too_old:
            delay = WEBHOOK_SAFETY_INTERVAL if rt.settings.receives_webhooks else None
            await rt.scheduler.poll(
                conn,
                job_id=job_id,
                attempt=attempt + 1,
                delay_seconds=delay or poll_delay(attempt + 1),
            )
    if done:
        await finish_job(rt, job_id, known=fetched)


async def _record_statuses(conn: Conn, *, job_id: UUID, fetched: dict[str, Prediction]) -> bool:
    """Store the statuses just learnt; True when every prediction of the job is terminal."""
    rows = await repository.list_predictions(conn, job_id=job_id)
    for row in rows:
        prediction = fetched.get(row.prediction_id or "")
        if prediction and prediction.status != row.status:
            await repository.update_prediction(
                conn, id=row.id, status=prediction.status, error=prediction.error
            )
    statuses = [
        fetched[row.prediction_id].status if row.prediction_id in fetched else row.status
        for row in rows
    ]
    return all(PredictionStatus(status).is_terminal for status in statuses)


@dataclass(frozen=True)
class StoredVariant:
    variant: VariantRow
    bytes: int


async def _outputs(
    rt: Runtime, job: JobRow, rows: list[PredictionRow], known: dict[str, Prediction]
) -> list[tuple[int, Output]]:
    """Every output of the job's succeeded predictions, with the variant it fills."""
    provider = rt.providers.get(job.provider)
    outputs: list[tuple[int, Output]] = []
    for row in rows:
        if row.status != PredictionStatus.succeeded or row.prediction_id is None:
            continue
        prediction = known.get(row.prediction_id)
        if prediction is None or not prediction.outputs:
            prediction = await provider.fetch(row.prediction_id)
        outputs.extend((row.idx + n, output) for n, output in enumerate(prediction.outputs))
    return sorted(outputs, key=lambda pair: pair[0])


async def _store_variant(rt: Runtime, render_id: UUID, idx: int, output: Output) -> StoredVariant:
    data = output.data
    if data is None:
        assert output.url is not None
        data = await download(
            rt.http,
            output.url,
            allowed_hosts=rt.settings.output_hosts,
            max_bytes=rt.settings.output_max_bytes,
        )
    image = await asyncio.to_thread(
        images.reencode_output, data, max_pixels=rt.settings.image_max_pixels
    )
    thumb = await asyncio.to_thread(images.thumbnail_webp, image.data)
    image_path = f"renders/{render_id}/{idx}.jpg"
    thumb_path = f"renders/{render_id}/{idx}_thumb.webp"
    await rt.storage.put("public", image_path, image.data, content_type="image/jpeg")
    await rt.storage.put("public", thumb_path, thumb, content_type="image/webp")
    variant = VariantRow(
        render_id=render_id,
        idx=idx,
        image_path=image_path,
        thumb_path=thumb_path,
        width=image.width,
        height=image.height,
    )
    return StoredVariant(variant=variant, bytes=len(image.data))


async def finish_job(
    rt: Runtime, job_id: UUID, *, known: dict[str, Prediction] | None = None
) -> None:
    """Store every delivered image, then in one transaction create the render, set the final
    status and reconcile the charge. Applied once: a finished job is left alone."""
    async with as_service(rt.pool) as conn:
        job = await repository.get_job(conn, job_id=job_id)
        rows = await repository.list_predictions(conn, job_id=job_id)
    if job is None or job.status in {"succeeded", "canceled"}:
        return
    render_id = render_id_for(job.id)
    stored: list[StoredVariant] = []
    for idx, output in await _outputs(rt, job, rows, known or {}):
        try:
            stored.append(await _store_variant(rt, render_id, len(stored), output))
        except AppError as error:
            log.warning(
                "generations.output_rejected", job_id=str(job.id), variant=idx, error=error.message
            )
    async with as_service(rt.pool) as conn:
        job = await repository.get_job(conn, job_id=job_id, for_update=True)
        assert job is not None
        if job.status in {"succeeded", "canceled"}:
            return
        if not stored:
            await fail_job(conn, job, error=_first_error(rows) or NOTHING_DELIVERED)
            return
        await repository.insert_render(
            conn,
            render_id=render_id,
            job=job,
            variants=[s.variant for s in stored],
            bytes_by_idx={s.variant.idx: s.bytes for s in stored},
        )
        await set_status(conn, job, "succeeded")
        missing = int(job.settings["variants"]) - len(stored)
        reason = f"Refund: {missing} of {job.settings['variants']} variants failed"
        await reconcile_charge(conn, job, delivered=len(stored), reason=reason)


def _first_error(rows: list[PredictionRow]) -> str | None:
    return next((row.error for row in rows if row.error), None)


async def apply_webhook(conn: Conn, *, webhook_id: str, prediction: Prediction) -> UUID | None:
    """Apply a verified webhook once; the job id to finish when its last prediction ended.

    A webhook for a prediction not on record (yet) is not recorded either, so a redelivery can
    still apply it; the safety poll covers it otherwise."""
    row = await repository.get_prediction_by_provider_id(
        conn, prediction_id=prediction.prediction_id
    )
    if row is None:
        return None
    if not await repository.insert_webhook_delivery(
        conn, webhook_id=webhook_id, prediction_id=prediction.prediction_id
    ):
        return None
    if PredictionStatus(row.status).is_terminal:
        return None
    done = await _record_statuses(
        conn, job_id=row.job_id, fetched={prediction.prediction_id: prediction}
    )
    return row.job_id if done and prediction.status.is_terminal else None


async def sweep_stuck_jobs(rt: Runtime) -> int:
    """Fail and refund every job stuck past the timeout; a late success is still accepted."""
    age = timedelta(seconds=rt.settings.stuck_after_seconds)
    async with as_service(rt.pool) as conn:
        job_ids = await repository.list_stuck_job_ids(conn, older_than=age)
    for job_id in job_ids:
        async with as_service(rt.pool) as conn:
            job = await repository.get_job(conn, job_id=job_id, for_update=True)
            if job is not None and job.status not in TERMINAL_JOB:
                await fail_job(conn, job, error=STUCK_ERROR)
                await rt.scheduler.cancel_predictions(conn, job_id=job_id)
    return len(job_ids)


async def cancel_predictions(rt: Runtime, job_id: UUID) -> None:
    """Ask the provider to stop a job's unfinished predictions (best effort)."""
    async with as_service(rt.pool) as conn:
        job = await repository.get_job(conn, job_id=job_id)
        rows = await repository.list_predictions(conn, job_id=job_id)
    if job is None:
        return
    provider = rt.providers.get(job.provider)
    for row in rows:
        if row.prediction_id and not PredictionStatus(row.status).is_terminal:
            try:
                await provider.cancel(row.prediction_id)
            except ProviderError:
                log.warning("generations.cancel_failed", prediction_id=row.prediction_id)
