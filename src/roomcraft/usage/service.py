"""Credits: what a plan allows this month, what was used, and the ledger that records it.

remaining = the plan's monthly generations − (debits − credit adjustments) in the current UTC
calendar month. Every variant asked for is debited at submit; variants that fail are refunded.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from roomcraft.config import Plan, Settings
from roomcraft.db.session import Conn
from roomcraft.kit.errors import ValidationFailed
from roomcraft.kit.pagination import Cursor
from roomcraft.usage import repository
from roomcraft.usage.repository import LedgerEntryRow
from roomcraft.usage.schemas import MAX_ADJUSTMENT, MAX_REASON_LENGTH
from roomcraft.users import service as users_service
from roomcraft.users.repository import ProfileRow

DEBIT = "generation_debit"
CREDIT = "credit_adjustment"
ADMIN_SOURCE = "admin"


@dataclass(frozen=True)
class Usage:
    plan: Plan
    used: int
    remaining: int
    resets_at: datetime


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The first instant of `now`'s UTC month and of the next one."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else (start.replace(month=start.month + 1))
    )
    return start, following


async def get_usage(conn: Conn, settings: Settings, *, user_id: UUID, now: datetime) -> Usage:
    """The caller's plan and credits this month (runs as the user: the ledger is RLS-scoped)."""
    profile = await users_service.get_profile(conn, user_id=user_id)
    plan = users_service.plan_of(settings, profile, now=now)
    start, resets_at = month_bounds(now)
    net = await repository.get_net_usage(conn, owner_id=user_id, since=start)
    return _usage(plan, net=net, resets_at=resets_at)


def _usage(plan: Plan, *, net: int, resets_at: datetime) -> Usage:
    """A plan's credits once `net` generations (debits − credit adjustments) were used."""
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


async def adjust_credits(
    conn: Conn,
    settings: Settings,
    *,
    user_id: UUID,
    amount: int,
    reason: str,
    adjusted_by: str,
    now: datetime,
) -> Usage:
    """Give a user generations this month (or take them back, with a negative amount), with the
    reason they will read in their history; as the service role. Returns their usage after it.

    A gift is a `credit_adjustment`; taking back is a `generation_debit` without a job (the
    ledger's amounts are positive), both marked as an administrator's.
    """
    reason = reason.strip()
    if amount == 0 or abs(amount) > MAX_ADJUSTMENT:
        raise ValidationFailed(
            f"The amount must be between -{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}, and not 0."
        )
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed(f"A reason of 1 to {MAX_REASON_LENGTH} characters is required.")
    await users_service.get_user(conn, user_id=user_id)
    await repository.insert_ledger_entry(
        conn,
        owner_id=user_id,
        kind=CREDIT if amount > 0 else DEBIT,
        amount=abs(amount),
        job_id=None,
        meta={"reason": reason, "source": ADMIN_SOURCE, "by": adjusted_by},
    )
    return await get_usage(conn, settings, user_id=user_id, now=now)


async def adjust_credits_by_email(
    conn: Conn,
    settings: Settings,
    *,
    email: str,
    amount: int,
    reason: str,
    adjusted_by: str,
    now: datetime,
) -> Usage:
    """`adjust_credits` for the account with this email (the CLI's way in)."""
    profile = await users_service.get_profile_by_email(conn, email=email)
    return await adjust_credits(
        conn,
        settings,
        user_id=profile.id,
        amount=amount,
        reason=reason,
        adjusted_by=adjusted_by,
        now=now,
    )


async def list_history(
    conn: Conn, *, user_id: UUID, after: Cursor | None, limit: int
) -> list[LedgerEntryRow]:
    """The caller's ledger, newest first."""
    return await repository.list_ledger_entries(conn, owner_id=user_id, after=after, limit=limit)


def describe(entry: LedgerEntryRow) -> str:
    """A line of the ledger as a person reads it."""
    if entry.meta.get("source") == ADMIN_SOURCE:
        verb = "Added" if entry.kind == CREDIT else "Taken back"
        return f"{verb} by support: {entry.meta.get('reason') or 'adjustment'}"
    if entry.kind == DEBIT:
        noun = "variant" if entry.amount == 1 else "variants"
        mode = (entry.job_mode or entry.meta.get("mode") or "generation").capitalize()
        return f"{mode}: {entry.amount} {noun}"
    return str(entry.meta.get("reason") or "Credit adjustment")


async def get_usage_of_users(
    conn: Conn, settings: Settings, *, profiles: Sequence[ProfileRow], now: datetime
) -> dict[UUID, Usage]:
    """Each profile's plan and credits this month, read in one statement whatever their number;
    for administrators, on a service-role connection."""
    start, resets_at = month_bounds(now)
    nets = await repository.list_net_usage(
        conn, owner_ids=[profile.id for profile in profiles], since=start
    )
    return {
        profile.id: _usage(
            users_service.plan_of(settings, profile, now=now),
            net=nets.get(profile.id, 0),
            resets_at=resets_at,
        )
        for profile in profiles
    }
