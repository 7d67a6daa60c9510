"""What the library's pages share: the page's unit of work (`Library`) and render cards, built
from one page of card rows with the link to the next page."""

from dataclasses import dataclass
from datetime import datetime
from textwrap import shorten
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import Response

from roomcraft.api.deps import CurrentUser, RuntimeDep, UserConn
from roomcraft.auth.service import Identity
from roomcraft.db.session import Conn
from roomcraft.generations.presets import MODES, Presets
from roomcraft.kit.errors import ValidationFailed
from roomcraft.kit.pagination import DEFAULT_LIMIT, Cursor, decode_cursor, encode_cursor
from roomcraft.renders.repository import RenderCardRow
from roomcraft.runtime import Runtime
from roomcraft.web.deps import TemplatesDep
from roomcraft.web.templating import Templates
from roomcraft.web.urls import page_url

PAGE_SIZE = DEFAULT_LIMIT
MODE_NAMES = {mode: mode.capitalize() for mode in MODES}
STALE_CURSOR = "That page link is out of date, so the newest renders are shown."


@dataclass(frozen=True)
class Library:
    """What every library page works with: the request, who asks, their unit of work."""

    request: Request
    templates: Templates
    identity: Identity
    conn: Conn
    runtime: Runtime

    @property
    def owner_id(self) -> UUID:
        return self.identity.user_id

    def render(self, name: str, context: dict[str, Any], *, nav: str, status: int) -> Response:
        return self.templates.render(self.request, name, context, nav=nav, status_code=status)


async def get_library(
    request: Request,
    templates: TemplatesDep,
    identity: CurrentUser,
    conn: UserConn,
    runtime: RuntimeDep,
) -> Library:
    return Library(request, templates, identity, conn, runtime)


LibraryDep = Annotated[Library, Depends(get_library)]


@dataclass(frozen=True)
class Card:
    """A render card as the templates show it (components/render_card.html)."""

    id: UUID
    title: str
    subtitle: str
    created_at: datetime
    provider: str
    variant_idx: int
    url: str | None
    thumb_url: str | None
    width: int
    height: int
    is_favorited: bool
    collection_ids: list[UUID]


@dataclass(frozen=True)
class Grid:
    cards: list[Card]
    next_url: str | None
    page_url: str  # this page of cards, where a card's form comes back to


def render_title(presets: Presets, row: RenderCardRow) -> str:
    """A render's name: its room type and style, else its prompt, else its mode."""
    room = presets.room_type(row.room_type or "")
    style = presets.style(row.style or "")
    names = [room.name if room else row.room_type, style.name if style else row.style]
    if any(names):
        return " · ".join(name for name in names if name)
    if row.prompt:
        return shorten(row.prompt, width=60, placeholder="…")
    return f"{MODE_NAMES.get(row.mode, row.mode)} render"


def card(runtime: Runtime, row: RenderCardRow) -> Card:
    variants = f"{row.variant_count} variant{'' if row.variant_count == 1 else 's'}"
    image, thumb = row.cover_image_path, row.cover_thumb_path or row.cover_image_path
    return Card(
        id=row.id,
        title=render_title(runtime.presets, row),
        subtitle=f"{MODE_NAMES.get(row.mode, row.mode)} · {variants}",
        created_at=row.created_at,
        provider=row.provider,
        variant_idx=row.cover_idx or 0,
        url=runtime.storage.public_url(image) if image else None,
        thumb_url=runtime.storage.public_url(thumb) if thumb else None,
        width=row.cover_width or 4,
        height=row.cover_height or 3,
        is_favorited=row.is_favorited,
        collection_ids=row.collection_ids,
    )


def grid(
    runtime: Runtime,
    rows: list[RenderCardRow],
    path: str,
    *,
    cursor: str | None,
    **params: str | None,
) -> Grid:
    """Cards from `PAGE_SIZE + 1` rows: the extra row only says that a next page exists.
    `cursor` is the one that chose this page (none for the first page, or a stale cursor)."""
    page = rows[:PAGE_SIZE]
    next_url = None
    if len(rows) > PAGE_SIZE:
        next_url = page_url(path, **params, cursor=encode_cursor(page[-1].sort_at, page[-1].id))
    return Grid(
        cards=[card(runtime, row) for row in page],
        next_url=next_url,
        page_url=page_url(path, **params, cursor=cursor),
    )


def read_cursor(raw: str | None, notices: list[str]) -> Cursor | None:
    try:
        return decode_cursor(raw)
    except ValidationFailed:
        notices.append(STALE_CURSOR)
        return None
