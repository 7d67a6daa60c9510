"""The Community pages and the admins' curation pages, through plain HTTP: the forms post without
JavaScript (the CSRF token as a form field) and the pages show what the database holds."""

import dataclasses
import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit
from uuid import UUID

import httpx
import pytest
from psycopg.types.json import Jsonb

from roomcraft.community import service as community_service
from roomcraft.community.schemas import (
    ApplySettings,
    CommunityCollectionCreate,
    CommunityItemCreate,
)
from roomcraft.community.service import CollectionView
from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_anon, as_service
from roomcraft.generations.presets import DEFAULT_PRESETS
from roomcraft.generations.providers.local import LocalJob, render_variant
from roomcraft.runtime import Runtime
from tests.factories import DEFAULT_PASSWORD, Account, create_user
from tests.renders.factories import create_render
from tests.web.test_pages import MakeClient, csrf_of

ZERO = "00000000-0000-0000-0000-000000000000"
# Every field "Try this look" carries, as an admin types it into the form.
LOOK = {
    "mode": "staging",
    "room_type": "bedroom",
    "style": "japandi",
    "prompt": "Linen & oak, soft morning light",
    "aspect_ratio": "3:2",
    "quality": "high",
    "variants": "2",
}


# ---------- A loopback image host ----------


def room_image(style: str, room_type: str, size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG of a room in this style, drawn by the local engine (so screenshots look real)."""
    preset = DEFAULT_PRESETS.style(style)
    assert preset is not None
    job = LocalJob(f"community-{style}-{room_type}", "imagine", room_type, preset, size, None, None)
    return render_variant(job, 0)


class _RoomHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        match = re.fullmatch(r"/rooms/([a-z_]+)/([a-z_]+)\.jpg", self.path)
        if match is None or DEFAULT_PRESETS.style(match.group(1)) is None:
            self.send_error(404)
            return
        body = room_image(match.group(1), match.group(2))
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def serve_rooms() -> Iterator[str]:
    """A loopback HTTP image host: `/rooms/{style}/{room_type}.jpg` is a JPEG of that room."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RoomHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def fetching_from_loopback(runtime: Runtime) -> Runtime:
    """The runtime on a copy of its settings that allows fetching images from 127.0.0.1."""
    settings = runtime.settings.model_copy(update={"output_hosts": ["127.0.0.1"]})
    return dataclasses.replace(runtime, settings=settings)


@pytest.fixture(scope="session")
def room_server() -> Iterator[str]:
    with serve_rooms() as base_url:
        yield base_url


@pytest.fixture
async def runtime(runtime: Runtime) -> Runtime:
    return fetching_from_loopback(runtime)


# ---------- Helpers ----------


@dataclasses.dataclass
class AdminForms:
    """An admin's browser without JavaScript: no CSRF header, the token as a form field."""

    client: httpx.AsyncClient
    csrf: str

    async def post(self, path: str, fields: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post(path, data={**(fields or {}), "csrf_token": self.csrf})


@pytest.fixture
async def admin(pool: Pool, settings: Settings, client_for: MakeClient) -> AdminForms:
    signed_in = await client_for(await create_user(pool, settings, is_admin=True))
    del signed_in.headers["X-CSRF-Token"]
    return AdminForms(signed_in, csrf_of((await signed_in.get("/admin")).text))


async def gallery(pool: Pool) -> list[CollectionView]:
    async with as_anon(pool) as conn:
        return await community_service.list_gallery(conn)


async def make_collection(pool: Pool, title: str, **fields: Any) -> UUID:
    async with as_service(pool) as conn:
        body = CommunityCollectionCreate(title=title, **fields)
        view = await community_service.create_collection(conn, body=body)
    return view.collection.id


async def make_render_item(
    pool: Pool, runtime: Runtime, collection_id: UUID, render_id: UUID, **look: Any
) -> UUID:
    async with as_service(pool) as conn:
        body = CommunityItemCreate(
            collection_id=collection_id,
            render_id=render_id,
            apply_settings=ApplySettings.model_validate(look or {"mode": "redesign"}),
        )
        item = await community_service.create_item(conn, runtime, body=body)
    return item.id


def try_links(page: str) -> list[str]:
    """The "Try this look" targets of a page, in order."""
    return [
        html.unescape(href)
        for href in re.findall(r'<a class="[^"]*look-card-try"\s+href="([^"]+)"', page)
    ]


def generate_query(url: str) -> dict[str, str]:
    """The settings a Generate URL carries (their order is the database's, not meaningful)."""
    parts = urlsplit(url)
    assert parts.path == "/generate"
    return dict(parse_qsl(parts.query, strict_parsing=True))


class FormFields(HTMLParser):
    """What a page's form controls hold: selected options, checked inputs and textareas."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.selected: dict[str, str] = {}
        self.checked: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.tabs: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "select":
            self._select = found.get("name")
        elif tag == "option" and self._select and "selected" in found:
            self.selected[self._select] = found["value"]
        elif tag == "input" and "checked" in found:
            self.checked[found["name"]] = found["value"]
        elif tag == "textarea":
            self._textarea = found.get("name")
            self.texts[self._textarea or ""] = ""
        if found.get("aria-selected") == "true":
            self.tabs[found.get("data-testid", "")] = found["aria-selected"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.texts[self._textarea] += data


# ---------- The public pages ----------


class TestCommunityPage:
    async def test_nothing_curated_shows_the_empty_state(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/community")

        assert response.status_code == 200
        assert "The community gallery is being curated" in response.text
        assert 'href="/signup"' in response.text
        assert 'data-testid="look-card"' not in response.text

    async def test_signed_out_visitor_sees_featured_first_with_try_links(
        self, client: httpx.AsyncClient, pool: Pool, runtime: Runtime, user: Account
    ) -> None:
        render = await create_render(pool, owner_id=user.id, style="scandinavian")
        plain = await make_collection(pool, "Plain rooms", order_index=0)
        featured = await make_collection(
            pool, "Editor's picks", is_featured=True, order_index=5, description="Our favourites"
        )
        await make_render_item(pool, runtime, plain, render.id, mode="redesign", style="coastal")
        await make_render_item(
            pool,
            runtime,
            featured,
            render.id,
            mode="imagine",
            room_type="kitchen",
            style="scandinavian",
            prompt="Pale oak",
        )

        response = await client.get("/community")

        page = response.text
        assert response.status_code == 200
        assert page.index("Editor&#39;s picks") < page.index("Plain rooms")
        assert page.index('data-testid="featured-collection"') < page.index("Plain rooms")
        assert "Our favourites" in page
        assert re.search(r'<img[^>]+alt="Scandinavian kitchen"[^>]+loading="lazy"', page)
        assert f"/files/public/renders/{render.id}/0_thumb.webp" in page
        assert ">Kitchen<" in page
        signin, other_signin = try_links(page)
        assert urlsplit(signin).path == "/signin"
        assert generate_query(parse_qs(urlsplit(signin).query)["next"][0]) == {
            "mode": "imagine",
            "room_type": "kitchen",
            "style": "scandinavian",
            "prompt": "Pale oak",
        }
        assert (
            other_signin
            == f"/signin?next={quote('/generate?mode=redesign&style=coastal', safe='')}"
        )
        assert str(user.id) not in page
        assert user.email not in page

    async def test_signed_in_try_link_opens_generate_directly(
        self, client_for: MakeClient, pool: Pool, runtime: Runtime, user: Account
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        collection = await make_collection(pool, "Calm")
        await make_render_item(pool, runtime, collection, render.id, mode="redesign")
        signed_in = await client_for(user)

        page = (await signed_in.get("/community")).text

        assert try_links(page) == ["/generate?mode=redesign"]

    async def test_collections_without_looks_are_left_out(
        self, client: httpx.AsyncClient, pool: Pool
    ) -> None:
        await make_collection(pool, "Coming soon", is_featured=True)

        page = (await client.get("/community")).text

        assert "Coming soon" not in page
        assert "The community gallery is being curated" in page


class TestCollectionPage:
    async def test_lists_every_look_of_the_collection(
        self, client: httpx.AsyncClient, pool: Pool, runtime: Runtime, user: Account
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        collection = await make_collection(pool, "Bedrooms", description="Rest well")
        for style in ("japandi", "coastal", "minimalist", "rustic", "zen"):
            await make_render_item(
                pool, runtime, collection, render.id, mode="staging", style=style
            )

        response = await client.get(f"/community/{collection}")

        assert response.status_code == 200
        assert "<h1>Bedrooms</h1>" in response.text
        assert "Rest well" in response.text
        assert len(try_links(response.text)) == 5

    async def test_a_collection_without_looks_says_so(
        self, client: httpx.AsyncClient, pool: Pool
    ) -> None:
        collection = await make_collection(pool, "Soon")

        response = await client.get(f"/community/{collection}")

        assert response.status_code == 200
        assert "No looks in this collection yet" in response.text

    async def test_unknown_collection_is_a_404_page(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/community/{ZERO}")

        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]
        assert "Page not found" in response.text


class TestTryThisLook:
    async def test_item_settings_round_trip_into_the_generate_prefill(
        self, admin: AdminForms, client_for: MakeClient, pool: Pool, user: Account, room_server: str
    ) -> None:
        collection = await make_collection(pool, "Bedrooms")
        added = await admin.post(
            f"/admin/community/{collection}/items",
            {
                "source": "url",
                "external_image_url": f"{room_server}/rooms/japandi/bedroom.jpg",
                "title": "Quiet bedroom",
                **LOOK,
            },
        )
        assert added.status_code == 303, added.text
        signed_in = await client_for(user)

        [link] = try_links((await signed_in.get("/community")).text)
        generate = await signed_in.get(link)

        assert urlsplit(link).path == "/generate"
        assert generate.status_code == 200
        form = FormFields(generate.text)
        assert form.tabs == {"mode-staging": "true"}
        assert form.selected["room_type"] == "bedroom"
        assert form.checked["style"] == "japandi"
        assert form.texts["prompt"] == LOOK["prompt"]
        assert form.checked["aspect_ratio"] == "3:2"
        assert form.checked["quality"] == "high"
        assert form.checked["variants"] == "2"

    async def test_signing_in_from_the_try_link_lands_on_the_prefilled_generator(
        self, client: httpx.AsyncClient, pool: Pool, runtime: Runtime, user: Account
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        collection = await make_collection(pool, "Lofts")
        await make_render_item(
            pool,
            runtime,
            collection,
            render.id,
            mode="imagine",
            style="industrial",
            prompt="Brick loft",
        )
        [link] = try_links((await client.get("/community")).text)
        signin = await client.get(link)
        next_path = re.search(r'name="next" value="([^"]+)"', signin.text)
        assert next_path

        signed_in = await client.post(
            "/signin",
            data={
                "email": user.email,
                "password": DEFAULT_PASSWORD,
                "next": html.unescape(next_path.group(1)),
            },
        )

        assert signed_in.status_code == 303
        assert generate_query(signed_in.headers["location"]) == {
            "mode": "imagine",
            "style": "industrial",
            "prompt": "Brick loft",
        }
        form = FormFields((await client.get(signed_in.headers["location"])).text)
        assert form.tabs == {"mode-imagine": "true"}
        assert form.checked["style"] == "industrial"
        assert form.texts["prompt"] == "Brick loft"


# ---------- Who may curate ----------

ADMIN_PAGES = ["/admin", f"/admin/community/{ZERO}"]
ADMIN_FORMS = [
    "/admin/community",
    f"/admin/community/{ZERO}",
    f"/admin/community/{ZERO}/feature",
    f"/admin/community/{ZERO}/move",
    f"/admin/community/{ZERO}/delete",
    f"/admin/community/{ZERO}/items",
    f"/admin/community/{ZERO}/items/{ZERO}",
    f"/admin/community/{ZERO}/items/{ZERO}/delete",
    f"/admin/renders/{ZERO}/community",
]


class TestAdminAccess:
    @pytest.mark.parametrize("path", ADMIN_PAGES)
    async def test_anonymous_is_sent_to_sign_in(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)

        assert response.status_code == 303
        assert response.headers["location"] == f"/signin?next={quote(path, safe='')}"

    @pytest.mark.parametrize("path", ADMIN_PAGES)
    async def test_signed_in_non_admin_gets_the_403_page(
        self, client_for: MakeClient, user: Account, path: str
    ) -> None:
        signed_in = await client_for(user)

        response = await signed_in.get(path)

        assert response.status_code == 403
        assert "This area is for administrators." in response.text

    @pytest.mark.parametrize("path", ADMIN_FORMS)
    async def test_forms_refuse_non_admins_and_write_nothing(
        self,
        client: httpx.AsyncClient,
        client_for: MakeClient,
        user: Account,
        pool: Pool,
        path: str,
    ) -> None:
        signed_in = await client_for(user)
        fields = {"title": "Sneaky", **LOOK}

        anonymous = await client.post(path, data=fields)
        forbidden = await signed_in.post(path, data=fields)

        assert anonymous.status_code == 401
        assert forbidden.status_code == 403
        assert await gallery(pool) == []

    async def test_admin_with_an_unknown_collection_gets_the_404_page(
        self, admin: AdminForms
    ) -> None:
        response = await admin.client.get(f"/admin/community/{ZERO}")

        assert response.status_code == 404
        assert "Page not found" in response.text


# ---------- Curating collections ----------


class TestCollectionForms:
    async def test_create_then_edit(self, admin: AdminForms, pool: Pool) -> None:
        created = await admin.post(
            "/admin/community",
            {"title": " Coastal calm ", "description": "Salt air", "featured": "true"},
        )
        [view] = await gallery(pool)
        collection = view.collection
        page = await admin.client.get(created.headers["location"])
        edited = await admin.post(
            f"/admin/community/{collection.id}", {"title": "Coastal", "description": ""}
        )
        [after] = await gallery(pool)

        assert created.status_code == 303
        assert created.headers["location"] == f"/admin/community/{collection.id}?notice=created"
        assert (collection.title, collection.description, collection.is_featured) == (
            "Coastal calm",
            "Salt air",
            True,
        )
        assert "Collection created." in page.text
        assert "<h1>Coastal calm</h1>" in page.text
        assert edited.status_code == 303
        assert (after.collection.title, after.collection.description) == ("Coastal", None)
        assert not after.collection.is_featured

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"title": "  "}, "Give it a title of 1 to 120 characters."),
            ({"title": "x" * 121}, "Give it a title of 1 to 120 characters."),
            ({"title": "Ok", "description": "d" * 1001}, "Keep the description to 1,000"),
        ],
    )
    async def test_bad_input_is_shown_inline_and_nothing_is_written(
        self, admin: AdminForms, pool: Pool, fields: dict[str, str], message: str
    ) -> None:
        response = await admin.post("/admin/community", fields)

        assert response.status_code == 400
        assert message in response.text
        assert 'aria-invalid="true"' in response.text
        assert "Please correct the fields marked below." in response.text
        assert await gallery(pool) == []

    async def test_bad_edit_keeps_the_collection_as_it_was(
        self, admin: AdminForms, pool: Pool
    ) -> None:
        collection = await make_collection(pool, "Kept", description="As is")

        response = await admin.post(f"/admin/community/{collection}", {"title": ""})

        assert response.status_code == 400
        assert "Give it a title of 1 to 120 characters." in response.text
        [view] = await gallery(pool)
        assert (view.collection.title, view.collection.description) == ("Kept", "As is")

    async def test_feature_and_unfeature(self, admin: AdminForms, pool: Pool) -> None:
        collection = await make_collection(pool, "Picks")

        featured = await admin.post(f"/admin/community/{collection}/feature", {"featured": "true"})
        after_feature = (await gallery(pool))[0].collection.is_featured
        await admin.post(f"/admin/community/{collection}/feature", {"featured": "false"})

        assert featured.status_code == 303
        assert after_feature
        assert not (await gallery(pool))[0].collection.is_featured

    async def test_move_up_and_down_within_its_kind(self, admin: AdminForms, pool: Pool) -> None:
        top = await make_collection(pool, "Featured", is_featured=True)
        a, b, c = [await make_collection(pool, t, order_index=i) for i, t in enumerate("abc")]

        up = await admin.post(f"/admin/community/{c}/move", {"direction": "up"})
        after_up = [view.collection.id for view in await gallery(pool)]
        await admin.post(f"/admin/community/{a}/move", {"direction": "down"})
        after_down = [view.collection.id for view in await gallery(pool)]
        await admin.post(f"/admin/community/{a}/move", {"direction": "up"})
        await admin.post(f"/admin/community/{a}/move", {"direction": "up"})
        past_featured = [view.collection.id for view in await gallery(pool)]

        assert up.status_code == 303
        assert after_up == [top, a, c, b]
        assert after_down == [top, c, a, b]
        assert past_featured == [top, a, c, b]

    async def test_admin_page_lists_collections_with_order_controls(
        self, admin: AdminForms, pool: Pool
    ) -> None:
        await make_collection(pool, "First", is_featured=True)
        await make_collection(pool, "Second")

        page = (await admin.client.get("/admin")).text

        assert page.index(">First<") < page.index(">Second<")
        assert page.count('data-testid="curation-row"') == 2
        # Neither can move: each is alone of its kind.
        assert page.count('data-testid="move-up" disabled') == 2

    async def test_delete_removes_the_collection_and_its_looks(
        self, admin: AdminForms, pool: Pool, runtime: Runtime, user: Account
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        collection = await make_collection(pool, "Gone soon")
        await make_render_item(pool, runtime, collection, render.id)

        response = await admin.post(f"/admin/community/{collection}/delete")

        assert response.status_code == 303
        assert response.headers["location"] == "/admin?notice=deleted#community-collections"
        assert await gallery(pool) == []
        assert (await admin.client.get(f"/admin/community/{collection}")).status_code == 404


# ---------- Curating looks ----------


class TestItemForms:
    async def test_add_a_look_from_an_image_on_the_web(
        self, admin: AdminForms, pool: Pool, runtime: Runtime, room_server: str
    ) -> None:
        collection = await make_collection(pool, "Web finds")
        url = f"{room_server}/rooms/coastal/living_room.jpg"

        response = await admin.post(
            f"/admin/community/{collection}/items",
            {"source": "url", "external_image_url": url, "title": "Sea breeze", **LOOK},
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/community/{collection}?notice=item-added"
        [item] = (await gallery(pool))[0].items
        assert item.title == "Sea breeze"
        assert item.external_image_url == url
        assert item.apply_settings == {**LOOK, "variants": 2}
        stored = await runtime.storage.get("public", f"community/{item.id}.jpg")
        assert stored.startswith(b"\xff\xd8")
        page = (await admin.client.get(response.headers["location"])).text
        assert "Look added to the collection." in page
        assert "Sea breeze" in page

    async def test_add_another_users_render_by_its_id(
        self, admin: AdminForms, pool: Pool, other_user: Account
    ) -> None:
        render = await create_render(pool, owner_id=other_user.id)
        collection = await make_collection(pool, "From renders")

        response = await admin.post(
            f"/admin/community/{collection}/items",
            {"source": "render", "render_id": str(render.id), "mode": "redesign"},
        )

        assert response.status_code == 303
        [item] = (await gallery(pool))[0].items
        assert item.render_id == render.id
        assert item.apply_settings == {"mode": "redesign"}

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"external_image_url": " "}, "Give the web address of a JPEG, PNG or WebP image."),
            ({"source": "render"}, "Give a render&#39;s id"),
            ({"source": "render", "render_id": "not-an-id"}, "Give a render&#39;s id"),
            ({"source": "render", "render_id": ZERO}, "No render has this id."),
            ({"external_image_url": "http://example.com/room.jpg"}, "127.0.0.1"),
            ({"external_image_url": "file:///etc/passwd"}, "127.0.0.1"),
            ({"external_image_url": "{server}/rooms/nope/room.jpg"}, "could not be fetched"),
            ({"mode": "sketch"}, "Choose one of the four modes."),
            ({"style": "baroque"}, "Unknown style"),
            ({"room_type": "garage"}, "Unknown room type"),
            ({"variants": "9"}, "Choose 1 to 4 variants."),
            ({"quality": "ultra"}, "Choose low, medium or high quality."),
            ({"prompt": "p" * 801}, "Keep the prompt to 800 characters."),
        ],
    )
    async def test_bad_input_is_shown_inline_and_nothing_is_written(
        self,
        admin: AdminForms,
        pool: Pool,
        room_server: str,
        fields: dict[str, str],
        message: str,
    ) -> None:
        collection = await make_collection(pool, "Strict")
        good = {"source": "url", "external_image_url": f"{room_server}/rooms/zen/bedroom.jpg"}
        typed = {
            key: value.replace("{server}", room_server)
            for key, value in {**good, **LOOK, **fields}.items()
        }

        response = await admin.post(f"/admin/community/{collection}/items", typed)

        assert response.status_code == 400
        assert message in response.text
        assert 'role="alert"' in response.text
        # The form comes back as typed.
        assert html.escape(typed.get("prompt", ""))[:80] in response.text
        assert (await gallery(pool))[0].items == []

    async def test_edit_title_and_look(
        self, admin: AdminForms, pool: Pool, runtime: Runtime, user: Account
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        collection = await make_collection(pool, "Edits")
        item = await make_render_item(pool, runtime, collection, render.id, mode="redesign")

        response = await admin.post(
            f"/admin/community/{collection}/items/{item}", {"title": "Renamed", **LOOK}
        )

        assert response.status_code == 303
        [after] = (await gallery(pool))[0].items
        assert after.title == "Renamed"
        assert after.apply_settings == {**LOOK, "variants": 2}

    async def test_bad_edit_is_shown_at_its_item_and_changes_nothing(
        self, admin: AdminForms, pool: Pool, runtime: Runtime, user: Account
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        collection = await make_collection(pool, "Edits")
        item = await make_render_item(pool, runtime, collection, render.id, mode="redesign")

        response = await admin.post(
            f"/admin/community/{collection}/items/{item}",
            {"title": "Renamed", "mode": "imagine", "variants": "0"},
        )

        assert response.status_code == 400
        page = response.text
        assert page.index(f'id="item-{item}"') < page.index('<details class="curation-edit" open>')
        assert "Choose 1 to 4 variants." in response.text
        [after] = (await gallery(pool))[0].items
        assert (after.title, after.apply_settings) == (None, {"mode": "redesign"})

    async def test_remove_a_look(
        self, admin: AdminForms, pool: Pool, runtime: Runtime, user: Account
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        collection = await make_collection(pool, "Smaller")
        item = await make_render_item(pool, runtime, collection, render.id)

        response = await admin.post(f"/admin/community/{collection}/items/{item}/delete")

        assert response.status_code == 303
        assert (await gallery(pool))[0].items == []


class TestRecentRenders:
    async def test_admin_page_lists_every_users_newest_renders(
        self, admin: AdminForms, pool: Pool, user: Account, other_user: Account
    ) -> None:
        mine = await create_render(pool, owner_id=user.id, style="bohemian")
        theirs = await create_render(pool, owner_id=other_user.id, style="zen")
        await make_collection(pool, "Picks")

        page = (await admin.client.get("/admin")).text

        assert page.index(f'data-render-id="{theirs.id}"') < page.index(
            f'data-render-id="{mine.id}"'
        )
        assert user.email in page
        assert other_user.email in page
        assert f'action="/admin/renders/{mine.id}/community"' in page

    async def test_add_to_community_takes_the_renders_look(
        self, admin: AdminForms, pool: Pool, other_user: Account
    ) -> None:
        render = await create_render(
            pool,
            owner_id=other_user.id,
            mode="imagine",
            room_type="kitchen",
            style="industrial",
            prompt="Brick and steel",
        )
        async with as_service(pool) as conn:
            await conn.execute(
                "update public.generation_jobs set settings = %s where id = %s",
                (Jsonb({"aspect_ratio": "16:9", "quality": "low", "variants": 3}), render.job_id),
            )
        collection = await make_collection(pool, "Kitchens")

        response = await admin.post(
            f"/admin/renders/{render.id}/community", {"collection_id": str(collection)}
        )

        assert response.status_code == 303
        [item] = (await gallery(pool))[0].items
        assert response.headers["location"] == (
            f"/admin/community/{collection}?notice=render-added#item-{item.id}"
        )
        assert item.render_id == render.id
        assert item.apply_settings == {
            "mode": "imagine",
            "room_type": "kitchen",
            "style": "industrial",
            "prompt": "Brick and steel",
            "aspect_ratio": "16:9",
            "quality": "low",
            "variants": 3,
        }

    async def test_add_to_community_without_a_collection_is_rejected_inline(
        self, admin: AdminForms, pool: Pool, other_user: Account
    ) -> None:
        render = await create_render(pool, owner_id=other_user.id)
        await make_collection(pool, "Kitchens")

        response = await admin.post(f"/admin/renders/{render.id}/community", {})

        assert response.status_code == 400
        assert "Choose a collection." in response.text
        assert (await gallery(pool))[0].items == []

    async def test_unknown_render_is_the_404_page(self, admin: AdminForms, pool: Pool) -> None:
        collection = await make_collection(pool, "Kitchens")

        response = await admin.post(
            f"/admin/renders/{ZERO}/community", {"collection_id": str(collection)}
        )

        assert response.status_code == 404
        assert (await gallery(pool))[0].items == []
