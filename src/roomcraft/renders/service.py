"""Renders of the caller: read one with its variants, delete them (rows now, files after commit)."""

from dataclasses import dataclass
from uuid import UUID

from roomcraft.db.session import Conn, set_identity
from roomcraft.kit.errors import NotFound
from roomcraft.renders import repository
from roomcraft.renders.repository import RenderRow, VariantRow
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
