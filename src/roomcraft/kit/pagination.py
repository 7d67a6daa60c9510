"""Keyset pagination: lists are ordered by (created_at desc, id desc) and continue after a cursor.

The cursor is opaque to clients: base64url of the last item's sort key.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Generic, TypeVar
from uuid import UUID

from fastapi import Query

from roomcraft.kit.envelope import CamelModel
from roomcraft.kit.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT = 24
MAX_LIMIT = 50


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: UUID


def encode_cursor(created_at: datetime, id: UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> Cursor | None:
    """The cursor a client sent back; a damaged one is a validation error, never a 500."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        created_at, id_ = json.loads(raw)
        return Cursor(created_at=datetime.fromisoformat(created_at), id=UUID(id_))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValidationFailed("The cursor is not valid.") from exc


class Page(CamelModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
