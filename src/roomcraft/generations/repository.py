"""All SQL of generation jobs, their predictions, renders and variants."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from roomcraft.db.session import Conn
from roomcraft.kit.pagination import Cursor

EVENTS_CHANNEL = "generation_events"


@dataclass(frozen=True)
class JobRow:
    id: UUID
    owner_id: UUID
    mode: str
    room_type: str | None
    style: str | None
    prompt: str | None
    input1_path: str | None
    input2_path: str | None
    provider: str
    model: str | None
    settings: dict[str, Any]
    status: str
    error: str | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class PredictionRow:
    id: UUID
    job_id: UUID
    idx: int
    prediction_id: str | None
    status: str
    error: str | None


@dataclass(frozen=True)
class VariantRow:
    render_id: UUID
    idx: int
    image_path: str
    thumb_path: str | None
    width: int
    height: int


_JOB_COLUMNS = """
    id, owner_id, mode, room_type, style, prompt, input1_path, input2_path, provider, model,
    settings, status, error, created_at, completed_at
"""


async def lock_owner(conn: Conn, *, owner_id: UUID) -> None:
    """Serialize the owner's submits until the end of the transaction."""
    await conn.execute(
        "select pg_advisory_xact_lock(hashtextextended('generations:' || %s::text, 0))",
        (owner_id,),
    )


async def get_job_id_by_idempotency_key(conn: Conn, *, owner_id: UUID, key: UUID) -> UUID | None:
    cur = await conn.execute(
        "select id from public.generation_jobs where owner_id = %s and idempotency_key = %s",
        (owner_id, key),
    )
    row = await cur.fetchone()
    return None if row is None else UUID(str(row["id"]))


async def count_jobs_in_flight(conn: Conn, *, owner_id: UUID, younger_than: timedelta) -> int:
    cur = await conn.execute(
        """
        select count(*) as n from public.generation_jobs
         where owner_id = %s and status in ('starting', 'processing')
           and created_at > now() - %s
        """,
        (owner_id, younger_than),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def get_job_in_flight(conn: Conn, *, owner_id: UUID, younger_than: timedelta) -> UUID | None:
    """The owner's newest job still running, if any."""
    cur = await conn.execute(
        """
        select id from public.generation_jobs
         where owner_id = %s and status in ('starting', 'processing')
           and created_at > now() - %s
         order by created_at desc
         limit 1
        """,
        (owner_id, younger_than),
    )
    row = await cur.fetchone()
    return None if row is None else UUID(str(row["id"]))


async def insert_job(
    conn: Conn,
    *,
    owner_id: UUID,
    mode: str,
    room_type: str | None,
    style: str | None,
    prompt: str | None,
    input1_upload_id: UUID | None,
    input2_upload_id: UUID | None,
    input1_path: str | None,
    input2_path: str | None,
    provider: str,
    model: str | None,
    settings: dict[str, Any],
    idempotency_key: UUID | None,
) -> UUID:
    cur = await conn.execute(
        """
        insert into public.generation_jobs
               (owner_id, mode, room_type, style, prompt, input1_upload_id, input2_upload_id,
                input1_path, input2_path, provider, model, settings, idempotency_key)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        returning id
        """,
        (
            owner_id,
            mode,
            room_type,
            style,
            prompt,
            input1_upload_id,
            input2_upload_id,
            input1_path,
            input2_path,
            provider,
            model,
            Jsonb(settings),
            idempotency_key,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    return UUID(str(row["id"]))


async def get_job(conn: Conn, *, job_id: UUID, for_update: bool = False) -> JobRow | None:
    query = sql.SQL("select {columns} from public.generation_jobs where id = %s{lock}").format(
        columns=sql.SQL(_JOB_COLUMNS),
        lock=sql.SQL(" for update" if for_update else ""),
    )
    async with conn.cursor(row_factory=class_row(JobRow)) as cur:
        await cur.execute(query, (job_id,))
        return await cur.fetchone()


async def update_job_status(
    conn: Conn, *, job_id: UUID, status: str, error: str | None = None
) -> None:
    await conn.execute(
        """
        update public.generation_jobs
           set status = %(status)s, error = %(error)s,
               completed_at = case when %(status)s in ('succeeded', 'failed', 'canceled')
                                   then now() end
         where id = %(id)s
        """,
        {"status": status, "error": error, "id": job_id},
    )


async def list_stuck_job_ids(conn: Conn, *, older_than: timedelta) -> list[UUID]:
    cur = await conn.execute(
        """
        select id from public.generation_jobs
         where status in ('starting', 'processing') and created_at < now() - %s
         order by created_at
        """,
        (older_than,),
    )
    return [UUID(str(row["id"])) for row in await cur.fetchall()]


async def insert_prediction(
    conn: Conn,
    *,
    job_id: UUID,
    owner_id: UUID,
    idx: int,
    prediction_id: str,
    status: str,
    error: str | None,
) -> None:
    await conn.execute(
        """
        insert into public.generation_predictions
               (job_id, owner_id, idx, prediction_id, status, error, completed_at)
        values (%s, %s, %s, %s, %s, %s,
                case when %s in ('succeeded', 'failed', 'canceled', 'aborted') then now() end)
        on conflict (job_id, idx) do nothing
        """,
        (job_id, owner_id, idx, prediction_id, status, error, status),
    )


async def list_predictions(conn: Conn, *, job_id: UUID) -> list[PredictionRow]:
    async with conn.cursor(row_factory=class_row(PredictionRow)) as cur:
        await cur.execute(
            """
            select id, job_id, idx, prediction_id, status, error
              from public.generation_predictions where job_id = %s order by idx
            """,
            (job_id,),
        )
        return await cur.fetchall()


async def get_prediction_by_provider_id(conn: Conn, *, prediction_id: str) -> PredictionRow | None:
    async with conn.cursor(row_factory=class_row(PredictionRow)) as cur:
        await cur.execute(
            """
            select id, job_id, idx, prediction_id, status, error
              from public.generation_predictions where prediction_id = %s for update
            """,
            (prediction_id,),
        )
        return await cur.fetchone()


async def update_prediction(conn: Conn, *, id: UUID, status: str, error: str | None) -> None:
    await conn.execute(
        """
        update public.generation_predictions
           set status = %(status)s, error = %(error)s,
               completed_at = case when %(status)s in ('succeeded', 'failed', 'canceled',
                                                       'aborted') then now() end
         where id = %(id)s
        """,
        {"status": status, "error": error, "id": id},
    )


async def insert_render(
    conn: Conn,
    *,
    render_id: UUID,
    job: JobRow,
    variants: list[VariantRow],
    bytes_by_idx: dict[int, int],
) -> bool:
    """Create the render and its variants; False if the job already has one (a duplicate)."""
    cur = await conn.execute(
        """
        insert into public.renders (id, job_id, owner_id, mode, room_type, style, prompt)
        values (%s, %s, %s, %s, %s, %s, %s)
        on conflict (job_id) do nothing
        """,
        (render_id, job.id, job.owner_id, job.mode, job.room_type, job.style, job.prompt),
    )
    if cur.rowcount == 0:
        return False
    async with conn.cursor() as cursor:
        await cursor.executemany(
            """
            insert into public.render_variants
                   (render_id, owner_id, idx, image_path, thumb_path, width, height, bytes)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [
                (
                    render_id,
                    job.owner_id,
                    variant.idx,
                    variant.image_path,
                    variant.thumb_path,
                    variant.width,
                    variant.height,
                    bytes_by_idx[variant.idx],
                )
                for variant in variants
            ],
        )
    return True


async def list_job_variants(conn: Conn, *, job_id: UUID) -> list[VariantRow]:
    async with conn.cursor(row_factory=class_row(VariantRow)) as cur:
        await cur.execute(
            """
            select v.render_id, v.idx, v.image_path, v.thumb_path, v.width, v.height
              from public.renders r
              join public.render_variants v on v.render_id = r.id
             where r.job_id = %s
             order by v.idx
            """,
            (job_id,),
        )
        return await cur.fetchall()


async def get_job_charge(conn: Conn, *, job_id: UUID) -> int:
    """What the job costs its owner so far: its debits minus its refunds."""
    cur = await conn.execute(
        """
        select coalesce(sum(case kind when 'generation_debit' then amount else -amount end), 0)
               as net
          from public.usage_ledger where job_id = %s
        """,
        (job_id,),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["net"])


async def insert_webhook_delivery(conn: Conn, *, webhook_id: str, prediction_id: str) -> bool:
    """Record a webhook delivery; False when this id was already applied (a replay)."""
    cur = await conn.execute(
        """
        insert into public.webhook_deliveries (webhook_id, prediction_id) values (%s, %s)
        on conflict (webhook_id) do nothing
        """,
        (webhook_id, prediction_id),
    )
    return cur.rowcount == 1


async def notify_job(conn: Conn, *, job_id: UUID, owner_id: UUID, status: str) -> None:
    """Tell listeners (the SSE streams) that the job changed; delivered when the tx commits."""
    payload = json.dumps({"jobId": str(job_id), "ownerId": str(owner_id), "status": status})
    await conn.execute("select pg_notify(%s, %s)", (EVENTS_CHANNEL, payload))


@dataclass(frozen=True)
class AdminJobRow:
    """A job of any user as the admins' jobs list shows it: its owner's email and, once it
    succeeded, its render's cover."""

    id: UUID
    owner_id: UUID
    owner_email: str
    mode: str
    room_type: str | None
    style: str | None
    prompt: str | None
    provider: str
    model: str | None
    settings: dict[str, Any]
    status: str
    error: str | None
    created_at: datetime
    completed_at: datetime | None
    render_id: UUID | None
    cover_image_path: str | None
    cover_thumb_path: str | None


@dataclass(frozen=True)
class JobCounts:
    running: int
    stuck: int
    failed: int
    succeeded: int


async def list_jobs_of_all(
    conn: Conn,
    *,
    statuses: Sequence[str] | None,
    created_before: datetime | None,
    owner_id: UUID | None,
    after: Cursor | None,
    limit: int,
) -> list[AdminJobRow]:
    """Jobs of every user, newest first, narrowed to some statuses, to those created before a
    time and to one owner when given (on a service-role connection: RLS hides others')."""
    async with conn.cursor(row_factory=class_row(AdminJobRow)) as cur:
        await cur.execute(
            """
            select j.id, j.owner_id, p.email as owner_email, j.mode, j.room_type, j.style,
                   j.prompt, j.provider, j.model, j.settings, j.status, j.error, j.created_at,
                   j.completed_at, r.id as render_id, v.image_path as cover_image_path,
                   v.thumb_path as cover_thumb_path
              from public.generation_jobs j
              join public.profiles p on p.id = j.owner_id
              left join public.renders r on r.job_id = j.id
              left join public.render_variants v
                     on v.render_id = r.id and v.idx = r.cover_variant
             where (%(statuses)s::text[] is null or j.status = any(%(statuses)s))
               and (%(before)s::timestamptz is null or j.created_at < %(before)s)
               and (%(owner)s::uuid is null or j.owner_id = %(owner)s)
               and (%(after_at)s::timestamptz is null
                    or (j.created_at, j.id) < (%(after_at)s, %(after_id)s))
             order by j.created_at desc, j.id desc
             limit %(limit)s
            """,
            {
                "statuses": list(statuses) if statuses is not None else None,
                "before": created_before,
                "owner": owner_id,
                "after_at": after.created_at if after else None,
                "after_id": after.id if after else None,
                "limit": limit,
            },
        )
        return await cur.fetchall()


async def count_jobs(conn: Conn, *, stuck_after: timedelta, since: datetime) -> JobCounts:
    """Jobs running now, those of them stuck (running for longer than `stuck_after`), and jobs
    failed or succeeded since `since`."""
    async with conn.cursor(row_factory=class_row(JobCounts)) as cur:
        await cur.execute(
            """
            select count(*) filter (where in_flight) as running,
                   count(*) filter (where in_flight and created_at < now() - %(stuck)s) as stuck,
                   count(*) filter (where status = 'failed' and created_at >= %(since)s)
                     as failed,
                   count(*) filter (where status = 'succeeded' and created_at >= %(since)s)
                     as succeeded
              from (select status, created_at, status in ('starting', 'processing') as in_flight
                      from public.generation_jobs
                     where status in ('starting', 'processing') or created_at >= %(since)s) jobs
            """,
            {"stuck": stuck_after, "since": since},
        )
        counts = await cur.fetchone()
        assert counts is not None
        return counts
