"""The community gallery: public reads, admin curation and the YAML import.

Writes run as the service role (the tables have no write policies); the routes let only admins
reach them. An item shows an internal render's cover (its paths are copied, nothing else of its
owner) or an image fetched once from an allow-listed host into public storage, never hot-linked.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from pydantic import ValidationError

from roomcraft.community import repository
from roomcraft.community.errors import (
    CommunityCollectionNotFound,
    CommunityItemNotFound,
)
from roomcraft.community.import_document import GalleryDocument, GalleryItem
from roomcraft.community.repository import CollectionRow, ItemRow
from roomcraft.community.schemas import (
    ApplySettings,
    CommunityCollectionCreate,
    CommunityCollectionUpdate,
    CommunityItemCreate,
    CommunityItemUpdate,
)
from roomcraft.db.session import Conn
from roomcraft.generations.downloads import DownloadRefused, download, host_allowed
from roomcraft.generations.presets import Presets
from roomcraft.kit.errors import ValidationFailed
from roomcraft.kit.images import reencode_output, thumbnail_webp
from roomcraft.renders import service as renders_service
from roomcraft.runtime import Runtime
from roomcraft.storage.service import Storage
from roomcraft.storage.tasks import FileRemover

GENERATE_PATH = "/generate"


@dataclass(frozen=True)
class CollectionView:
    collection: CollectionRow
    items: list[ItemRow]


@dataclass(frozen=True)
class ImportSummary:
    collections_created: int
    items_created: int


def check_settings(presets: Presets, settings: ApplySettings) -> dict[str, Any]:
    """The settings as stored (snake_case, no empty keys), checked against the presets."""
    if settings.room_type is not None and presets.room_type(settings.room_type) is None:
        raise ValidationFailed(f"Unknown room type {settings.room_type!r}.")
    if settings.style is not None and presets.style(settings.style) is None:
        raise ValidationFailed(f"Unknown style {settings.style!r}.")
    if settings.aspect_ratio is not None and settings.aspect_ratio not in presets.aspect_ratios:
        raise ValidationFailed(f"Unknown aspect ratio {settings.aspect_ratio!r}.")
    if settings.quality is not None and settings.quality not in presets.qualities:
        raise ValidationFailed(f"Unknown quality {settings.quality!r}.")
    return settings.model_dump(exclude_none=True)


def try_url(settings: dict[str, Any]) -> str:
    """The Generate page prefilled with these settings (the query `generations.prefill` reads)."""
    query = {key: str(value) for key, value in settings.items() if value is not None}
    return f"{GENERATE_PATH}?{urlencode(query)}" if query else GENERATE_PATH


async def list_gallery(conn: Conn) -> list[CollectionView]:
    """Every collection with its items, in two queries whatever their number."""
    return await _views(conn, await repository.list_collections(conn))


async def get_collection(conn: Conn, *, collection_id: UUID) -> CollectionView:
    """One collection with its items."""
    views = await _views(conn, await repository.list_collections(conn, collection_id=collection_id))
    if not views:
        raise CommunityCollectionNotFound
    return views[0]


async def _views(conn: Conn, collections: list[CollectionRow]) -> list[CollectionView]:
    if not collections:
        return []
    items = await repository.list_items(conn, collection_ids=[c.id for c in collections])
    by_collection: dict[UUID, list[ItemRow]] = {c.id: [] for c in collections}
    for item in items:
        by_collection[item.collection_id].append(item)
    return [CollectionView(collection=c, items=by_collection[c.id]) for c in collections]


async def create_collection(conn: Conn, *, body: CommunityCollectionCreate) -> CollectionView:
    """A new, empty collection."""
    collection = await repository.insert_collection(
        conn,
        title=body.title,
        description=body.description or None,
        is_featured=body.is_featured,
        order_index=body.order_index,
    )
    return CollectionView(collection=collection, items=[])


async def update_collection(
    conn: Conn, *, collection_id: UUID, body: CommunityCollectionUpdate
) -> CollectionView:
    """Change the fields given (an empty description clears it)."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("title", "") is None:
        raise ValidationFailed("A collection needs a title.")
    for key in ("is_featured", "order_index"):
        if key in changes and changes[key] is None:
            del changes[key]
    if "description" in changes:
        changes["description"] = changes["description"] or None
    updated = await repository.update_collection(conn, collection_id=collection_id, changes=changes)
    if updated is None:
        raise CommunityCollectionNotFound
    return await get_collection(conn, collection_id=collection_id)


async def delete_collection(conn: Conn, remover: FileRemover, *, collection_id: UUID) -> None:
    """Remove a collection and its items; fetched images go once the deletion commits."""
    paths = await repository.list_stored_paths(conn, collection_id=collection_id)
    if not await repository.delete_collection(conn, collection_id=collection_id):
        raise CommunityCollectionNotFound
    if paths:
        await remover.remove_later(conn, bucket="public", paths=paths)


async def reorder_collections(conn: Conn, *, ids: list[UUID]) -> list[CollectionView]:
    """Order the collections as listed (order_index = position); unknown ids are not found."""
    if len(set(ids)) != len(ids):
        raise ValidationFailed("Each collection may appear only once.")
    if await repository.reorder_collections(conn, ids=ids) != len(ids):
        raise CommunityCollectionNotFound("One of these community collections does not exist.")
    return await list_gallery(conn)


async def move_collection(conn: Conn, *, collection_id: UUID, step: int) -> None:
    """Move a collection `step` places (-1 up, 1 down) among the collections of its kind: the
    featured ones are always listed first, so a collection never crosses into the other kind.
    At either end of its kind it stays where it is."""
    collections = await repository.list_collections(conn)
    ids = [collection.id for collection in collections]
    if collection_id not in ids:
        raise CommunityCollectionNotFound
    here = ids.index(collection_id)
    there = here + step
    if 0 <= there < len(ids) and collections[there].is_featured == collections[here].is_featured:
        ids[here], ids[there] = ids[there], ids[here]
        await repository.reorder_collections(conn, ids=ids)


async def create_item(conn: Conn, runtime: Runtime, *, body: CommunityItemCreate) -> ItemRow:
    """Add a render of any user, or an image fetched once from an allowed host, to a collection."""
    settings = check_settings(runtime.presets, body.apply_settings)
    await get_collection(conn, collection_id=body.collection_id)
    if body.render_id is not None:
        image_path, thumb_path = await renders_service.get_cover_of_any_user(
            conn, render_id=body.render_id
        )
        return await repository.insert_item(
            conn,
            item_id=uuid4(),
            collection_id=body.collection_id,
            render_id=body.render_id,
            source_url=None,
            image_path=image_path,
            thumb_path=thumb_path,
            title=body.title,
            apply_settings=settings,
            order_index=body.order_index,
        )
    assert body.external_image_url is not None
    data = await _fetch(runtime, body.external_image_url)
    async with _storing(runtime.storage) as stored:
        return await _insert_stored(
            conn,
            runtime,
            stored,
            body.collection_id,
            body.external_image_url,
            data,
            title=body.title,
            settings=settings,
            order_index=body.order_index,
        )


async def _fetch(runtime: Runtime, url: str) -> bytes:
    allowed = runtime.settings.output_hosts
    if not host_allowed(url, allowed):
        raise ValidationFailed(
            "Images can only be fetched over http(s) from: " + (", ".join(allowed) or "nowhere")
        )
    try:
        return await download(
            runtime.http, url, allowed_hosts=allowed, max_bytes=runtime.settings.output_max_bytes
        )
    except DownloadRefused as exc:
        raise ValidationFailed(
            "The image could not be fetched: it must answer 200 without a redirect and be at"
            f" most {runtime.settings.output_max_bytes // (1024 * 1024)} MB."
        ) from exc


@asynccontextmanager
async def _storing(storage: Storage) -> AsyncIterator[list[str]]:
    """The paths of public files stored in the block. Should the block fail, its rows are rolled
    back, so those files are deleted too rather than left with nothing pointing at them."""
    stored: list[str] = []
    try:
        yield stored
    except Exception:
        if stored:
            await storage.delete("public", stored)
        raise


async def _insert_stored(
    conn: Conn,
    runtime: Runtime,
    stored: list[str],
    collection_id: UUID,
    source: str,
    data: bytes,
    *,
    title: str | None,
    settings: dict[str, Any],
    order_index: int,
) -> ItemRow:
    """Re-encode the image (no metadata, in a thread), store it and its thumbnail (their paths
    go into `stored`), and record the item."""
    max_pixels = runtime.settings.image_max_pixels
    image = await asyncio.to_thread(reencode_output, data, max_pixels=max_pixels)
    thumb = await asyncio.to_thread(thumbnail_webp, image.data, max_pixels=max_pixels)
    item_id = uuid4()
    image_path, thumb_path = f"community/{item_id}.jpg", f"community/{item_id}_thumb.webp"
    for path, content, content_type in (
        (image_path, image.data, "image/jpeg"),
        (thumb_path, thumb, "image/webp"),
    ):
        await runtime.storage.put("public", path, content, content_type=content_type)
        stored.append(path)
    return await repository.insert_item(
        conn,
        item_id=item_id,
        collection_id=collection_id,
        render_id=None,
        source_url=source,
        image_path=image_path,
        thumb_path=thumb_path,
        title=title,
        apply_settings=settings,
        order_index=order_index,
    )


async def update_item(
    conn: Conn, presets: Presets, *, item_id: UUID, body: CommunityItemUpdate
) -> ItemRow:
    """Change an item's title, settings or position; its image stays."""
    changes: dict[str, Any] = {}
    if "title" in body.model_fields_set:
        changes["title"] = body.title
    if body.apply_settings is not None:
        changes["apply_settings"] = check_settings(presets, body.apply_settings)
    if body.order_index is not None:
        changes["order_index"] = body.order_index
    item = await repository.update_item(conn, item_id=item_id, changes=changes)
    if item is None:
        raise CommunityItemNotFound
    return item


async def delete_item(conn: Conn, remover: FileRemover, *, item_id: UUID) -> None:
    """Remove an item; a fetched image goes once the deletion commits (a render's stays)."""
    item = await repository.delete_item(conn, item_id=item_id)
    if item is None:
        raise CommunityItemNotFound
    paths = [p for p in (item.image_path, item.thumb_path) if p and item.render_id is None]
    if paths:
        await remover.remove_later(conn, bucket="public", paths=paths)


async def import_gallery(
    conn: Conn, runtime: Runtime, document: dict[str, Any], *, base_dir: Path | None = None
) -> ImportSummary:
    """Load a gallery document (parsed YAML), idempotently: collections are matched by title,
    items by title (or, untitled, by their source); what exists is updated, never duplicated.

    `imagePath` is a local file, relative to `base_dir` (the YAML file's folder).
    """
    try:
        gallery = GalleryDocument.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed(f"The gallery document is not valid: {exc}") from exc
    async with _storing(runtime.storage) as stored:
        return await _import_collections(conn, runtime, stored, gallery, base_dir)


async def _import_collections(
    conn: Conn,
    runtime: Runtime,
    stored: list[str],
    gallery: GalleryDocument,
    base_dir: Path | None,
) -> ImportSummary:
    created_collections = created_items = 0
    for order_index, entry in enumerate(gallery.collections):
        collection = await repository.get_collection_by_title(conn, title=entry.title)
        changes: dict[str, Any] = {
            "description": entry.description or None,
            "is_featured": entry.featured,
        }
        if collection is None:
            collection = await repository.insert_collection(
                conn,
                title=entry.title,
                description=entry.description or None,
                is_featured=entry.featured,
                order_index=order_index,
            )
            created_collections += 1
        else:
            await repository.update_collection(conn, collection_id=collection.id, changes=changes)
        for item_index, item in enumerate(entry.items):
            created = await _import_item(
                conn, runtime, stored, collection.id, item, item_index, base_dir
            )
            created_items += int(created)
    return ImportSummary(collections_created=created_collections, items_created=created_items)


async def _import_item(
    conn: Conn,
    runtime: Runtime,
    stored: list[str],
    collection_id: UUID,
    item: GalleryItem,
    order_index: int,
    base_dir: Path | None,
) -> bool:
    """Import one item; True when it was new."""
    settings = check_settings(runtime.presets, item.apply_settings)
    source = item.external_image_url or _file_path(item.image_path, base_dir).as_uri()
    existing = await repository.find_item(
        conn, collection_id=collection_id, title=item.title, source=source
    )
    if existing is not None:
        await repository.update_item(
            conn, item_id=existing.id, changes={"apply_settings": settings}
        )
        return False
    if item.external_image_url is not None:
        data = await _fetch(runtime, item.external_image_url)
    else:
        data = _file_path(item.image_path, base_dir).read_bytes()
    await _insert_stored(
        conn,
        runtime,
        stored,
        collection_id,
        source,
        data,
        title=item.title,
        settings=settings,
        order_index=order_index,
    )
    return True


def _file_path(image_path: str | None, base_dir: Path | None) -> Path:
    assert image_path is not None
    path = (base_dir or Path.cwd()) / image_path
    if not path.is_file():
        raise ValidationFailed(f"No image file at {str(path)!r}.")
    return path.resolve()
