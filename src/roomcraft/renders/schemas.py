"""Request and response models of `/api/v1/renders`; render cards are shared by collections."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from roomcraft.kit.envelope import CamelModel
from roomcraft.renders.repository import RenderCardRow

Mode = Literal["redesign", "staging", "compose", "imagine"]
MAX_BATCH = 100


class CoverRead(CamelModel):
    idx: int
    url: str
    thumb_url: str
    width: int
    height: int


class RenderCardRead(CamelModel):
    id: UUID
    mode: Mode
    room_type: str | None
    style: str | None
    prompt: str | None
    created_at: datetime
    variant_count: int
    cover: CoverRead | None
    is_favorited: bool

    @classmethod
    def from_row(cls, row: RenderCardRow, public_url: Callable[[str], str]) -> "RenderCardRead":
        cover = None
        if row.cover_image_path is not None:
            assert row.cover_idx is not None
            assert row.cover_width is not None
            assert row.cover_height is not None
            cover = CoverRead(
                idx=row.cover_idx,
                url=public_url(row.cover_image_path),
                thumb_url=public_url(row.cover_thumb_path or row.cover_image_path),
                width=row.cover_width,
                height=row.cover_height,
            )
        return cls.model_validate(
            {
                "id": row.id,
                "mode": row.mode,
                "room_type": row.room_type,
                "style": row.style,
                "prompt": row.prompt,
                "created_at": row.created_at,
                "variant_count": row.variant_count,
                "cover": cover,
                "is_favorited": row.is_favorited,
            }
        )


class VariantRead(CamelModel):
    idx: int
    url: str
    thumb_url: str
    width: int
    height: int


class RenderRead(CamelModel):
    id: UUID
    job_id: UUID
    mode: Mode
    room_type: str | None
    style: str | None
    prompt: str | None
    provider: str
    cover_variant: int
    created_at: datetime
    variants: list[VariantRead]


RenderIds = Annotated[list[UUID], Field(min_length=1, max_length=MAX_BATCH)]


class RenderDelete(CamelModel):
    render_ids: RenderIds


class RendersDeleted(CamelModel):
    deleted: int
