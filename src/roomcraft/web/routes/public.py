"""Pages anyone can read: landing, pricing, privacy, terms."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from roomcraft.api.deps import OptionalIdentity, PoolDep, SettingsDep
from roomcraft.db.session import as_user
from roomcraft.users import service as users_service
from roomcraft.web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)


@router.get("/")
async def landing(request: Request, templates: TemplatesDep, _: OptionalIdentity) -> Response:
    return templates.render(request, "public/landing.html", {"examples": []})


@router.get("/pricing")
async def pricing(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    pool: PoolDep,
    identity: OptionalIdentity,
) -> Response:
    """The plans from configuration; signed in, the current one is marked and the others offered."""
    current_plan_key = None
    if identity is not None:
        async with as_user(pool, identity.user_id) as conn:
            profile = await users_service.get_profile(conn, user_id=identity.user_id)
        current_plan_key = users_service.plan_of(settings, profile).key
    context = {
        "plans": settings.plans,
        "current_plan_key": current_plan_key,
        "billing_enabled": settings.billing_enabled,
    }
    return templates.render(request, "public/pricing.html", context, nav="pricing")


@router.get("/privacy")
async def privacy(request: Request, templates: TemplatesDep, _: OptionalIdentity) -> Response:
    return templates.render(request, "public/privacy.html")


@router.get("/terms")
async def terms(request: Request, templates: TemplatesDep, _: OptionalIdentity) -> Response:
    return templates.render(request, "public/terms.html")
