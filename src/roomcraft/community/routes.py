"""`/api/v1/community` (public) and `/api/v1/admin/community` (admins, as the service role)."""

from uuid import UUID

from fastapi import APIRouter, Response

from roomcraft.api.deps import AdminUser, AnonConn, RuntimeDep, ServiceConn
from roomcraft.api.responses import errors
from roomcraft.community import service as community_service
from roomcraft.community.repository import ItemRow
from roomcraft.community.schemas import (
    ApplySettings,
    CommunityCollectionCreate,
    CommunityCollectionRead,
    CommunityCollectionReorder,
    CommunityCollectionUpdate,
    CommunityItemCreate,
    CommunityItemRead,
    CommunityItemUpdate,
    CommunityRead,
)
from roomcraft.community.service import CollectionView
from roomcraft.kit.envelope import Envelope, ok
from roomcraft.storage.service import Storage
from roomcraft.storage.tasks import FileRemover

PUBLIC_CACHE = "public, max-age=60"

router = APIRouter(tags=["community"])
admin_router = APIRouter(prefix="/admin/community", tags=["admin"])
_remover = FileRemover()


def _item_read(item: ItemRow, storage: Storage) -> CommunityItemRead:
    return CommunityItemRead(
        id=item.id,
        title=item.title,
        image_url=storage.public_url(item.image_path) if item.image_path else None,
        thumb_url=storage.public_url(item.thumb_path) if item.thumb_path else None,
        apply_settings=ApplySettings.model_validate(item.apply_settings),
        try_url=community_service.try_url(item.apply_settings),
    )


def _collection_read(view: CollectionView, storage: Storage) -> CommunityCollectionRead:
    collection = view.collection
    return CommunityCollectionRead(
        id=collection.id,
        title=collection.title,
        description=collection.description,
        is_featured=collection.is_featured,
        order_index=collection.order_index,
        items=[_item_read(item, storage) for item in view.items],
    )


@router.get("/community")
async def get_community(
    conn: AnonConn, runtime: RuntimeDep, response: Response
) -> Envelope[CommunityRead]:
    """The community gallery: featured collections first, then by order, then newest."""
    views = await community_service.list_gallery(conn)
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return ok(CommunityRead(collections=[_collection_read(v, runtime.storage) for v in views]))


@router.get("/community/{collection_id}", responses=errors(404))
async def get_community_collection(
    collection_id: UUID, conn: AnonConn, runtime: RuntimeDep, response: Response
) -> Envelope[CommunityCollectionRead]:
    """One community collection with its items."""
    view = await community_service.get_collection(conn, collection_id=collection_id)
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return ok(_collection_read(view, runtime.storage))


@admin_router.post("/collections", responses=errors(400, 401, 403))
async def create_collection(
    body: CommunityCollectionCreate, admin: AdminUser, conn: ServiceConn, runtime: RuntimeDep
) -> Envelope[CommunityCollectionRead]:
    """Create a community collection."""
    view = await community_service.create_collection(conn, body=body)
    return ok(_collection_read(view, runtime.storage))


@admin_router.post("/collections/reorder", responses=errors(400, 401, 403, 404))
async def reorder_collections(
    body: CommunityCollectionReorder, admin: AdminUser, conn: ServiceConn, runtime: RuntimeDep
) -> Envelope[CommunityRead]:
    """Order the listed collections by their position in `ids`."""
    views = await community_service.reorder_collections(conn, ids=body.ids)
    return ok(CommunityRead(collections=[_collection_read(v, runtime.storage) for v in views]))


@admin_router.patch("/collections/{collection_id}", responses=errors(400, 401, 403, 404))
async def update_collection(
    collection_id: UUID,
    body: CommunityCollectionUpdate,
    admin: AdminUser,
    conn: ServiceConn,
    runtime: RuntimeDep,
) -> Envelope[CommunityCollectionRead]:
    """Edit a collection's title, description, featured flag or order."""
    view = await community_service.update_collection(conn, collection_id=collection_id, body=body)
    return ok(_collection_read(view, runtime.storage))


@admin_router.delete("/collections/{collection_id}", responses=errors(401, 403, 404))
async def delete_collection(
    collection_id: UUID, admin: AdminUser, conn: ServiceConn
) -> Envelope[None]:
    """Remove a collection and its items."""
    await community_service.delete_collection(conn, _remover, collection_id=collection_id)
    return ok(None)


@admin_router.post("/items", responses=errors(400, 401, 403, 404, 415))
async def create_item(
    body: CommunityItemCreate, admin: AdminUser, conn: ServiceConn, runtime: RuntimeDep
) -> Envelope[CommunityItemRead]:
    """Add a render of any user, or an external image fetched once into our storage."""
    item = await community_service.create_item(conn, runtime, body=body)
    return ok(_item_read(item, runtime.storage))


@admin_router.patch("/items/{item_id}", responses=errors(400, 401, 403, 404))
async def update_item(
    item_id: UUID,
    body: CommunityItemUpdate,
    admin: AdminUser,
    conn: ServiceConn,
    runtime: RuntimeDep,
) -> Envelope[CommunityItemRead]:
    """Edit an item's title, settings or order."""
    item = await community_service.update_item(conn, runtime.presets, item_id=item_id, body=body)
    return ok(_item_read(item, runtime.storage))


@admin_router.delete("/items/{item_id}", responses=errors(401, 403, 404))
async def delete_item(item_id: UUID, admin: AdminUser, conn: ServiceConn) -> Envelope[None]:
    """Remove an item from its collection."""
    await community_service.delete_item(conn, _remover, item_id=item_id)
    return ok(None)


# Included last, so the admin routes above are all registered.
router.include_router(admin_router)
