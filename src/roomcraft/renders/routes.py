"""`/api/v1/renders`: the caller's render history, one render with its variants, deletion."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from roomcraft.api.deps import CurrentUser, RuntimeDep, UserConn
from roomcraft.api.responses import errors
from roomcraft.kit.envelope import Envelope, ok
from roomcraft.kit.pagination import DEFAULT_LIMIT, Limit, Page, decode_cursor, encode_cursor
from roomcraft.renders import service as renders_service
from roomcraft.renders.repository import RenderCardRow, RenderFilters
from roomcraft.renders.schemas import (
    Mode,
    RenderCardRead,
    RenderDelete,
    RenderRead,
    RendersDeleted,
    VariantRead,
)
from roomcraft.storage.service import Storage
from roomcraft.storage.tasks import FileRemover

router = APIRouter(tags=["renders"])

RoomTypeFilter = Annotated[str | None, Query(alias="roomType", min_length=1, max_length=60)]
StyleFilter = Annotated[str | None, Query(min_length=1, max_length=60)]


def card_page(storage: Storage, rows: list[RenderCardRow], limit: int) -> Page[RenderCardRead]:
    """A page of cards from `limit + 1` rows: the extra row only says that more follow."""
    page = rows[:limit]
    more = len(rows) > limit
    return Page[RenderCardRead](
        items=[RenderCardRead.from_row(row, storage.public_url) for row in page],
        next_cursor=encode_cursor(page[-1].sort_at, page[-1].id) if more else None,
    )


@router.get("/renders", responses=errors(400, 401))
async def list_renders(
    identity: CurrentUser,
    conn: UserConn,
    runtime: RuntimeDep,
    mode: Mode | None = None,
    room_type: RoomTypeFilter = None,
    style: StyleFilter = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Envelope[Page[RenderCardRead]]:
    """The caller's renders, newest first, filtered by mode, room type and style."""
    rows = await renders_service.list_renders(
        conn,
        owner_id=identity.user_id,
        filters=RenderFilters(mode=mode, room_type=room_type, style=style),
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return ok(card_page(runtime.storage, rows, limit))


@router.get("/renders/{render_id}", responses=errors(401, 404))
async def get_render(render_id: UUID, conn: UserConn, runtime: RuntimeDep) -> Envelope[RenderRead]:
    """One of the caller's renders with all its variants."""
    detail = await renders_service.get_render(conn, render_id=render_id)
    render, storage = detail.render, runtime.storage
    variants = [
        VariantRead(
            idx=variant.idx,
            url=storage.public_url(variant.image_path),
            thumb_url=storage.public_url(variant.thumb_path or variant.image_path),
            width=variant.width,
            height=variant.height,
        )
        for variant in detail.variants
    ]
    return ok(
        RenderRead.model_validate(
            {
                "id": render.id,
                "job_id": render.job_id,
                "mode": render.mode,
                "room_type": render.room_type,
                "style": render.style,
                "prompt": render.prompt,
                "provider": render.provider,
                "cover_variant": render.cover_variant,
                "created_at": render.created_at,
                "variants": variants,
            }
        )
    )


@router.delete("/renders/{render_id}", responses=errors(401, 403, 404))
async def delete_render(render_id: UUID, conn: UserConn) -> Envelope[RendersDeleted]:
    """Delete one of the caller's renders: rows now, its files once that has committed."""
    await renders_service.delete_render(conn, FileRemover(), render_id=render_id)
    return ok(RendersDeleted(deleted=1))


@router.post("/renders/delete", responses=errors(400, 401, 403))
async def delete_renders(body: RenderDelete, conn: UserConn) -> Envelope[RendersDeleted]:
    """Delete several of the caller's renders; ids that are not theirs are left alone."""
    deleted = await renders_service.delete_renders(
        conn, FileRemover(), render_ids=list(set(body.render_ids))
    )
    return ok(RendersDeleted(deleted=deleted))
