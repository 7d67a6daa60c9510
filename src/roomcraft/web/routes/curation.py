"""The admins' curation pages of the community gallery.

Curation works without JavaScript: plain forms post here (the CSRF token as a hidden field), each
write runs in its own service-role transaction through `community.service` and answers with a
redirect (303) back to its page; a rejected form leaves its transaction (rolled back) and is shown
again with its messages inline (400), the page read in a transaction of its own.
"""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from roomcraft.api.deps import AdminUser, PoolDep, RuntimeDep
from roomcraft.community import service as community_service
from roomcraft.community.schemas import (
    ApplySettings,
    CommunityCollectionCreate,
    CommunityCollectionUpdate,
    CommunityItemCreate,
    CommunityItemUpdate,
)
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service
from roomcraft.kit.errors import UnsupportedMediaType, ValidationFailed
from roomcraft.renders import service as renders_service
from roomcraft.runtime import Runtime
from roomcraft.storage.tasks import FileRemover
from roomcraft.web import forms
from roomcraft.web.deps import TemplatesDep
from roomcraft.web.forms import FormState
from roomcraft.web.routes import admin as admin_pages
from roomcraft.web.routes.community import MODES, look_summary, shelves

router = APIRouter(include_in_schema=False)

LOOK_FIELDS = ("mode", "room_type", "style", "prompt", "aspect_ratio", "quality", "variants")
RECENT_RENDERS = 12
NOTICES = {
    "created": "Collection created. Add its first looks below.",
    "saved": "Changes saved.",
    "deleted": "Collection deleted.",
    "item-added": "Look added to the collection.",
    "item-saved": "Look updated.",
    "item-removed": "Look removed from the collection.",
    "render-added": "Render added to the collection. Give it a title or adjust its look below.",
}
FIELD_MESSAGES = {
    "title": "Give it a title of 1 to 120 characters.",
    "description": "Keep the description to 1,000 characters.",
    "mode": "Choose one of the four modes.",
    "room_type": "Choose a room type from the list.",
    "style": "Choose a style from the list.",
    "prompt": "Keep the prompt to 800 characters.",
    "aspect_ratio": "Choose an aspect ratio from the list.",
    "quality": "Choose low, medium or high quality.",
    "variants": "Choose 1 to 4 variants.",
    "external_image_url": "Give the web address of a JPEG, PNG or WebP image.",
    "render_id": "Give a render's id: 36 characters like 1b4e28ba-2fa1-11d2-883f-0016d3cca427.",
    "collection_id": "Choose a collection.",
}


async def _admin_page(
    request: Request,
    templates: TemplatesDep,
    runtime: Runtime,
    pool: Pool,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    async with as_service(pool) as conn:
        renders = await renders_service.list_recent_renders_of_all(conn, limit=RECENT_RENDERS)
        gallery = await community_service.list_gallery(conn)
        overview = await admin_pages.overview(conn, runtime.settings)
    cover = [render.cover_thumb_path or render.cover_image_path for render in renders]
    context = {
        "shelves": shelves(gallery, runtime, signed_in=True),
        "renders": [
            {
                "render": render,
                "thumb_url": runtime.storage.public_url(path) if path else None,
                "summary": look_summary(runtime, render.style, render.room_type)[2] or "Render",
                "mode": MODES.get(render.mode, render.mode),
            }
            for render, path in zip(renders, cover, strict=True)
        ],
        "form": form,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        **overview,
    }
    return templates.render(
        request, "app/admin.html", context, nav="admin", status_code=status_code
    )


async def _collection_page(
    request: Request,
    templates: TemplatesDep,
    runtime: Runtime,
    pool: Pool,
    collection_id: UUID,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    async with as_service(pool) as conn:
        view = await community_service.get_collection(conn, collection_id=collection_id)
    context = {
        **shelves([view], runtime, signed_in=True)[0],
        "presets": runtime.presets,
        "modes": MODES,
        "form": form,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    }
    return templates.render(
        request, "app/admin_collection.html", context, nav="admin", status_code=status_code
    )


@router.get("/admin")
async def admin(
    request: Request, templates: TemplatesDep, _: AdminUser, pool: PoolDep, runtime: RuntimeDep
) -> Response:
    return await _admin_page(request, templates, runtime, pool)


@router.get("/admin/community/{collection_id}")
async def admin_collection(
    collection_id: UUID,
    request: Request,
    templates: TemplatesDep,
    _: AdminUser,
    pool: PoolDep,
    runtime: RuntimeDep,
) -> Response:
    return await _collection_page(request, templates, runtime, pool, collection_id)


# ---------- Admin forms ----------


def _collection_fields(form: FormData) -> dict[str, Any]:
    return {
        "title": forms.text(form, "title"),
        "description": forms.text(form, "description"),
        "is_featured": forms.text(form, "featured") == "true",
    }


def _look_settings(form: FormData) -> ApplySettings:
    values = {name: forms.text(form, name) for name in LOOK_FIELDS}
    given = {name: value for name, value in values.items() if value}
    return forms.parse(ApplySettings, given, FIELD_MESSAGES)


@router.post("/admin/community")
async def create_collection(
    request: Request, templates: TemplatesDep, _: AdminUser, pool: PoolDep, runtime: RuntimeDep
) -> Response:
    form = await request.form()
    try:
        body = forms.parse(CommunityCollectionCreate, _collection_fields(form), FIELD_MESSAGES)
        async with as_service(pool) as conn:
            view = await community_service.create_collection(conn, body=body)
    except ValidationFailed as error:
        state = forms.rejected("new-collection", form, error)
        return await _admin_page(request, templates, runtime, pool, state, 400)
    return RedirectResponse(f"/admin/community/{view.collection.id}?notice=created", 303)


@router.post("/admin/community/{collection_id}")
async def edit_collection(
    collection_id: UUID,
    request: Request,
    templates: TemplatesDep,
    _: AdminUser,
    pool: PoolDep,
    runtime: RuntimeDep,
) -> Response:
    form = await request.form()
    try:
        body = forms.parse(CommunityCollectionUpdate, _collection_fields(form), FIELD_MESSAGES)
        async with as_service(pool) as conn:
            await community_service.update_collection(conn, collection_id=collection_id, body=body)
    except ValidationFailed as error:
        state = forms.rejected("edit-collection", form, error)
        return await _collection_page(request, templates, runtime, pool, collection_id, state, 400)
    return RedirectResponse(f"/admin/community/{collection_id}?notice=saved", 303)


@router.post("/admin/community/{collection_id}/feature")
async def feature_collection(
    collection_id: UUID, request: Request, _: AdminUser, pool: PoolDep
) -> Response:
    body = CommunityCollectionUpdate(
        is_featured=forms.text(await request.form(), "featured") == "true"
    )
    async with as_service(pool) as conn:
        await community_service.update_collection(conn, collection_id=collection_id, body=body)
    return RedirectResponse("/admin?notice=saved#community-collections", 303)


@router.post("/admin/community/{collection_id}/move")
async def move_collection(
    collection_id: UUID, request: Request, _: AdminUser, pool: PoolDep
) -> Response:
    """One place up or down among the collections of its kind (featured ones are listed first)."""
    step = -1 if forms.text(await request.form(), "direction") == "up" else 1
    async with as_service(pool) as conn:
        await community_service.move_collection(conn, collection_id=collection_id, step=step)
    return RedirectResponse("/admin#community-collections", 303)


@router.post("/admin/community/{collection_id}/delete")
async def delete_collection(collection_id: UUID, _: AdminUser, pool: PoolDep) -> Response:
    async with as_service(pool) as conn:
        await community_service.delete_collection(conn, FileRemover(), collection_id=collection_id)
    return RedirectResponse("/admin?notice=deleted#community-collections", 303)


@router.post("/admin/community/{collection_id}/items")
async def add_item(
    collection_id: UUID,
    request: Request,
    templates: TemplatesDep,
    _: AdminUser,
    pool: PoolDep,
    runtime: RuntimeDep,
) -> Response:
    """A look from an image on the web (fetched once into our storage) or from a render's id."""
    form = await request.form()
    source = "render_id" if forms.text(form, "source") == "render" else "external_image_url"
    async with as_service(pool) as conn:
        await community_service.get_collection(conn, collection_id=collection_id)
    try:
        if not forms.text(form, source):
            raise forms.field_error(source, FIELD_MESSAGES[source])
        fields = {
            "collection_id": collection_id,
            source: forms.text(form, source),
            "title": forms.text(form, "title") or None,
            "apply_settings": _look_settings(form),
        }
        body = forms.parse(CommunityItemCreate, fields, FIELD_MESSAGES)
        async with as_service(pool) as conn:
            await community_service.create_item(conn, runtime, body=body)
    except (ValidationFailed, UnsupportedMediaType, renders_service.RenderNotFound) as error:
        if isinstance(error, renders_service.RenderNotFound):
            error = forms.field_error("render_id", "No render has this id.")
        state = forms.rejected("new-item", form, error)
        return await _collection_page(request, templates, runtime, pool, collection_id, state, 400)
    return RedirectResponse(f"/admin/community/{collection_id}?notice=item-added", 303)


@router.post("/admin/community/{collection_id}/items/{item_id}")
async def edit_item(
    collection_id: UUID,
    item_id: UUID,
    request: Request,
    templates: TemplatesDep,
    _: AdminUser,
    pool: PoolDep,
    runtime: RuntimeDep,
) -> Response:
    form = await request.form()
    try:
        fields = {
            "title": forms.text(form, "title") or None,
            "apply_settings": _look_settings(form),
        }
        body = forms.parse(CommunityItemUpdate, fields, FIELD_MESSAGES)
        async with as_service(pool) as conn:
            await community_service.update_item(conn, runtime.presets, item_id=item_id, body=body)
    except ValidationFailed as error:
        state = forms.rejected(f"item-{item_id}", form, error)
        return await _collection_page(request, templates, runtime, pool, collection_id, state, 400)
    return RedirectResponse(
        f"/admin/community/{collection_id}?notice=item-saved#item-{item_id}", 303
    )


@router.post("/admin/community/{collection_id}/items/{item_id}/delete")
async def remove_item(collection_id: UUID, item_id: UUID, _: AdminUser, pool: PoolDep) -> Response:
    async with as_service(pool) as conn:
        await community_service.delete_item(conn, FileRemover(), item_id=item_id)
    return RedirectResponse(f"/admin/community/{collection_id}?notice=item-removed", 303)


@router.post("/admin/renders/{render_id}/community")
async def add_render(
    render_id: UUID,
    request: Request,
    templates: TemplatesDep,
    _: AdminUser,
    pool: PoolDep,
    runtime: RuntimeDep,
) -> Response:
    """ "Add to community": the render's cover in a collection, its own settings as the look."""
    form = await request.form()
    try:
        async with as_service(pool) as conn:
            look = await renders_service.get_render_look(conn, render_id=render_id)
            fields = {
                "collection_id": forms.text(form, "collection_id") or None,
                "render_id": render_id,
                "apply_settings": look,
            }
            body = forms.parse(CommunityItemCreate, fields, FIELD_MESSAGES)
            item = await community_service.create_item(conn, runtime, body=body)
    except ValidationFailed as error:
        state = forms.rejected(f"render-{render_id}", form, error)
        return await _admin_page(request, templates, runtime, pool, state, 400)
    return RedirectResponse(
        f"/admin/community/{item.collection_id}?notice=render-added#item-{item.id}", 303
    )
