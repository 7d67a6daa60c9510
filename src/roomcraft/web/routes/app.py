"""The signed-in app's own pages: the dashboard and Settings."""

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from roomcraft.api.deps import (
    CurrentUser,
    RuntimeDep,
    ServiceConn,
    SettingsDep,
    UserConn,
)
from roomcraft.auth import service as auth_service
from roomcraft.auth.deps import clear_session_cookie
from roomcraft.auth.schemas import TokenCreate
from roomcraft.billing import service as billing_service
from roomcraft.config import Settings
from roomcraft.db.session import Conn
from roomcraft.kit.pagination import decode_cursor, encode_cursor
from roomcraft.kit.time import utcnow
from roomcraft.usage import service as usage_service
from roomcraft.usage.repository import LedgerEntryRow
from roomcraft.usage.service import Usage
from roomcraft.users import service as users_service
from roomcraft.users.repository import ProfileRow
from roomcraft.web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)


HISTORY_PAGE_SIZE = 10
BILLING_RESULTS = {"success", "cancel"}


@router.get("/dashboard")
async def dashboard(request: Request, templates: TemplatesDep, _: CurrentUser) -> Response:
    return templates.render(request, "app/dashboard.html", nav="dashboard")


def _long_date(moment: datetime) -> str:
    """A date as people write it, in UTC: "May 1, 2025"."""
    moment = moment.astimezone(UTC)
    return f"{moment:%B} {moment.day}, {moment.year}"


def _plan_change(settings: Settings, profile: ProfileRow, now: datetime) -> dict[str, Any] | None:
    """A downgrade or cancellation still waiting for the end of the period already paid for."""
    changes_at = profile.plan_changes_at
    if changes_at is None or changes_at <= now:
        return None
    return {
        "plan": users_service.plan_for_price(settings, profile.next_price_id),
        "on": _long_date(changes_at),
    }


def usage_percent(usage: Usage) -> int:
    """How full this month's allowance is, 0 to 100 (a plan without generations is full)."""
    limit = usage.plan.monthly_generations
    return min(100, round(usage.used * 100 / limit)) if limit else 100


def history_lines(entries: list[LedgerEntryRow]) -> list[dict[str, Any]]:
    """Ledger entries as rows of the history table (components/usage_line.html)."""
    return [
        {
            "description": usage_service.describe(entry),
            "amount": entry.amount,
            "is_debit": entry.kind == usage_service.DEBIT,
            "created_at": entry.created_at.astimezone(UTC),
        }
        for entry in entries
    ]


async def _history(conn: Conn, *, user_id: UUID, cursor: str | None) -> dict[str, Any]:
    """A page of the ledger, newest first, and the cursor of the next one."""
    entries = await usage_service.list_history(
        conn, user_id=user_id, after=decode_cursor(cursor), limit=HISTORY_PAGE_SIZE + 1
    )
    page = entries[:HISTORY_PAGE_SIZE]
    more = len(entries) > HISTORY_PAGE_SIZE
    return {
        "history": history_lines(page),
        "history_next": encode_cursor(page[-1].created_at, page[-1].id) if more else None,
        "history_is_older": cursor is not None,
    }


async def _plan_and_usage(
    conn: Conn, settings: Settings, *, user_id: UUID, history_cursor: str | None
) -> dict[str, Any]:
    """The Plan & usage section: the plan, this month's credits and the ledger behind them."""
    now = utcnow()
    profile = await users_service.get_profile(conn, user_id=user_id)
    usage = await usage_service.get_usage(conn, settings, user_id=user_id, now=now)
    return {
        "usage": usage,
        "usage_percent": usage_percent(usage),
        "resets_on": _long_date(usage.resets_at),
        "plan_change": _plan_change(settings, profile, now),
        "billing_enabled": settings.billing_enabled,
        # The portal belongs to a Stripe customer, made at the first checkout.
        "can_manage_billing": settings.billing_enabled and profile.customer_id is not None,
        **await _history(conn, user_id=user_id, cursor=history_cursor),
    }


async def _settings_page(
    request: Request,
    templates: TemplatesDep,
    conn: UserConn,
    identity: CurrentUser,
    settings: Settings,
    *,
    new_token: Any = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    query = request.query_params
    tokens = await auth_service.list_api_tokens(conn, user_id=identity.user_id)
    plan_and_usage = await _plan_and_usage(
        conn, settings, user_id=identity.user_id, history_cursor=query.get("history") or None
    )
    context = {
        "tokens": tokens,
        "new_token": new_token,
        "error": error,
        "billing_result": query.get("billing") if query.get("billing") in BILLING_RESULTS else None,
        **plan_and_usage,
    }
    return templates.render(
        request, "app/settings.html", context, nav="settings", status_code=status_code
    )


@router.get("/settings")
async def settings_page(
    request: Request,
    templates: TemplatesDep,
    conn: UserConn,
    identity: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """Plan and usage (`?history=` pages the ledger, `?billing=` follows Checkout), API tokens,
    sessions."""
    return await _settings_page(request, templates, conn, identity, settings)


@router.post("/settings/tokens")
async def create_token(
    request: Request,
    templates: TemplatesDep,
    conn: UserConn,
    identity: CurrentUser,
    settings: SettingsDep,
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        body = TokenCreate(name=name)
    except ValidationError:
        return await _settings_page(
            request,
            templates,
            conn,
            identity,
            settings,
            error="Give the token a name of 1 to 100 characters.",
            status_code=400,
        )
    row, token = await auth_service.create_api_token(conn, user_id=identity.user_id, name=body.name)
    new_token = {"name": row.name, "token": token}
    return await _settings_page(request, templates, conn, identity, settings, new_token=new_token)


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(token_id: UUID, conn: UserConn, identity: CurrentUser) -> Response:
    await auth_service.revoke_api_token(conn, user_id=identity.user_id, token_id=token_id)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/signout-all")
async def signout_all(identity: CurrentUser, conn: ServiceConn, settings: SettingsDep) -> Response:
    await auth_service.sign_out_everywhere(conn, user_id=identity.user_id)
    response = RedirectResponse("/signin", status_code=303)
    clear_session_cookie(response, settings)
    return response


@router.post("/settings/billing/checkout")
async def billing_checkout(
    identity: CurrentUser,
    conn: UserConn,
    runtime: RuntimeDep,
    plan: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Without JavaScript: off to Stripe Checkout for a paid plan (billing.js asks the API)."""
    url = await billing_service.start_checkout(
        conn, runtime, user_id=identity.user_id, email=identity.email, plan_key=plan
    )
    return RedirectResponse(url, status_code=303)


@router.post("/settings/billing/portal")
async def billing_portal(identity: CurrentUser, conn: UserConn, runtime: RuntimeDep) -> Response:
    """Without JavaScript: off to the Stripe Billing Portal (billing.js asks the API)."""
    url = await billing_service.open_portal(conn, runtime, user_id=identity.user_id)
    return RedirectResponse(url, status_code=303)
