"""Collections and favorites of the caller. Favorites are the default collection, so a heart is
an item toggle there (or, from a form, an item set); the default can be neither renamed nor
deleted."""

from uuid import UUID

from roomcraft.collections import repository
from roomcraft.collections.errors import CollectionNotFound, DefaultCollectionLocked
from roomcraft.collections.repository import CollectionRow
from roomcraft.db.session import Conn
from roomcraft.kit.pagination import Cursor
from roomcraft.renders import service as renders_service
from roomcraft.renders.repository import RenderCardRow
from roomcraft.renders.service import RenderNotFound


async def list_collections(conn: Conn, *, owner_id: UUID) -> list[CollectionRow]:
    """The caller's collections with item counts, "My Favorites" first."""
    return await repository.list_collections(conn, owner_id=owner_id)


async def _get_own(conn: Conn, *, collection_id: UUID) -> CollectionRow:
    collection = await repository.get_collection(conn, collection_id=collection_id)
    if collection is None:
        raise CollectionNotFound
    return collection


async def upsert_collection(
    conn: Conn, *, owner_id: UUID, collection_id: UUID | None, name: str
) -> CollectionRow:
    """Create a collection, or rename one of the caller's (never the default)."""
    if collection_id is None:
        return await repository.insert_collection(conn, owner_id=owner_id, name=name)
    if (await _get_own(conn, collection_id=collection_id)).is_default_favorites:
        raise DefaultCollectionLocked
    renamed = await repository.update_collection_name(conn, collection_id=collection_id, name=name)
    if renamed is None:
        raise CollectionNotFound
    return renamed


async def delete_collection(conn: Conn, *, collection_id: UUID) -> None:
    """Delete one of the caller's collections (not the default): items go, renders stay."""
    if (await _get_own(conn, collection_id=collection_id)).is_default_favorites:
        raise DefaultCollectionLocked
    if not await repository.delete_collection(conn, collection_id=collection_id):
        raise CollectionNotFound


async def toggle_item(conn: Conn, *, owner_id: UUID, collection_id: UUID, render_id: UUID) -> bool:
    """Put the render in the collection or take it out; returns whether it is in now.
    Concurrent toggles of one render apply one after the other, so N of them flip N times."""
    await repository.lock_render_items(conn, render_id=render_id)
    outcome = await repository.toggle_item(
        conn, owner_id=owner_id, collection_id=collection_id, render_id=render_id
    )
    if not outcome.found:
        await _get_own(conn, collection_id=collection_id)
        raise RenderNotFound
    return outcome.in_collection


async def _set_item(
    conn: Conn, *, owner_id: UUID, collection_id: UUID, render_id: UUID, inside: bool
) -> bool:
    """Put the render in the caller's collection (`inside`) or take it out, whatever it was
    before, so a repeated request changes nothing; returns whether this one changed anything.
    Taking the toggles' lock first keeps a toggle that runs meanwhile from missing this change."""
    await renders_service.ensure_renders_visible(conn, render_ids=[render_id])
    await repository.lock_render_items(conn, render_id=render_id)
    if inside:
        joined = await repository.insert_items(
            conn, owner_id=owner_id, collection_id=collection_id, render_ids=[render_id]
        )
        return joined > 0
    return await repository.delete_item(conn, collection_id=collection_id, render_id=render_id)


async def remove_item(conn: Conn, *, owner_id: UUID, collection_id: UUID, render_id: UUID) -> bool:
    """Take one of the caller's renders out of one of their collections (a no-op when it is not
    in it); returns whether it was. The render stays in My Renders."""
    await _get_own(conn, collection_id=collection_id)
    return await _set_item(
        conn, owner_id=owner_id, collection_id=collection_id, render_id=render_id, inside=False
    )


async def _favorites_id(conn: Conn, *, owner_id: UUID) -> UUID:
    favorites_id = await repository.get_favorites_id(conn, owner_id=owner_id)
    if favorites_id is None:  # every profile gets one by trigger; a missing one is a bug
        raise CollectionNotFound
    return favorites_id


async def toggle_favorite(conn: Conn, *, owner_id: UUID, render_id: UUID) -> bool:
    """Favorite or unfavorite one of the caller's renders; returns whether it is a favorite."""
    favorites_id = await _favorites_id(conn, owner_id=owner_id)
    return await toggle_item(
        conn, owner_id=owner_id, collection_id=favorites_id, render_id=render_id
    )


async def set_favorite(conn: Conn, *, owner_id: UUID, render_id: UUID, favorited: bool) -> bool:
    """Make one of the caller's renders a favorite or not, whatever it was, so a form posted
    twice cannot flip it back; returns whether this call changed anything."""
    favorites_id = await _favorites_id(conn, owner_id=owner_id)
    return await _set_item(
        conn, owner_id=owner_id, collection_id=favorites_id, render_id=render_id, inside=favorited
    )


async def add_items(
    conn: Conn, *, owner_id: UUID, collection_id: UUID, render_ids: list[UUID]
) -> int:
    """Add several of the caller's renders to one of their collections; repeats are no-ops.
    Returns how many joined. Any render that is not the caller's makes it a 404."""
    await _get_own(conn, collection_id=collection_id)
    await renders_service.ensure_renders_visible(conn, render_ids=render_ids)
    return await repository.insert_items(
        conn, owner_id=owner_id, collection_id=collection_id, render_ids=list(set(render_ids))
    )


async def list_items(
    conn: Conn, *, owner_id: UUID, collection_id: UUID, after: Cursor | None, limit: int
) -> list[RenderCardRow]:
    """A collection's renders as cards, newest added first."""
    await _get_own(conn, collection_id=collection_id)
    return await renders_service.list_collection_renders(
        conn, owner_id=owner_id, collection_id=collection_id, after=after, limit=limit
    )


async def list_favorites(
    conn: Conn, *, owner_id: UUID, after: Cursor | None, limit: int
) -> list[RenderCardRow]:
    """The caller's favorites as cards, newest favorited first (one query per page)."""
    return await renders_service.list_collection_renders(
        conn, owner_id=owner_id, collection_id=None, after=after, limit=limit
    )
