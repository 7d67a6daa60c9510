"""Uploads: a photo becomes a normalized private file and a row only its owner can see."""

import asyncio
import hashlib
import os
import threading
from dataclasses import dataclass
from uuid import UUID

import structlog

from roomcraft.config import Settings
from roomcraft.db.session import Conn
from roomcraft.kit import images
from roomcraft.kit.errors import NotFound
from roomcraft.storage import service as storage_service
from roomcraft.storage.service import Storage
from roomcraft.uploads import repository
from roomcraft.uploads.repository import UploadRow

log = structlog.get_logger(__name__)

# Decoding a large photo takes a few hundred megabytes for a moment: at most one per core at once,
# whatever the number of concurrent uploads.
_decoding = threading.BoundedSemaphore(os.cpu_count() or 2)


class UploadNotFound(NotFound):
    """Upload not found."""


@dataclass(frozen=True)
class NewUpload:
    upload: UploadRow
    # A short-lived signed URL of the stored image.
    url: str


async def create_upload(
    conn: Conn, settings: Settings, storage: Storage, *, owner_id: UUID, data: bytes
) -> NewUpload:
    """Normalize a photo (format by content, pixel cap, orientation, no metadata, long side
    capped), store it under a new private name, and record it for its owner.

    The file is written first; if recording it fails, it is removed again. A transaction that
    fails to commit afterwards leaves an orphan file, which the orphan sweep removes.
    """
    image = await asyncio.to_thread(_normalize, data, settings)
    path = storage_service.input_path(owner_id, image.extension)
    await storage.put("private", path, image.data, content_type=image.content_type)
    try:
        upload = await repository.insert_upload(
            conn,
            owner_id=owner_id,
            storage_path=path,
            content_type=image.content_type,
            width=image.width,
            height=image.height,
            byte_size=len(image.data),
            sha256=hashlib.sha256(image.data).hexdigest(),
        )
    except BaseException:
        await _remove_quietly(storage, path)
        raise
    return NewUpload(upload=upload, url=await storage.signed_url(path))


async def get_owned_upload(
    conn: Conn, *, upload_id: UUID, owner_id: UUID | None = None
) -> UploadRow:
    """The caller's upload; `UploadNotFound` when it does not exist or is someone else's.

    On a user's connection RLS already hides other owners' uploads; `owner_id`, when given, checks
    it again (and is what restricts a service-role connection).
    """
    upload = await repository.get_upload(conn, upload_id=upload_id, owner_id=owner_id)
    if upload is None:
        raise UploadNotFound
    return upload


async def _remove_quietly(storage: Storage, path: str) -> None:
    """Remove a file nothing records; if that fails too, the orphan sweep will find it."""
    try:
        await storage.delete("private", [path])
    except Exception:
        log.exception("uploads.cleanup_failed", path=path)


def _normalize(data: bytes, settings: Settings) -> images.NormalizedImage:
    with _decoding:
        return images.normalize_upload(
            data, max_pixels=settings.image_max_pixels, max_side=settings.image_max_side
        )
