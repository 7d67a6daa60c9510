"""The signed-in app's own pages: the dashboard and Settings."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from roomcraft.api.deps import (
    CurrentUser,
    ServiceConn,
    SettingsDep,
    UserConn,
)
from roomcraft.auth import service as auth_service
from roomcraft.auth.deps import clear_session_cookie
from roomcraft.auth.schemas import TokenCreate
from roomcraft.web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
async def dashboard(request: Request, templates: TemplatesDep, _: CurrentUser) -> Response:
    return templates.render(request, "app/dashboard.html", nav="dashboard")


async def _settings_page(
    request: Request,
    templates: TemplatesDep,
    conn: UserConn,
    identity: CurrentUser,
    *,
    new_token: Any = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    tokens = await auth_service.list_api_tokens(conn, user_id=identity.user_id)
    context = {"tokens": tokens, "new_token": new_token, "error": error}
    return templates.render(
        request, "app/settings.html", context, nav="settings", status_code=status_code
    )


@router.get("/settings")
async def settings_page(
    request: Request, templates: TemplatesDep, conn: UserConn, identity: CurrentUser
) -> Response:
    return await _settings_page(request, templates, conn, identity)


@router.post("/settings/tokens")
async def create_token(
    request: Request,
    templates: TemplatesDep,
    conn: UserConn,
    identity: CurrentUser,
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
            error="Give the token a name of 1 to 100 characters.",
            status_code=400,
        )
    row, token = await auth_service.create_api_token(conn, user_id=identity.user_id, name=body.name)
    new_token = {"name": row.name, "token": token}
    return await _settings_page(request, templates, conn, identity, new_token=new_token)


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
