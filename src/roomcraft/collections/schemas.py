"""Request and response models of `/api/v1/collections` and `/api/v1/favorites`."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import StringConstraints

from roomcraft.kit.envelope import CamelModel
from roomcraft.renders.schemas import RenderIds

CollectionName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


class CollectionRead(CamelModel):
    id: UUID
    name: str
    items_count: int
    is_default_favorites: bool
    created_at: datetime


class CollectionList(CamelModel):
    collections: list[CollectionRead]


class CollectionUpsert(CamelModel):
    id: UUID | None = None
    name: CollectionName


class CollectionDelete(CamelModel):
    id: UUID


class CollectionDeleted(CamelModel):
    deleted: bool


class FavoriteToggle(CamelModel):
    render_id: UUID


class FavoriteState(CamelModel):
    is_favorited: bool


class ItemToggle(CamelModel):
    collection_id: UUID
    render_id: UUID


class ItemState(CamelModel):
    in_collection: bool


class ItemsAdd(CamelModel):
    collection_id: UUID
    render_ids: RenderIds


class ItemsAdded(CamelModel):
    added: int
