"""All SQL of uploads."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg.rows import class_row

from roomcraft.db.session import Conn


@dataclass(frozen=True)
class UploadRow:
    id: UUID
    owner_id: UUID
    storage_path: str
    content_type: str
    width: int
    height: int
    byte_size: int
    sha256: str
    created_at: datetime


async def insert_upload(
    conn: Conn,
    *,
    owner_id: UUID,
    storage_path: str,
    content_type: str,
    width: int,
    height: int,
    byte_size: int,
    sha256: str,
) -> UploadRow:
    async with conn.cursor(row_factory=class_row(UploadRow)) as cur:
        await cur.execute(
            """
            insert into public.uploads
                   (owner_id, storage_path, content_type, width, height, bytes, sha256)
            values (%s, %s, %s, %s, %s, %s, %s)
            returning id, owner_id, storage_path, content_type, width, height,
                      bytes as byte_size, sha256, created_at
            """,
            (owner_id, storage_path, content_type, width, height, byte_size, sha256),
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def get_upload(
    conn: Conn, *, upload_id: UUID, owner_id: UUID | None = None
) -> UploadRow | None:
    """The upload, if the connection may see it (RLS) and, when given, `owner_id` owns it."""
    async with conn.cursor(row_factory=class_row(UploadRow)) as cur:
        await cur.execute(
            """
            select id, owner_id, storage_path, content_type, width, height,
                   bytes as byte_size, sha256, created_at
              from public.uploads
             where id = %(id)s and (%(owner_id)s::uuid is null or owner_id = %(owner_id)s)
            """,
            {"id": upload_id, "owner_id": owner_id},
        )
        return await cur.fetchone()
