"""The public Community pages: the featured collections first, each look with "Try this look"."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from roomcraft.api.deps import AnonConn, OptionalIdentity, RuntimeDep
from roomcraft.community import service as community_service
from roomcraft.community.repository import ItemRow
from roomcraft.community.service import CollectionView
from roomcraft.runtime import Runtime
from roomcraft.web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)

MODES = {"redesign": "Redesign", "staging": "Staging", "compose": "Compose", "imagine": "Imagine"}


@dataclass(frozen=True)
class Look:
    """A community item as a card: its image, what it is, and where "Try this look" goes."""

    id: UUID
    title: str
    custom_title: str | None
    summary: str
    image_url: str | None
    thumb_url: str | None
    mode: str
    room_type: str | None
    style: str | None
    prompt: str | None
    try_url: str
    settings: dict[str, Any]
    render_id: UUID | None
    external_image_url: str | None


def look_summary(
    runtime: Runtime, style_key: str | None, room_key: str | None
) -> tuple[str, str, str]:
    """The style's name, the room type's name and both as "Scandinavian living room" (each
    empty when unknown)."""
    style = runtime.presets.style(style_key or "")
    room = runtime.presets.room_type(room_key or "")
    style_name, room_name = (style.name if style else ""), (room.name if room else "")
    return style_name, room_name, f"{style_name} {room_name.lower()}".strip()


def _look(item: ItemRow, runtime: Runtime, *, signed_in: bool) -> Look:
    settings, storage = item.apply_settings, runtime.storage
    style, room, summary = look_summary(runtime, settings.get("style"), settings.get("room_type"))
    try_url = community_service.try_url(settings)
    thumb_path = item.thumb_path or item.image_path
    return Look(
        id=item.id,
        title=item.title or summary or "Community look",
        custom_title=item.title,
        summary=summary,
        image_url=storage.public_url(item.image_path) if item.image_path else None,
        thumb_url=storage.public_url(thumb_path) if thumb_path else None,
        mode=MODES.get(settings.get("mode", ""), "Redesign"),
        room_type=room or None,
        style=style or None,
        prompt=settings.get("prompt"),
        # Signed out, sign-in comes first and then lands on the prefilled generator.
        try_url=try_url if signed_in else f"/signin?next={quote(try_url, safe='')}",
        settings=settings,
        render_id=item.render_id,
        external_image_url=item.external_image_url,
    )


def shelves(
    views: list[CollectionView], runtime: Runtime, *, signed_in: bool
) -> list[dict[str, Any]]:
    return [
        {
            "collection": view.collection,
            "looks": [_look(item, runtime, signed_in=signed_in) for item in view.items],
        }
        for view in views
    ]


@router.get("/community")
async def community(
    request: Request,
    templates: TemplatesDep,
    identity: OptionalIdentity,
    conn: AnonConn,
    runtime: RuntimeDep,
) -> Response:
    views = await community_service.list_gallery(conn)
    context = {"shelves": shelves(views, runtime, signed_in=identity is not None)}
    return templates.render(request, "app/community.html", context, nav="community")


@router.get("/community/{collection_id}")
async def community_collection(
    collection_id: UUID,
    request: Request,
    templates: TemplatesDep,
    identity: OptionalIdentity,
    conn: AnonConn,
    runtime: RuntimeDep,
) -> Response:
    view = await community_service.get_collection(conn, collection_id=collection_id)
    [shelf] = shelves([view], runtime, signed_in=identity is not None)
    return templates.render(request, "app/community_collection.html", shelf, nav="community")
