"""The library's pages: My Renders, Favorites, Collections and a collection's page.

A grid is one page of cards from one list query (keyset cursor). "Load more" is a plain link to
the next page, which htmx appends in place. Every form posts here and works without JavaScript,
a card's heart and "Remove from this collection" included (they come back to the card's page);
with it, the card controls (static/js/cards.js) and static/js/library.js call the JSON API instead.
An unknown filter value or a damaged cursor is ignored with a message on the page, never a 400.
"""

from dataclasses import dataclass, field
from textwrap import shorten
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from roomcraft.collections import service as collections_service
from roomcraft.collections.errors import CollectionNotFound
from roomcraft.collections.repository import CollectionRow
from roomcraft.collections.schemas import CollectionName
from roomcraft.generations.presets import Presets
from roomcraft.kit.errors import ValidationFailed
from roomcraft.renders import service as renders_service
from roomcraft.renders.repository import CollectionCoverRow, RenderFilters
from roomcraft.runtime import Runtime
from roomcraft.storage.tasks import FileRemover
from roomcraft.web.deps import safe_next
from roomcraft.web.library_cards import (
    MODE_NAMES,
    PAGE_SIZE,
    STALE_CURSOR,
    Library,
    LibraryDep,
    grid,
    read_cursor,
)
from roomcraft.web.urls import page_url

router = APIRouter(include_in_schema=False)

NAME_HELP = "Give the collection a name of 1 to 100 characters."
FAVORITE_VALUES = {"true": True, "false": False}
BAD_FAVORITE = "That heart sent neither “true” nor “false”. Go back and press it again."
_collection_name = TypeAdapter(CollectionName)

FormText = Annotated[str, Form()]


# ---------- My Renders ----------


@dataclass
class RendersView:
    """What My Renders shows: the filters asked for, the page, and what to say about them."""

    mode: str | None = None
    room_type: str | None = None
    style: str | None = None
    cursor: str | None = None
    notices: list[str] = field(default_factory=list)
    selected: list[UUID] = field(default_factory=list)
    confirm_delete: bool = False
    error: str | None = None
    deleted: int = 0

    @property
    def filters(self) -> dict[str, str | None]:
        return {"mode": self.mode, "room_type": self.room_type, "style": self.style}

    def keep_known(self, presets: Presets) -> RenderFilters:
        """The filters with unknown values dropped, each with a notice."""
        self.mode = self._known(self.mode, set(MODE_NAMES), "mode")
        self.room_type = self._known(
            self.room_type, {room.key for room in presets.room_types}, "room type"
        )
        self.style = self._known(self.style, {style.key for style in presets.styles}, "style")
        return RenderFilters(mode=self.mode, room_type=self.room_type, style=self.style)

    def _known(self, value: str | None, known: set[str], what: str) -> str | None:
        if not value or value in known:
            return value or None
        self.notices.append(f"There is no {what} “{shorten(value, 40)}”, so every {what} is shown.")
        return None


async def _renders_page(library: Library, view: RendersView, *, status: int = 200) -> Response:
    after = read_cursor(view.cursor, view.notices)
    rows = await renders_service.list_renders(
        library.conn,
        owner_id=library.owner_id,
        filters=view.keep_known(library.runtime.presets),
        after=after,
        limit=PAGE_SIZE + 1,
    )
    context = {
        "view": view,
        "grid": grid(
            library.runtime, rows, "/renders", cursor=view.cursor if after else None, **view.filters
        ),
        "filtered": any(view.filters.values()),
        "older": bool(view.cursor) and STALE_CURSOR not in view.notices,
        "newest_url": page_url("/renders", **view.filters),
        "presets": library.runtime.presets,
        "mode_names": MODE_NAMES,
        "collections": await collections_service.list_collections(
            library.conn, owner_id=library.owner_id
        ),
    }
    return library.render("app/renders.html", context, nav="renders", status=status)


@router.get("/renders")
async def renders(
    library: LibraryDep,
    mode: str | None = None,
    room_type: str | None = None,
    style: str | None = None,
    cursor: str | None = None,
    deleted: str | None = None,
) -> Response:
    count = int(deleted) if deleted and deleted.isdigit() else 0
    view = RendersView(mode=mode, room_type=room_type, style=style, cursor=cursor, deleted=count)
    return await _renders_page(library, view)


@router.post("/renders/bulk")
async def renders_bulk(
    library: LibraryDep,
    action: Annotated[Literal["add", "delete"], Form()],
    render_ids: Annotated[list[UUID] | None, Form()] = None,
    collection_id: Annotated[UUID | None, Form()] = None,
    confirm: FormText = "",
    mode: FormText = "",
    room_type: FormText = "",
    style: FormText = "",
) -> Response:
    """The selection toolbar without JavaScript: add the selected renders to a collection, or
    delete them once the page has asked to confirm."""
    selected = list(dict.fromkeys(render_ids or []))
    view = RendersView(mode=mode, room_type=room_type, style=style, selected=selected)
    if not selected:
        view.error = "Select one or more renders first."
        return await _renders_page(library, view, status=400)
    if action == "add":
        if collection_id is None:
            view.error = "Choose a collection."
            return await _renders_page(library, view, status=400)
        await collections_service.add_items(
            library.conn,
            owner_id=library.owner_id,
            collection_id=collection_id,
            render_ids=selected,
        )
        return RedirectResponse(f"/collections/{collection_id}", status_code=303)
    if confirm != "yes":
        view.confirm_delete = True
        return await _renders_page(library, view)
    deleted = await renders_service.delete_renders(library.conn, FileRemover(), render_ids=selected)
    return RedirectResponse(
        page_url("/renders", **view.filters, deleted=str(deleted)), status_code=303
    )


# ---------- A card's heart and "Remove from this collection" ----------


@router.post("/renders/{render_id}/favorite")
async def favorite_render(
    render_id: UUID, library: LibraryDep, favorite: FormText = "", next: FormText = ""
) -> Response:
    """The heart without JavaScript: `favorite` says what the render becomes, so posting the
    form twice leaves it so; then back to `next` (the card on its page), else the render."""
    favorited = FAVORITE_VALUES.get(favorite)
    if favorited is None:
        raise ValidationFailed(BAD_FAVORITE)
    await collections_service.set_favorite(
        library.conn, owner_id=library.owner_id, render_id=render_id, favorited=favorited
    )
    return RedirectResponse(safe_next(next, f"/renders/{render_id}"), status_code=303)


@router.post("/collections/{collection_id}/items/{render_id}/remove")
async def remove_from_collection(
    collection_id: UUID, render_id: UUID, library: LibraryDep, next: FormText = ""
) -> Response:
    """A card's "Remove from this collection" without JavaScript; back to `next` (the page of
    the collection it was on), else the collection. The render stays in My Renders."""
    await collections_service.remove_item(
        library.conn, owner_id=library.owner_id, collection_id=collection_id, render_id=render_id
    )
    return RedirectResponse(safe_next(next, f"/collections/{collection_id}"), status_code=303)


# ---------- Favorites ----------


@router.get("/favorites")
async def favorites(library: LibraryDep, cursor: str | None = None) -> Response:
    notices: list[str] = []
    after = read_cursor(cursor, notices)
    rows = await collections_service.list_favorites(
        library.conn, owner_id=library.owner_id, after=after, limit=PAGE_SIZE + 1
    )
    context = {
        "grid": grid(library.runtime, rows, "/favorites", cursor=cursor if after else None),
        "notices": notices,
        "older": bool(cursor) and not notices,
    }
    return library.render("app/favorites.html", context, nav="favorites", status=200)


# ---------- Collections ----------


def _collection_view(
    runtime: Runtime, row: CollectionRow, covers: list[CollectionCoverRow]
) -> dict[str, Any]:
    public_url = runtime.storage.public_url
    return {
        "id": row.id,
        "name": row.name,
        "items_count": row.items_count,
        "is_default": row.is_default_favorites,
        "href": "/favorites" if row.is_default_favorites else f"/collections/{row.id}",
        "covers": [public_url(cover.thumb_path or cover.image_path) for cover in covers],
    }


async def _collections_page(
    library: Library, *, errors: dict[str, str] | None = None, name: str = "", status: int = 200
) -> Response:
    """The list; `errors` holds a form's message by "new" or by the collection's id."""
    rows = await collections_service.list_collections(library.conn, owner_id=library.owner_id)
    covers = await renders_service.list_collection_covers(library.conn, owner_id=library.owner_id)
    context = {
        "collections": [
            _collection_view(library.runtime, row, covers.get(row.id, [])) for row in rows
        ],
        "errors": errors or {},
        "name": name,
    }
    return library.render("app/collections.html", context, nav="collections", status=status)


@router.get("/collections")
async def collections(library: LibraryDep) -> Response:
    return await _collections_page(library)


@router.post("/collections")
async def create_collection(library: LibraryDep, name: FormText = "") -> Response:
    """Create a collection from the form on the Collections page."""
    try:
        valid = _collection_name.validate_python(name)
    except ValidationError:
        return await _collections_page(library, errors={"new": NAME_HELP}, name=name, status=400)
    await collections_service.upsert_collection(
        library.conn, owner_id=library.owner_id, collection_id=None, name=valid
    )
    return RedirectResponse("/collections", status_code=303)


async def _collection_page(
    library: Library,
    collection_id: UUID,
    *,
    cursor: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    rows = await collections_service.list_collections(library.conn, owner_id=library.owner_id)
    collection = next((row for row in rows if row.id == collection_id), None)
    if collection is None:
        raise CollectionNotFound
    if collection.is_default_favorites:
        return RedirectResponse("/favorites", status_code=303)
    notices: list[str] = []
    after = read_cursor(cursor, notices)
    items = await collections_service.list_items(
        library.conn,
        owner_id=library.owner_id,
        collection_id=collection_id,
        after=after,
        limit=PAGE_SIZE + 1,
    )
    path = f"/collections/{collection_id}"
    context = {
        "collection": _collection_view(library.runtime, collection, []),
        "grid": grid(library.runtime, items, path, cursor=cursor if after else None),
        "notices": notices,
        "older": bool(cursor) and not notices,
        "error": error,
    }
    return library.render("app/collection.html", context, nav="collections", status=status)


@router.get("/collections/{collection_id}")
async def collection(
    collection_id: UUID, library: LibraryDep, cursor: str | None = None
) -> Response:
    return await _collection_page(library, collection_id, cursor=cursor)


@router.post("/collections/{collection_id}/rename")
async def rename_collection(
    collection_id: UUID,
    library: LibraryDep,
    name: FormText = "",
    back: Annotated[Literal["list", "page"], Form()] = "list",
) -> Response:
    """Rename a collection from the Collections page or its own page (never "My Favorites")."""
    try:
        valid = _collection_name.validate_python(name)
    except ValidationError:
        if back == "page":
            return await _collection_page(library, collection_id, error=NAME_HELP, status=400)
        return await _collections_page(library, errors={str(collection_id): NAME_HELP}, status=400)
    await collections_service.upsert_collection(
        library.conn, owner_id=library.owner_id, collection_id=collection_id, name=valid
    )
    target = f"/collections/{collection_id}" if back == "page" else "/collections"
    return RedirectResponse(target, status_code=303)


@router.post("/collections/{collection_id}/delete")
async def delete_collection(collection_id: UUID, library: LibraryDep) -> Response:
    """Delete a collection (never "My Favorites"); its renders stay in My Renders."""
    await collections_service.delete_collection(library.conn, collection_id=collection_id)
    return RedirectResponse("/collections", status_code=303)
