"""The request side of generations: submit (one transaction, DESIGN §7), read, cancel."""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from uuid import UUID

from roomcraft.config import Settings
from roomcraft.db.session import Conn, set_identity
from roomcraft.generations import lifecycle, repository
from roomcraft.generations.errors import GenerationNotFound, UploadNotFound
from roomcraft.generations.presets import Presets
from roomcraft.generations.repository import AdminJobRow, JobCounts, JobRow, VariantRow
from roomcraft.generations.scheduling import Scheduler
from roomcraft.generations.schemas import GenerationSubmit
from roomcraft.kit.errors import GenerationInFlight, NoCredits, NotFound, ValidationFailed
from roomcraft.kit.pagination import Cursor
from roomcraft.uploads import service as uploads_service
from roomcraft.usage import service as usage_service

CANCELED = "Canceled. Your credits were returned."


def _settings_of(body: GenerationSubmit, presets: Presets) -> dict[str, object]:
    """The job's settings with defaults filled in, checked against the presets."""
    if body.room_type is not None and presets.room_type(body.room_type) is None:
        raise ValidationFailed(f"Unknown room type {body.room_type!r}.")
    if body.style is not None and presets.style(body.style) is None:
        raise ValidationFailed(f"Unknown style {body.style!r}.")
    aspect_ratio = body.aspect_ratio or presets.default_aspect_ratio
    if aspect_ratio not in presets.aspect_ratios:
        raise ValidationFailed(f"Unknown aspect ratio {aspect_ratio!r}.")
    return {
        "aspect_ratio": aspect_ratio,
        "quality": body.quality or presets.default_quality,
        "variants": body.variants or presets.default_variants,
    }


async def _input_path(conn: Conn, upload_id: UUID | None, *, owner_id: UUID) -> str | None:
    if upload_id is None:
        return None
    try:
        upload = await uploads_service.get_owned_upload(
            conn, upload_id=upload_id, owner_id=owner_id
        )
    except NotFound as exc:
        raise UploadNotFound from exc
    return upload.storage_path


async def submit_generation(
    conn: Conn,
    settings: Settings,
    presets: Presets,
    scheduler: Scheduler,
    *,
    user_id: UUID,
    body: GenerationSubmit,
    now: datetime,
) -> UUID:
    """Accept a job: checks, job row, ledger debit and the queued start commit together.

    Runs in the caller's transaction as the user; concurrent submits of one owner serialize on
    an advisory lock, so the in-flight and credit checks cannot race.
    """
    job_settings = _settings_of(body, presets)
    await repository.lock_owner(conn, owner_id=user_id)
    if body.idempotency_key is not None:
        existing = await repository.get_job_id_by_idempotency_key(
            conn, owner_id=user_id, key=body.idempotency_key
        )
        if existing is not None:
            return existing
    usage = await usage_service.get_usage(conn, settings, user_id=user_id, now=now)
    variants = int(str(job_settings["variants"]))
    if variants > usage.plan.max_variants:
        raise ValidationFailed(
            f"The {usage.plan.name} plan allows up to {usage.plan.max_variants} variants."
        )
    stuck = timedelta(seconds=settings.stuck_after_seconds)
    in_flight = await repository.count_jobs_in_flight(conn, owner_id=user_id, younger_than=stuck)
    if in_flight >= usage.plan.jobs_in_flight:
        raise GenerationInFlight
    if usage.remaining < variants:
        raise NoCredits
    provider = settings.provider
    job_id = await repository.insert_job(
        conn,
        owner_id=user_id,
        mode=body.mode,
        room_type=body.room_type,
        style=body.style,
        prompt=body.prompt,
        input1_upload_id=body.input1,
        input2_upload_id=body.input2,
        input1_path=await _input_path(conn, body.input1, owner_id=user_id),
        input2_path=await _input_path(conn, body.input2, owner_id=user_id),
        provider=provider,
        model=None if provider == "local" else settings.models[body.mode],
        settings=job_settings,
        idempotency_key=body.idempotency_key,
    )
    # Users never write the ledger or the queue: the rest of the transaction is the service's.
    await set_identity(conn, role="service_role")
    await usage_service.debit(
        conn, owner_id=user_id, job_id=job_id, amount=variants, mode=body.mode
    )
    await repository.notify_job(conn, job_id=job_id, owner_id=user_id, status="starting")
    await scheduler.start(conn, job_id=job_id)
    return job_id


async def get_job_in_flight(conn: Conn, settings: Settings, *, user_id: UUID) -> UUID | None:
    """The caller's generation still running, so a page can resume watching it."""
    return await repository.get_job_in_flight(
        conn, owner_id=user_id, younger_than=timedelta(seconds=settings.stuck_after_seconds)
    )


async def get_job_id_by_idempotency_key(conn: Conn, *, user_id: UUID, key: UUID) -> UUID | None:
    """The caller's job submitted with this idempotency key, if there is one."""
    return await repository.get_job_id_by_idempotency_key(conn, owner_id=user_id, key=key)


def prefill(presets: Presets, query: Mapping[str, str]) -> dict[str, object]:
    """The generator's settings from "Try this look" query parameters; unknown values dropped."""
    known: dict[str, Callable[[str], bool]] = {
        "mode": lambda v: v in {"redesign", "staging", "compose", "imagine"},
        "room_type": lambda v: presets.room_type(v) is not None,
        "style": lambda v: presets.style(v) is not None,
        "prompt": lambda v: 0 < len(v) <= 800,
        "aspect_ratio": lambda v: v in presets.aspect_ratios,
        "quality": lambda v: v in presets.qualities,
        "variants": lambda v: v in {"1", "2", "3", "4"},
    }
    values: dict[str, object] = {
        key: query[key] for key, valid in known.items() if key in query and valid(query[key])
    }
    if "variants" in values:
        values["variants"] = int(str(values["variants"]))
    return values


async def get_generation(conn: Conn, *, job_id: UUID) -> tuple[JobRow, list[VariantRow]]:
    """A job of the caller and its variants (none until it succeeds); others' are not found."""
    job = await repository.get_job(conn, job_id=job_id)
    if job is None:
        raise GenerationNotFound
    variants = await repository.list_job_variants(conn, job_id=job_id)
    return job, variants


async def cancel_generation(conn: Conn, scheduler: Scheduler, *, job_id: UUID) -> None:
    """Stop a job of the caller and refund it; a finished job is left as it is."""
    job = await repository.get_job(conn, job_id=job_id)
    if job is None:
        raise GenerationNotFound
    if job.status in lifecycle.TERMINAL_JOB:
        return
    await set_identity(conn, role="service_role")
    job = await repository.get_job(conn, job_id=job_id, for_update=True)
    assert job is not None
    if job.status in lifecycle.TERMINAL_JOB:
        return
    await lifecycle.set_status(conn, job, "canceled", error=CANCELED)
    await lifecycle.reconcile_charge(conn, job, delivered=0, reason="Refund: you canceled the job")
    await scheduler.cancel_predictions(conn, job_id=job_id)


IN_FLIGHT = ("starting", "processing")
# The admins' jobs list, by what a job is doing; "stuck" is running past the stuck timeout.
JOB_FILTERS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "running": IN_FLIGHT,
    "stuck": IN_FLIGHT,
    "failed": ("failed",),
    "canceled": ("canceled",),
    "succeeded": ("succeeded",),
}


async def list_jobs_of_all(
    conn: Conn,
    settings: Settings,
    *,
    status: str,
    owner_id: UUID | None,
    after: Cursor | None,
    limit: int,
    now: datetime,
) -> list[AdminJobRow]:
    """Jobs of every user (or of one), newest first, by a filter of `JOB_FILTERS`; for
    administrators, on a service-role connection."""
    if status not in JOB_FILTERS:
        raise ValidationFailed(f"Unknown job filter {status!r}.")
    stuck_since = now - timedelta(seconds=settings.stuck_after_seconds)
    return await repository.list_jobs_of_all(
        conn,
        statuses=JOB_FILTERS[status],
        created_before=stuck_since if status == "stuck" else None,
        owner_id=owner_id,
        after=after,
        limit=limit,
    )


def is_stuck(settings: Settings, job: AdminJobRow, *, now: datetime) -> bool:
    """Still running past the stuck timeout: the sweeper will fail and refund it."""
    too_old = now - job.created_at > timedelta(seconds=settings.stuck_after_seconds)
    return job.status in IN_FLIGHT and too_old


async def count_jobs(conn: Conn, settings: Settings, *, since: datetime) -> JobCounts:
    """Jobs running now and how many of them are stuck, jobs failed and succeeded since
    `since` (on a service-role connection)."""
    return await repository.count_jobs(
        conn, stuck_after=timedelta(seconds=settings.stuck_after_seconds), since=since
    )
