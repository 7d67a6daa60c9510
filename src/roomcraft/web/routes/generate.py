"""The Generate page and the render detail page."""

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from roomcraft.api.deps import CurrentUser, RuntimeDep, UserConn
from roomcraft.generations import service as generations_service
from roomcraft.kit.time import utcnow
from roomcraft.renders import service as renders_service
from roomcraft.storage.tasks import FileRemover
from roomcraft.usage import service as usage_service
from roomcraft.web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)


@router.get("/generate")
async def generate(
    request: Request,
    templates: TemplatesDep,
    identity: CurrentUser,
    conn: UserConn,
    runtime: RuntimeDep,
) -> Response:
    usage = await usage_service.get_usage(
        conn, runtime.settings, user_id=identity.user_id, now=utcnow()
    )
    in_flight = await generations_service.get_job_in_flight(
        conn, runtime.settings, user_id=identity.user_id
    )
    context = {
        "presets": runtime.presets,
        "usage": {
            "remaining": usage.remaining,
            "monthly_limit": usage.plan.monthly_generations,
            "plan_name": usage.plan.name,
            "resets_at": usage.resets_at,
        },
        "max_variants": usage.plan.max_variants,
        "prefill": generations_service.prefill(runtime.presets, request.query_params),
        "in_flight": {"id": str(in_flight)} if in_flight else None,
        "provider": runtime.settings.provider,
    }
    return templates.render(request, "app/generate.html", context, nav="generate")


@router.get("/renders/{render_id}")
async def render_detail(
    render_id: UUID,
    request: Request,
    templates: TemplatesDep,
    conn: UserConn,
    runtime: RuntimeDep,
    variant: int = 0,
) -> Response:
    detail = await renders_service.get_render(conn, render_id=render_id)
    render = detail.render
    room_type = runtime.presets.room_type(render.room_type or "")
    style = runtime.presets.style(render.style or "")
    storage = runtime.storage
    context = {
        "render": {
            "id": render.id,
            "mode": render.mode,
            "room_type_name": room_type.name if room_type else render.room_type,
            "style_name": style.name if style else render.style,
            "prompt": render.prompt,
            "created_at": render.created_at,
            "provider": render.provider,
            "is_favorited": render.is_favorited,
            "collection_ids": render.collection_ids,
            "variants": [
                {
                    "idx": v.idx,
                    "url": storage.public_url(v.image_path),
                    "thumb_url": storage.public_url(v.thumb_path or v.image_path),
                    "width": v.width,
                    "height": v.height,
                }
                for v in detail.variants
            ],
            "input_url": (
                await storage.signed_url(render.input1_path) if render.input1_path else None
            ),
        },
        "selected": variant if any(v.idx == variant for v in detail.variants) else 0,
    }
    return templates.render(request, "app/render.html", context, nav="renders")


@router.post("/renders/{render_id}/delete")
async def delete_render(render_id: UUID, conn: UserConn, _: CurrentUser) -> Response:
    await renders_service.delete_render(conn, FileRemover(), render_id=render_id)
    return RedirectResponse("/renders", status_code=303)
