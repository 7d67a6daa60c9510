"""The public Community page and the admins' curation pages."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from roomcraft.api.deps import AdminUser, OptionalIdentity
from roomcraft.web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)


@router.get("/community")
async def community(request: Request, templates: TemplatesDep, _: OptionalIdentity) -> Response:
    return templates.render(request, "app/community.html", nav="community")


@router.get("/admin")
async def admin(request: Request, templates: TemplatesDep, _: AdminUser) -> Response:
    return templates.render(request, "app/admin.html", nav="admin")
