"""Renders of the caller: read one with its variants, delete them (rows now, files after commit)."""

from dataclasses import dataclass
from uuid import UUID

from roomcraft.db.session import Conn, set_identity
from roomcraft.kit.errors import NotFound
from roomcraft.kit.pagination import Cursor
from roomcraft.renders import repository
from roomcraft.renders.repository import (
    CollectionCoverRow,
    RenderCardRow,
    RenderFilters,
    RenderRow,
    VariantRow,
)
from roomcraft.storage.tasks import FileRemover


class RenderNotFound(NotFound):
    """Render not found."""


@dataclass(frozen=True)
class RenderDetail:
    render: RenderRow
    variants: list[VariantRow]


async def get_render(conn: Conn, *, render_id: UUID) -> RenderDetail:
    """A render of the caller with all its variants; another user's is not found."""
    render = await repository.get_render(conn, render_id=render_id)
    if render is None:
        raise RenderNotFound
    return RenderDetail(
        render=render, variants=await repository.list_variants(conn, render_id=render_id)
    )


async def delete_renders(conn: Conn, remover: FileRemover, *, render_ids: list[UUID]) -> int:
    """Delete the caller's renders; returns how many. Their files are removed by the worker
    once the deletion has committed, so a rolled-back deletion never loses a file. The job rows
    stay, for audit; renders that are not the caller's are invisible and not deleted (RLS)."""
    deleted, paths = await repository.delete_renders(conn, render_ids=render_ids)
    if paths:
        # The queue is the service's: users never write it.
        await set_identity(conn, role="service_role")
        await remover.remove_later(conn, bucket="public", paths=paths)
    return deleted


async def delete_render(conn: Conn, remover: FileRemover, *, render_id: UUID) -> None:
    """Delete one render of the caller; another user's (or a missing one) is not found."""
    if await delete_renders(conn, remover, render_ids=[render_id]) == 0:
        raise RenderNotFound


async def list_renders(
    conn: Conn, *, owner_id: UUID, filters: RenderFilters, after: Cursor | None, limit: int
) -> list[RenderCardRow]:
    """The caller's renders as cards, newest first; filters combine."""
    return await repository.list_renders(
        conn, owner_id=owner_id, filters=filters, after=after, limit=limit
    )


async def list_collection_renders(
    conn: Conn, *, owner_id: UUID, collection_id: UUID | None, after: Cursor | None, limit: int
) -> list[RenderCardRow]:
    """Cards of a collection's renders, newest added first; `None` means the favorites."""
    return await repository.list_collection_renders(
        conn, owner_id=owner_id, collection_id=collection_id, after=after, limit=limit
    )


async def list_collection_covers(
    conn: Conn, *, owner_id: UUID, per_collection: int = 3
) -> dict[UUID, list[CollectionCoverRow]]:
    """The covers of each collection's newest renders, by collection (for the Collections page)."""
    covers: dict[UUID, list[CollectionCoverRow]] = {}
    for cover in await repository.list_collection_covers(
        conn, owner_id=owner_id, per_collection=per_collection
    ):
        covers.setdefault(cover.collection_id, []).append(cover)
    return covers


async def ensure_renders_visible(conn: Conn, *, render_ids: list[UUID]) -> None:
    """`RenderNotFound` unless every one of these renders is the caller's."""
    wanted = list(set(render_ids))
    if await repository.count_renders(conn, render_ids=wanted) != len(wanted):
        raise RenderNotFound


async def list_recent_renders_of_all(
    conn: Conn, *, limit: int = 12
) -> list[repository.AdminRenderRow]:
    """Every user's newest renders, for admins; `conn` must be a service-role connection."""
    return await repository.list_recent_renders_of_all(conn, limit=limit)


def _look_of(render: repository.AdminRenderRow) -> dict[str, object]:
    """What "Try this look" reproduces of a render: its mode, room type, style and prompt, and
    its job's aspect ratio, quality and variants (snake_case keys, empty values left out)."""
    look: dict[str, object] = {
        "mode": render.mode,
        "room_type": render.room_type,
        "style": render.style,
        "prompt": render.prompt,
        **{key: render.settings.get(key) for key in ("aspect_ratio", "quality", "variants")},
    }
    return {key: value for key, value in look.items() if value not in (None, "")}


async def get_render_look(conn: Conn, *, render_id: UUID) -> dict[str, object]:
    """The look of any user's render, for admins (service-role `conn`); unknown is not found."""
    render = await repository.get_render_of_any_user(conn, render_id=render_id)
    if render is None:
        raise RenderNotFound
    return _look_of(render)


async def get_cover_of_any_user(conn: Conn, *, render_id: UUID) -> tuple[str, str | None]:
    """The image and thumbnail paths of any user's render's cover, for admins (service-role
    `conn`); an unknown render, or one without its cover, is not found."""
    render = await repository.get_render_of_any_user(conn, render_id=render_id)
    if render is None or render.cover_image_path is None:
        raise RenderNotFound
    return render.cover_image_path, render.cover_thumb_path
