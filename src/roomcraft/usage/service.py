"""Credits: what a plan allows this month, what was used, and the ledger that records it.

remaining = the plan's monthly generations − (debits − credit adjustments) in the current UTC
calendar month. Every variant asked for is debited at submit; variants that fail are refunded.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from roomcraft.config import Plan, Settings
from roomcraft.db.session import Conn
from roomcraft.kit.pagination import Cursor
from roomcraft.usage import repository
from roomcraft.usage.repository import LedgerEntryRow
from roomcraft.users import service as users_service

DEBIT = "generation_debit"
CREDIT = "credit_adjustment"


@dataclass(frozen=True)
class Usage:
    plan: Plan
    used: int
    remaining: int
    resets_at: datetime


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The first instant of `now`'s UTC month and of the next one."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else (start.replace(month=start.month + 1))
    )
    return start, following


async def get_usage(conn: Conn, settings: Settings, *, user_id: UUID, now: datetime) -> Usage:
    """The caller's plan and credits this month (runs as the user: the ledger is RLS-scoped)."""
    profile = await users_service.get_profile(conn, user_id=user_id)
    plan = users_service.plan_of(settings, profile)
    start, resets_at = month_bounds(now)
    net = await repository.get_net_usage(conn, owner_id=user_id, since=start)
    remaining = max(0, plan.monthly_generations - net)
    return Usage(plan=plan, used=max(0, net), remaining=remaining, resets_at=resets_at)


async def debit(conn: Conn, *, owner_id: UUID, job_id: UUID, amount: int, mode: str) -> None:
    """Charge a job's variants (as the service role: users never write the ledger)."""
    await repository.insert_ledger_entry(
        conn, owner_id=owner_id, kind=DEBIT, amount=amount, job_id=job_id, meta={"mode": mode}
    )


async def refund(
    conn: Conn, *, owner_id: UUID, job_id: UUID | None, amount: int, reason: str
) -> None:
    """Give credits back (failed variants, a stuck job), with the reason the user will read."""
    if amount <= 0:
        return
    meta: dict[str, Any] = {"reason": reason}
    await repository.insert_ledger_entry(
        conn, owner_id=owner_id, kind=CREDIT, amount=amount, job_id=job_id, meta=meta
    )


async def list_history(
    conn: Conn, *, user_id: UUID, after: Cursor | None, limit: int
) -> list[LedgerEntryRow]:
    """The caller's ledger, newest first."""
    return await repository.list_ledger_entries(conn, owner_id=user_id, after=after, limit=limit)


def describe(entry: LedgerEntryRow) -> str:
    """A line of the ledger as a person reads it."""
    if entry.kind == DEBIT:
        noun = "variant" if entry.amount == 1 else "variants"
        mode = (entry.job_mode or entry.meta.get("mode") or "generation").capitalize()
        return f"{mode}: {entry.amount} {noun}"
    reason = entry.meta.get("reason") or "Credit adjustment"
    return str(reason)
