"""The library's pages: My Renders, Favorites, Collections and a collection's page."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from roomcraft.api.deps import CurrentUser
from roomcraft.web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)


@router.get("/renders")
async def renders(request: Request, templates: TemplatesDep, _: CurrentUser) -> Response:
    return templates.render(request, "app/renders.html", nav="renders")


@router.get("/favorites")
async def favorites(request: Request, templates: TemplatesDep, _: CurrentUser) -> Response:
    return templates.render(request, "app/favorites.html", nav="favorites")


@router.get("/collections")
async def collections(request: Request, templates: TemplatesDep, _: CurrentUser) -> Response:
    return templates.render(request, "app/collections.html", nav="collections")
