"""All SQL of the usage ledger."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from roomcraft.db.session import Conn
from roomcraft.kit.pagination import Cursor


@dataclass(frozen=True)
class LedgerEntryRow:
    id: UUID
    kind: str
    amount: int
    job_id: UUID | None
    job_mode: str | None
    meta: dict[str, Any]
    created_at: datetime


async def get_net_usage(conn: Conn, *, owner_id: UUID, since: datetime) -> int:
    """Debits minus credit adjustments of the owner since `since`."""
    cur = await conn.execute(
        """
        select coalesce(sum(case kind when 'generation_debit' then amount else -amount end), 0)
               as net
          from public.usage_ledger
         where owner_id = %s and created_at >= %s
        """,
        (owner_id, since),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["net"])


async def insert_ledger_entry(
    conn: Conn,
    *,
    owner_id: UUID,
    kind: str,
    amount: int,
    job_id: UUID | None,
    meta: dict[str, Any],
) -> None:
    await conn.execute(
        """
        insert into public.usage_ledger (owner_id, kind, amount, job_id, meta)
        values (%s, %s, %s, %s, %s)
        """,
        (owner_id, kind, amount, job_id, Jsonb(meta)),
    )


async def list_ledger_entries(
    conn: Conn, *, owner_id: UUID, after: Cursor | None, limit: int
) -> list[LedgerEntryRow]:
    async with conn.cursor(row_factory=class_row(LedgerEntryRow)) as cur:
        await cur.execute(
            """
            select l.id, l.kind, l.amount, l.job_id, j.mode as job_mode, l.meta, l.created_at
              from public.usage_ledger l
              left join public.generation_jobs j on j.id = l.job_id
             where l.owner_id = %(owner)s
               and (%(after_at)s::timestamptz is null
                    or (l.created_at, l.id) < (%(after_at)s, %(after_id)s))
             order by l.created_at desc, l.id desc
             limit %(limit)s
            """,
            {
                "owner": owner_id,
                "after_at": after.created_at if after else None,
                "after_id": after.id if after else None,
                "limit": limit,
            },
        )
        return await cur.fetchall()


async def list_net_usage(
    conn: Conn, *, owner_ids: Sequence[UUID], since: datetime
) -> dict[UUID, int]:
    """Debits minus credit adjustments since `since` of each owner, in one statement; owners
    without ledger entries are left out."""
    cur = await conn.execute(
        """
        select owner_id,
               sum(case kind when 'generation_debit' then amount else -amount end) as net
          from public.usage_ledger
         where owner_id = any(%s) and created_at >= %s
         group by owner_id
        """,
        (list(owner_ids), since),
    )
    return {row["owner_id"]: int(row["net"]) for row in await cur.fetchall()}
