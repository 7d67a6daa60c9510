"""`/api/v1/usage`: this month's credits and the ledger behind them; administrators' credit
adjustments under `/api/v1/admin/users`."""

from uuid import UUID

from fastapi import APIRouter

from roomcraft.api.deps import AdminUser, CurrentUser, ServiceConn, SettingsDep, UserConn
from roomcraft.api.responses import errors
from roomcraft.kit.envelope import Envelope, ok
from roomcraft.kit.pagination import DEFAULT_LIMIT, Limit, Page, decode_cursor, encode_cursor
from roomcraft.kit.time import utcnow
from roomcraft.usage import service as usage_service
from roomcraft.usage.schemas import (
    CreditAdjustmentCreate,
    CreditAdjustmentRead,
    LedgerEntryRead,
    UsageRead,
)
from roomcraft.usage.service import Usage

router = APIRouter(tags=["usage"])
admin_router = APIRouter(prefix="/admin/users", tags=["admin"])


def usage_read(usage: Usage) -> UsageRead:
    return UsageRead(
        plan=usage.plan.key,
        plan_name=usage.plan.name,
        limit=usage.plan.monthly_generations,
        used=usage.used,
        remaining=usage.remaining,
        resets_at=usage.resets_at,
    )


@router.get("/usage", responses=errors(401))
async def get_usage(
    identity: CurrentUser, conn: UserConn, settings: SettingsDep
) -> Envelope[UsageRead]:
    """The caller's plan, monthly limit, used and remaining generations, and the reset time."""
    usage = await usage_service.get_usage(conn, settings, user_id=identity.user_id, now=utcnow())
    return ok(usage_read(usage))


@router.get("/usage/history", responses=errors(400, 401))
async def usage_history(
    identity: CurrentUser,
    conn: UserConn,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Envelope[Page[LedgerEntryRead]]:
    """The caller's ledger, newest first, a page at a time."""
    entries = await usage_service.list_history(
        conn, user_id=identity.user_id, after=decode_cursor(cursor), limit=limit + 1
    )
    page = entries[:limit]
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(entries) > limit else None
    items = [
        LedgerEntryRead(
            id=entry.id,
            kind=entry.kind,
            amount=entry.amount,
            job_id=entry.job_id,
            description=usage_service.describe(entry),
            created_at=entry.created_at,
        )
        for entry in page
    ]
    return ok(Page[LedgerEntryRead](items=items, next_cursor=next_cursor))


@admin_router.post("/{user_id}/credits", responses=errors(400, 401, 403, 404))
async def adjust_credits(
    user_id: UUID,
    body: CreditAdjustmentCreate,
    admin: AdminUser,
    conn: ServiceConn,
    settings: SettingsDep,
) -> Envelope[CreditAdjustmentRead]:
    """Give a user generations this month (negative: take them back), with a reason they read."""
    usage = await usage_service.adjust_credits(
        conn,
        settings,
        user_id=user_id,
        amount=body.amount,
        reason=body.reason,
        adjusted_by=admin.email,
        now=utcnow(),
    )
    return ok(
        CreditAdjustmentRead(
            user_id=user_id, amount=body.amount, reason=body.reason, usage=usage_read(usage)
        )
    )


router.include_router(admin_router)
