"""The admins' pages about users and jobs: the list of users with their plan and this month's
usage, a user's own page with their history, the credit form, and the jobs of every user. (The
Community curation pages are in `community.py`; the `/admin` overview shows `overview` below.)

Everything here reads across users, so it runs as the service role, behind `AdminUser`. The credit
form works without JavaScript: it posts here (the CSRF token as a hidden field), calls the service
function `POST /api/v1/admin/users/{id}/credits` calls, and answers with a redirect (303) back to
the page it was on; a rejected form writes nothing and is shown again there with its message (400).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from roomcraft.api.deps import AdminUser, PoolDep, RuntimeDep, ServiceConn, SettingsDep
from roomcraft.config import Settings
from roomcraft.db.session import Conn, as_service
from roomcraft.generations import service as generations_service
from roomcraft.generations.repository import AdminJobRow
from roomcraft.kit.errors import ValidationFailed
from roomcraft.kit.pagination import decode_cursor, encode_cursor
from roomcraft.kit.time import utcnow
from roomcraft.runtime import Runtime
from roomcraft.usage import service as usage_service
from roomcraft.usage.schemas import MAX_ADJUSTMENT, MAX_REASON_LENGTH, CreditAdjustmentCreate
from roomcraft.usage.service import Usage
from roomcraft.users import service as users_service
from roomcraft.users.repository import UserRow
from roomcraft.web import forms
from roomcraft.web.deps import TemplatesDep
from roomcraft.web.forms import FormState
from roomcraft.web.routes.app import history_lines, usage_percent
from roomcraft.web.routes.community import look_summary
from roomcraft.web.urls import page_url

router = APIRouter(include_in_schema=False)

USERS_PATH = "/admin/users"
JOBS_PATH = "/admin/jobs"
PAGE_SIZE = 20
HISTORY_PAGE_SIZE = 10
RECENT_JOBS = 5
RECENT = timedelta(hours=24)
NOTICES = {
    "credited": "Credits given. The user sees them, with your reason, in their history.",
    "debited": "Credits taken back. The user sees it, with your reason, in their history.",
}
CREDIT_MESSAGES = {
    "amount": f"Give a whole number from -{MAX_ADJUSTMENT} to {MAX_ADJUSTMENT}, but not 0.",
    "reason": f"Give a reason of 1 to {MAX_REASON_LENGTH} characters: the user reads it.",
}
JOB_FILTERS = {
    "all": "All",
    "running": "Running",
    "stuck": "Stuck",
    "failed": "Failed",
    "canceled": "Canceled",
    "succeeded": "Succeeded",
}
SearchText = Annotated[str, Query(max_length=254)]


@dataclass(frozen=True)
class UserLine:
    """A user as a row of the list: the account, this month's usage, how full it is (0–100)
    and the day they joined (UTC)."""

    user: UserRow
    usage: Usage
    percent: int
    joined: datetime


@dataclass(frozen=True)
class JobLine:
    """A job as a row of the jobs list, with what the page says of it (times in UTC)."""

    job: AdminJobRow
    created_at: datetime
    summary: str
    variants: int | None
    stuck: bool
    age: str
    took: str | None
    thumb_url: str | None
    image_url: str | None


def _duration(delta: timedelta) -> str:
    """A rough duration as people say it: "40 s", "12 min", "3 h", "2 d"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _job_line(runtime: Runtime, job: AdminJobRow, now: datetime) -> JobLine:
    storage = runtime.storage
    thumb = job.cover_thumb_path or job.cover_image_path
    variants = job.settings.get("variants")
    look = look_summary(runtime, job.style, job.room_type)[2]  # "Scandinavian living room"
    return JobLine(
        job=job,
        created_at=job.created_at.astimezone(UTC),
        summary=look or job.prompt or job.mode.capitalize(),
        variants=int(variants) if variants is not None else None,
        stuck=generations_service.is_stuck(runtime.settings, job, now=now),
        age=_duration(now - job.created_at),
        took=_duration(job.completed_at - job.created_at) if job.completed_at else None,
        thumb_url=storage.public_url(thumb) if thumb else None,
        image_url=storage.public_url(job.cover_image_path) if job.cover_image_path else None,
    )


async def overview(conn: Conn, settings: Settings) -> dict[str, Any]:
    """The `/admin` overview's numbers: accounts, and jobs running, stuck and recently ended."""
    now = utcnow()
    month_start, _ = usage_service.month_bounds(now)
    return {
        "user_counts": await users_service.count_users(conn, joined_since=month_start),
        "job_counts": await generations_service.count_jobs(conn, settings, since=now - RECENT),
    }


# ---------- Users ----------


async def _users_page(
    request: Request,
    templates: TemplatesDep,
    conn: Conn,
    settings: Settings,
    *,
    search: str,
    after: str | None,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    search = search.strip()
    users = await users_service.list_users(
        conn, email_contains=search, after=decode_cursor(after), limit=PAGE_SIZE + 1
    )
    page = users[:PAGE_SIZE]
    usages = await usage_service.get_usage_of_users(conn, settings, profiles=page, now=utcnow())
    following = encode_cursor(page[-1].created_at, page[-1].id) if len(users) > PAGE_SIZE else None
    context = {
        "users": [
            UserLine(
                user=user,
                usage=usages[user.id],
                percent=usage_percent(usages[user.id]),
                joined=user.created_at.astimezone(UTC),
            )
            for user in page
        ],
        "search": search,
        "here": page_url(USERS_PATH, q=search, after=after),
        "first_url": page_url(USERS_PATH, q=search) if after else None,
        "next_url": page_url(USERS_PATH, q=search, after=following) if following else None,
        "form": form,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    }
    return templates.render(
        request, "app/admin_users.html", context, nav="admin", status_code=status_code
    )


async def _history(conn: Conn, *, user_id: UUID, cursor: str | None, here: str) -> dict[str, Any]:
    """A page of the user's ledger, newest first, as they read it in Settings."""
    entries = await usage_service.list_history(
        conn, user_id=user_id, after=decode_cursor(cursor), limit=HISTORY_PAGE_SIZE + 1
    )
    page = entries[:HISTORY_PAGE_SIZE]
    following = (
        encode_cursor(page[-1].created_at, page[-1].id)
        if len(entries) > HISTORY_PAGE_SIZE
        else None
    )
    return {
        "history": history_lines(page),
        "history_next": page_url(here, history=following) + "#history" if following else None,
        "history_first": here + "#history" if cursor else None,
    }


async def _user_page(
    request: Request,
    templates: TemplatesDep,
    conn: Conn,
    runtime: Runtime,
    user_id: UUID,
    *,
    history: str | None = None,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    user = await users_service.get_user(conn, user_id=user_id)
    usage = await usage_service.get_usage(conn, runtime.settings, user_id=user_id, now=now)
    jobs = await generations_service.list_jobs_of_all(
        conn,
        runtime.settings,
        status="all",
        owner_id=user_id,
        after=None,
        limit=RECENT_JOBS,
        now=now,
    )
    here = f"{USERS_PATH}/{user_id}"
    context = {
        "account": user,
        "joined": user.created_at.astimezone(UTC),
        "usage": usage,
        "usage_percent": usage_percent(usage),
        **await _history(conn, user_id=user_id, cursor=history, here=here),
        "jobs": [_job_line(runtime, job, now) for job in jobs],
        "here": here,
        "form": form,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    }
    return templates.render(
        request, "app/admin_users_detail.html", context, nav="admin", status_code=status_code
    )


@router.get(USERS_PATH)
async def users(
    request: Request,
    templates: TemplatesDep,
    _: AdminUser,
    conn: ServiceConn,
    settings: SettingsDep,
    q: SearchText = "",
    after: str | None = None,
) -> Response:
    """Every account, newest first, 20 a page; `?q=` keeps those whose email contains it."""
    return await _users_page(request, templates, conn, settings, search=q, after=after)


@router.get(USERS_PATH + "/{user_id}")
async def user_detail(
    user_id: UUID,
    request: Request,
    templates: TemplatesDep,
    _: AdminUser,
    conn: ServiceConn,
    runtime: RuntimeDep,
    history: str | None = None,
) -> Response:
    """One account: plan and usage, the credit form, the ledger (`?history=` pages it), its
    newest jobs."""
    return await _user_page(request, templates, conn, runtime, user_id, history=history)


def _return_to(next_url: str, user_id: UUID) -> tuple[str, dict[str, str]]:
    """The page a credit form was on: the users list (with its search and page) or, for
    anything else, the user's own page."""
    parts = urlsplit(next_url)
    if parts.path == USERS_PATH and not parts.scheme and not parts.netloc:
        return USERS_PATH, {k: v for k, v in parse_qsl(parts.query) if k in {"q", "after"}}
    return f"{USERS_PATH}/{user_id}", {}


@router.post(USERS_PATH + "/{user_id}/credits")
async def give_credits(
    user_id: UUID,
    request: Request,
    templates: TemplatesDep,
    admin: AdminUser,
    pool: PoolDep,
    runtime: RuntimeDep,
) -> Response:
    """Give a user generations this month, or take them back (a negative amount), with a reason
    they read: the API's credit adjustment, from a plain form."""
    form = await request.form()
    path, query = _return_to(forms.text(form, "next"), user_id)
    fields = {"amount": forms.text(form, "amount"), "reason": forms.text(form, "reason")}
    try:
        body = forms.parse(CreditAdjustmentCreate, fields, CREDIT_MESSAGES)
        async with as_service(pool) as conn:
            await usage_service.adjust_credits(
                conn,
                runtime.settings,
                user_id=user_id,
                amount=body.amount,
                reason=body.reason,
                adjusted_by=admin.email,
                now=utcnow(),
            )
    except ValidationFailed as error:
        state = forms.rejected(f"credit-{user_id}", form, error)
        async with as_service(pool) as conn:
            await users_service.get_user(conn, user_id=user_id)  # unknown: 404, whatever was typed
            if path == USERS_PATH:
                return await _users_page(
                    request,
                    templates,
                    conn,
                    runtime.settings,
                    search=query.get("q", ""),
                    after=query.get("after"),
                    form=state,
                    status_code=400,
                )
            return await _user_page(
                request, templates, conn, runtime, user_id, form=state, status_code=400
            )
    notice = "credited" if body.amount > 0 else "debited"
    anchor = f"#user-{user_id}" if path == USERS_PATH else "#credits"
    return RedirectResponse(page_url(path, **{**query, "notice": notice}) + anchor, 303)


# ---------- Jobs ----------


@router.get(JOBS_PATH)
async def jobs(
    request: Request,
    templates: TemplatesDep,
    _: AdminUser,
    conn: ServiceConn,
    runtime: RuntimeDep,
    status: str = "all",
    user: UUID | None = None,
    after: str | None = None,
) -> Response:
    """Generation jobs of every user (or of `?user=`), newest first, 20 a page; `?status=` is
    all, running, stuck, failed, canceled or succeeded."""
    context = await _jobs_context(conn, runtime, status=status, owner_id=user, after=after)
    return templates.render(request, "app/admin_jobs.html", context, nav="admin")


async def _jobs_context(
    conn: Conn, runtime: Runtime, *, status: str, owner_id: UUID | None, after: str | None
) -> dict[str, Any]:
    now = utcnow()
    owner = await users_service.get_user(conn, user_id=owner_id) if owner_id else None
    found = await generations_service.list_jobs_of_all(
        conn,
        runtime.settings,
        status=status,
        owner_id=owner_id,
        after=decode_cursor(after),
        limit=PAGE_SIZE + 1,
        now=now,
    )
    page = found[:PAGE_SIZE]
    following = encode_cursor(page[-1].created_at, page[-1].id) if len(found) > PAGE_SIZE else None
    scope: dict[str, str | None] = {
        "status": None if status == "all" else status,
        "user": str(owner_id) if owner_id else None,
    }
    return {
        "jobs": [_job_line(runtime, job, now) for job in page],
        "status": status,
        "filter_name": JOB_FILTERS[status],
        "filters": [
            (key, name, page_url(JOBS_PATH, **{**scope, "status": None if key == "all" else key}))
            for key, name in JOB_FILTERS.items()
        ],
        "owner": owner,
        "everyone_url": page_url(JOBS_PATH, status=scope["status"]),
        "first_url": page_url(JOBS_PATH, **scope) if after else None,
        "next_url": page_url(JOBS_PATH, **scope, after=following) if following else None,
        "stuck_after": _duration(timedelta(seconds=runtime.settings.stuck_after_seconds)),
    }
