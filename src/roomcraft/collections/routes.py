"""`/api/v1/collections` and `/api/v1/favorites` (the default collection)."""

from uuid import UUID

from fastapi import APIRouter

from roomcraft.api.deps import CurrentUser, RuntimeDep, UserConn
from roomcraft.api.responses import errors
from roomcraft.collections import service as collections_service
from roomcraft.collections.repository import CollectionRow
from roomcraft.collections.schemas import (
    CollectionDelete,
    CollectionDeleted,
    CollectionList,
    CollectionRead,
    CollectionUpsert,
    FavoriteState,
    FavoriteToggle,
    ItemsAdd,
    ItemsAdded,
    ItemState,
    ItemToggle,
)
from roomcraft.kit.envelope import Envelope, ok
from roomcraft.kit.pagination import DEFAULT_LIMIT, Limit, Page, decode_cursor
from roomcraft.renders.routes import card_page
from roomcraft.renders.schemas import RenderCardRead

router = APIRouter(tags=["collections"])


def collection_read(collection: CollectionRow) -> CollectionRead:
    return CollectionRead(
        id=collection.id,
        name=collection.name,
        items_count=collection.items_count,
        is_default_favorites=collection.is_default_favorites,
        created_at=collection.created_at,
    )


@router.post("/favorites/toggle", responses=errors(400, 401, 403, 404))
async def toggle_favorite(
    body: FavoriteToggle, identity: CurrentUser, conn: UserConn
) -> Envelope[FavoriteState]:
    """Favorite or unfavorite one of the caller's renders."""
    favorited = await collections_service.toggle_favorite(
        conn, owner_id=identity.user_id, render_id=body.render_id
    )
    return ok(FavoriteState(is_favorited=favorited))


@router.get("/favorites/list", responses=errors(400, 401))
async def list_favorites(
    identity: CurrentUser,
    conn: UserConn,
    runtime: RuntimeDep,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Envelope[Page[RenderCardRead]]:
    """The caller's favorites as render cards, newest favorited first."""
    rows = await collections_service.list_favorites(
        conn, owner_id=identity.user_id, after=decode_cursor(cursor), limit=limit + 1
    )
    return ok(card_page(runtime.storage, rows, limit))


@router.get("/collections", responses=errors(401))
async def list_collections(identity: CurrentUser, conn: UserConn) -> Envelope[CollectionList]:
    """The caller's collections with their item counts, "My Favorites" first."""
    collections = await collections_service.list_collections(conn, owner_id=identity.user_id)
    return ok(CollectionList(collections=[collection_read(c) for c in collections]))


@router.post("/collections/upsert", responses=errors(400, 401, 403, 404, 409))
async def upsert_collection(
    body: CollectionUpsert, identity: CurrentUser, conn: UserConn
) -> Envelope[CollectionRead]:
    """Create a collection (no id) or rename one (with its id); the default keeps its name."""
    collection = await collections_service.upsert_collection(
        conn, owner_id=identity.user_id, collection_id=body.id, name=body.name
    )
    return ok(collection_read(collection))


@router.post("/collections/delete", responses=errors(400, 401, 403, 404, 409))
async def delete_collection(
    body: CollectionDelete, conn: UserConn, _: CurrentUser
) -> Envelope[CollectionDeleted]:
    """Delete a collection and its items; the renders stay, and the default cannot go."""
    await collections_service.delete_collection(conn, collection_id=body.id)
    return ok(CollectionDeleted(deleted=True))


@router.post("/collections/items/toggle", responses=errors(400, 401, 403, 404))
async def toggle_item(
    body: ItemToggle, identity: CurrentUser, conn: UserConn
) -> Envelope[ItemState]:
    """Put one of the caller's renders in one of their collections, or take it out."""
    in_collection = await collections_service.toggle_item(
        conn, owner_id=identity.user_id, collection_id=body.collection_id, render_id=body.render_id
    )
    return ok(ItemState(in_collection=in_collection))


@router.post("/collections/items/add", responses=errors(400, 401, 403, 404))
async def add_items(body: ItemsAdd, identity: CurrentUser, conn: UserConn) -> Envelope[ItemsAdded]:
    """Add several of the caller's renders to a collection; ones already in it are kept."""
    added = await collections_service.add_items(
        conn,
        owner_id=identity.user_id,
        collection_id=body.collection_id,
        render_ids=body.render_ids,
    )
    return ok(ItemsAdded(added=added))


@router.get("/collections/{collection_id}/items", responses=errors(400, 401, 404))
async def list_items(
    collection_id: UUID,
    identity: CurrentUser,
    conn: UserConn,
    runtime: RuntimeDep,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Envelope[Page[RenderCardRead]]:
    """A collection's renders as cards, newest added first."""
    rows = await collections_service.list_items(
        conn,
        owner_id=identity.user_id,
        collection_id=collection_id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return ok(card_page(runtime.storage, rows, limit))
