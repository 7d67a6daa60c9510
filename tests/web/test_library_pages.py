"""The library's pages through plain HTTP: My Renders, Favorites, Collections and a collection's
page. Forms are posted the way a browser without JavaScript posts them (the CSRF field, no header).

Unknown filter values and damaged cursors are ignored with a message (200), never a 400."""

import html
import re
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
import psycopg
import pytest

from roomcraft.db.pool import Pool
from tests.factories import Account
from tests.renders.factories import count_rows, create_render

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]

CARD = re.compile(r'data-testid="render-card" data-render-id="([0-9a-f-]{36})"')
LOAD_MORE = re.compile(r'data-testid="load-more"[^>]*hx-get="([^"]+)"')
PAGES = [
    "/renders",
    "/favorites",
    "/collections",
    "/collections/7d1b1c1e-0000-4000-8000-000000000000",
]
ITEMS = "select count(*) from public.collection_items where collection_id = %s"
FAVORITES = """
    select count(*) from public.collection_items i
      join public.collections c on c.id = i.collection_id and c.is_default_favorites
     where i.render_id = %s
"""


def card_ids(page: httpx.Response) -> list[str]:
    return CARD.findall(page.text)


def card_of(page: httpx.Response, render_id: UUID) -> str:
    match = re.search(rf'<article[^>]*data-render-id="{render_id}".*?</article>', page.text, re.S)
    assert match, f"no card for {render_id}"
    return match.group(0)


def next_page(page: httpx.Response) -> str | None:
    match = LOAD_MORE.search(page.text)
    return html.unescape(match.group(1)) if match else None


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def as_form_client(client: httpx.AsyncClient) -> str:
    """Drop the API's CSRF header, as a plain browser form has none; returns the form field."""
    del client.headers["X-CSRF-Token"]
    return csrf_of(await client.get("/collections"))


async def create_collection(client: httpx.AsyncClient, name: str) -> str:
    response = await client.post("/api/v1/collections/upsert", json={"name": name})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["id"])


async def favorites_id(client: httpx.AsyncClient) -> str:
    response = await client.get("/api/v1/collections")
    return str(response.json()["data"]["collections"][0]["id"])


class TestSignInRequired:
    @pytest.mark.parametrize("path", PAGES)
    async def test_anonymous_is_sent_to_sign_in(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=%2F")

    @pytest.mark.parametrize(
        "path",
        [
            "/collections",
            "/renders/bulk",
            f"/collections/{uuid4()}/delete",
            f"/renders/{uuid4()}/favorite",
            f"/collections/{uuid4()}/items/{uuid4()}/remove",
        ],
    )
    async def test_anonymous_forms_get_the_sign_in_page(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.post(path, data={"name": "x", "action": "delete"})
        assert response.status_code == 401
        assert "text/html" in response.headers["content-type"]
        assert "Please sign in" in response.text


class TestMyRenders:
    async def test_cards_have_titles_modes_counts_and_hearts(
        self, client_for: MakeClient, user: Account, other_user: Account, pool: Pool
    ) -> None:
        loved = await create_render(
            pool, owner_id=user.id, room_type="bedroom", style="japandi", variants=3
        )
        await create_render(
            pool,
            owner_id=user.id,
            mode="imagine",
            room_type=None,
            style=None,
            prompt="A sunlit reading nook with a linen armchair",
            variants=1,
        )
        theirs = await create_render(pool, owner_id=other_user.id)
        client = await client_for(user)
        await client.post("/api/v1/favorites/toggle", json={"renderId": str(loved.id)})

        page = await client.get("/renders")

        assert page.status_code == 200
        assert str(theirs.id) not in page.text
        assert len(card_ids(page)) == 2
        assert "Bedroom · Japandi" in page.text
        assert "Redesign · 3 variants" in page.text
        assert "A sunlit reading nook with a linen armchair" in page.text
        assert "Imagine · 1 variant<" in page.text
        loved_card = card_of(page, loved.id)
        assert re.search(r'data-heart data-render-id="[^"]+" aria-pressed="true"', loved_card)
        assert f"/files/public/renders/{loved.id}/0_thumb.webp" in loved_card

    async def test_filters_narrow_the_grid_and_combine(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        match = await create_render(pool, owner_id=user.id, mode="staging", style="japandi")
        await create_render(pool, owner_id=user.id, mode="staging", style="coastal")
        await create_render(pool, owner_id=user.id, mode="redesign", style="japandi")
        client = await client_for(user)

        page = await client.get("/renders", params={"mode": "staging", "style": "japandi"})

        assert card_ids(page) == [str(match.id)]
        assert '<option value="staging" selected>' in page.text
        assert 'data-testid="clear-filters"' in page.text

    async def test_filters_that_match_nothing_say_so(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await create_render(pool, owner_id=user.id, mode="staging")
        client = await client_for(user)

        page = await client.get("/renders", params={"mode": "compose"})

        assert card_ids(page) == []
        assert "No renders match these filters" in page.text
        assert "Generate your first render" not in page.text

    async def test_no_renders_invites_to_generate(
        self, client_for: MakeClient, user: Account
    ) -> None:
        page = await (await client_for(user)).get("/renders")
        assert "Generate your first render" in page.text
        assert 'data-testid="bulk-bar"' not in page.text

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"style": "brutalist"}, "There is no style “brutalist”, so every style is shown."),
            ({"mode": "paint"}, "There is no mode “paint”, so every mode is shown."),
            ({"room_type": "<b>hall</b>"}, "There is no room type “&lt;b&gt;hall&lt;/b&gt;”"),
            ({"cursor": "@@not-a-cursor"}, "That page link is out of date"),
        ],
    )
    async def test_a_bad_filter_or_cursor_is_ignored_with_a_message(
        self,
        client_for: MakeClient,
        user: Account,
        pool: Pool,
        params: dict[str, str],
        message: str,
    ) -> None:
        renders = [await create_render(pool, owner_id=user.id) for _ in range(2)]
        client = await client_for(user)

        page = await client.get("/renders", params=params)

        assert page.status_code == 200
        assert message in page.text
        assert sorted(card_ids(page)) == sorted(str(render.id) for render in renders)

    async def test_load_more_pages_are_complete_without_duplicates(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        renders = [
            await create_render(pool, owner_id=user.id, style="japandi", variants=1)
            for _ in range(30)
        ]
        await create_render(pool, owner_id=user.id, style="coastal")  # filtered out
        client = await client_for(user)

        first = await client.get("/renders", params={"style": "japandi"})
        second_url = next_page(first)
        assert second_url is not None
        assert "style=japandi" in second_url
        second = await client.get(second_url)

        assert len(card_ids(first)) == 24
        assert not set(card_ids(first)) & set(card_ids(second))
        assert card_ids(first) + card_ids(second) == [str(r.id) for r in reversed(renders)]
        assert next_page(second) is None
        assert 'data-testid="older-note"' in second.text

    async def test_one_list_query_whatever_the_number_of_renders(
        self,
        client_for: MakeClient,
        user: Account,
        pool: Pool,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        await client.get("/renders")
        statements = _count_statements(monkeypatch)
        await client.get("/renders")
        with_one = len(statements)
        for _ in range(30):
            await create_render(pool, owner_id=user.id, variants=4)
        statements.clear()
        page = await client.get("/renders")

        assert len(card_ids(page)) == 24
        assert len(statements) == with_one


class TestSelectionWithoutJavaScript:
    async def test_add_selected_renders_to_a_collection(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        renders = [await create_render(pool, owner_id=user.id) for _ in range(3)]
        client = await client_for(user)
        collection = await create_collection(client, "Guest room")
        csrf = await as_form_client(client)

        response = await client.post(
            "/renders/bulk",
            data={
                "csrf_token": csrf,
                "action": "add",
                "collection_id": collection,
                "render_ids": [str(renders[0].id), str(renders[2].id)],
            },
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/collections/{collection}"
        page = await client.get(response.headers["location"])
        assert sorted(card_ids(page)) == sorted([str(renders[0].id), str(renders[2].id)])

    async def test_delete_asks_to_confirm_then_deletes(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        doomed = [await create_render(pool, owner_id=user.id) for _ in range(2)]
        kept = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        csrf = await as_form_client(client)
        form: dict[str, Any] = {
            "csrf_token": csrf,
            "action": "delete",
            "render_ids": [str(render.id) for render in doomed],
            "style": "",
        }

        asked = await client.post("/renders/bulk", data=form)

        assert asked.status_code == 200
        assert "Delete 2 renders?" in asked.text
        assert await count_rows(pool, "select count(*) from public.renders") == 3
        assert asked.text.count('name="render_ids" value=') == 2 + 3  # the panel's, the cards'
        assert asked.text.count(" checked data-select-render") == 2

        done = await client.post("/renders/bulk", data={**form, "confirm": "yes"})

        assert done.status_code == 303
        assert done.headers["location"] == "/renders?deleted=2"
        page = await client.get(done.headers["location"])
        assert card_ids(page) == [str(kept.id)]
        assert "Deleted 2 renders." in page.text

    async def test_nothing_selected_is_a_readable_400(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        csrf = await as_form_client(client)

        response = await client.post("/renders/bulk", data={"csrf_token": csrf, "action": "add"})

        assert response.status_code == 400
        assert "Select one or more renders first." in response.text

    async def test_another_users_render_is_neither_added_nor_deleted(
        self, client_for: MakeClient, user: Account, other_user: Account, pool: Pool
    ) -> None:
        theirs = await create_render(pool, owner_id=other_user.id)
        client = await client_for(user)
        collection = await create_collection(client, "Mine")
        csrf = await as_form_client(client)

        added = await client.post(
            "/renders/bulk",
            data={
                "csrf_token": csrf,
                "action": "add",
                "collection_id": collection,
                "render_ids": str(theirs.id),
            },
        )
        deleted = await client.post(
            "/renders/bulk",
            data={
                "csrf_token": csrf,
                "action": "delete",
                "confirm": "yes",
                "render_ids": str(theirs.id),
            },
        )

        assert added.status_code == 404
        assert "text/html" in added.headers["content-type"]
        assert deleted.headers["location"] == "/renders?deleted=0"
        assert await count_rows(pool, "select count(*) from public.renders") == 1
        assert await count_rows(pool, ITEMS, UUID(collection)) == 0

    async def test_a_form_without_its_csrf_field_is_refused(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        await as_form_client(client)

        response = await client.post(
            "/renders/bulk",
            data={"action": "delete", "confirm": "yes", "render_ids": str(render.id)},
        )

        assert response.status_code == 403
        assert await count_rows(pool, "select count(*) from public.renders") == 1


class TestHeartWithoutJavaScript:
    async def test_cards_post_their_heart_back_to_their_page(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id, style="japandi")
        client = await client_for(user)
        await client.post("/api/v1/favorites/toggle", json={"renderId": str(render.id)})

        page = await client.get("/renders", params={"style": "japandi", "deleted": "3"})

        card = card_of(page, render.id)
        assert f'<li class="library-grid-item" id="card-{render.id}">' in page.text
        assert f'action="/renders/{render.id}/favorite"' in card
        assert f'name="csrf_token" value="{csrf_of(page)}"' in card
        assert f'name="next" value="/renders?style=japandi#card-{render.id}"' in card
        assert 'type="submit" name="favorite" value="false"' in card
        assert '<button class="render-card-heart" type="submit"' in card  # not js-only

    async def test_favorite_twice_stays_a_favorite_then_unfavorite(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        csrf = await as_form_client(client)
        back = f"/renders?style=modern#card-{render.id}"
        form = {"csrf_token": csrf, "next": back}

        first = await client.post(
            f"/renders/{render.id}/favorite", data={**form, "favorite": "true"}
        )
        again = await client.post(
            f"/renders/{render.id}/favorite", data={**form, "favorite": "true"}
        )

        for response in (first, again):
            assert response.status_code == 303
            assert response.headers["location"] == back
        assert await count_rows(pool, FAVORITES, render.id) == 1
        favorites = await client.get("/favorites")
        assert card_ids(favorites) == [str(render.id)]
        assert 'type="submit" name="favorite" value="false"' in card_of(favorites, render.id)

        off = await client.post(
            f"/renders/{render.id}/favorite", data={**form, "favorite": "false"}
        )

        assert off.status_code == 303
        assert await count_rows(pool, FAVORITES, render.id) == 0
        assert card_ids(await client.get("/favorites")) == []

    @pytest.mark.parametrize("next_path", ["", "https://evil.example/", "//evil.example/x"])
    async def test_without_a_safe_next_it_goes_to_the_render(
        self, client_for: MakeClient, user: Account, pool: Pool, next_path: str
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        csrf = await as_form_client(client)

        response = await client.post(
            f"/renders/{render.id}/favorite",
            data={"csrf_token": csrf, "favorite": "true", "next": next_path},
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/renders/{render.id}"

    async def test_another_users_render_is_the_404_page(
        self, client_for: MakeClient, user: Account, other_user: Account, pool: Pool
    ) -> None:
        theirs = await create_render(pool, owner_id=other_user.id)
        client = await client_for(user)
        csrf = await as_form_client(client)

        for favorite in ("true", "false"):
            response = await client.post(
                f"/renders/{theirs.id}/favorite",
                data={"csrf_token": csrf, "favorite": favorite, "next": "/renders"},
            )
            assert response.status_code == 404
            assert "Page not found" in response.text
        assert await count_rows(pool, "select count(*) from public.collection_items") == 0

    @pytest.mark.parametrize("value", ["", "yes", "True"])
    async def test_a_bad_value_is_a_readable_400(
        self, client_for: MakeClient, user: Account, pool: Pool, value: str
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        csrf = await as_form_client(client)

        response = await client.post(
            f"/renders/{render.id}/favorite", data={"csrf_token": csrf, "favorite": value}
        )

        assert response.status_code == 400
        assert "text/html" in response.headers["content-type"]
        assert "That heart sent neither “true” nor “false”." in response.text
        assert await count_rows(pool, FAVORITES, render.id) == 0

    async def test_a_heart_without_its_csrf_field_is_refused(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        await as_form_client(client)

        response = await client.post(f"/renders/{render.id}/favorite", data={"favorite": "true"})

        assert response.status_code == 403
        assert await count_rows(pool, FAVORITES, render.id) == 0


class TestRemoveWithoutJavaScript:
    async def test_remove_from_a_collection_twice_and_the_render_stays(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        leaving, staying = [await create_render(pool, owner_id=user.id) for _ in range(2)]
        client = await client_for(user)
        collection = await create_collection(client, "Porches")
        await client.post(
            "/api/v1/collections/items/add",
            json={"collectionId": collection, "renderIds": [str(leaving.id), str(staying.id)]},
        )
        csrf = await as_form_client(client)
        page = await client.get(f"/collections/{collection}")
        card = card_of(page, leaving.id)
        action = f"/collections/{collection}/items/{leaving.id}/remove"
        assert f'action="{action}"' in card
        assert f'name="next" value="/collections/{collection}#card-{leaving.id}"' in card

        first = await client.post(action, data={"csrf_token": csrf, "next": ""})
        again = await client.post(action, data={"csrf_token": csrf, "next": ""})

        for response in (first, again):
            assert response.status_code == 303
            assert response.headers["location"] == f"/collections/{collection}"
        page = await client.get(f"/collections/{collection}")
        assert card_ids(page) == [str(staying.id)]
        assert "1 render<" in page.text
        assert sorted(card_ids(await client.get("/renders"))) == sorted(
            [str(leaving.id), str(staying.id)]
        )

    async def test_another_users_collection_or_render_is_the_404_page(
        self, client_for: MakeClient, user: Account, other_user: Account, pool: Pool
    ) -> None:
        mine = await create_render(pool, owner_id=user.id)
        theirs = await create_render(pool, owner_id=other_user.id)
        other_client = await client_for(other_user)
        their_collection = await create_collection(other_client, "Private")
        await other_client.post(
            "/api/v1/collections/items/add",
            json={"collectionId": their_collection, "renderIds": [str(theirs.id)]},
        )
        client = await client_for(user)
        my_collection = await create_collection(client, "Mine")
        csrf = await as_form_client(client)

        paths = [
            f"/collections/{their_collection}/items/{theirs.id}/remove",
            f"/collections/{their_collection}/items/{mine.id}/remove",
            f"/collections/{my_collection}/items/{theirs.id}/remove",
        ]
        for path in paths:
            response = await client.post(path, data={"csrf_token": csrf})
            assert response.status_code == 404, path
            assert "Page not found" in response.text
            assert "Private" not in response.text
        assert await count_rows(pool, ITEMS, UUID(their_collection)) == 1


class TestFavorites:
    async def test_newest_favorited_first_across_pages(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        renders = [await create_render(pool, owner_id=user.id, variants=1) for _ in range(26)]
        await create_render(pool, owner_id=user.id)  # not a favorite
        client = await client_for(user)
        for render in renders:
            await client.post("/api/v1/favorites/toggle", json={"renderId": str(render.id)})

        first = await client.get("/favorites")
        second_url = next_page(first)
        assert second_url is not None
        second = await client.get(second_url)

        assert card_ids(first) + card_ids(second) == [str(r.id) for r in reversed(renders)]
        assert not set(card_ids(first)) & set(card_ids(second))
        assert first.text.count('aria-pressed="true"') == 24

    async def test_no_favorites_invites_to_generate(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        await create_render(pool, owner_id=user.id)
        page = await (await client_for(user)).get("/favorites")
        assert card_ids(page) == []
        assert "No favorites yet" in page.text
        assert "Generate your first render" in page.text


class TestCollections:
    async def test_favorites_first_with_counts_and_covers(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        renders = [await create_render(pool, owner_id=user.id) for _ in range(4)]
        client = await client_for(user)
        older = await create_collection(client, "Kitchens")
        newer = await create_collection(client, "Bedrooms")
        await client.post(
            "/api/v1/collections/items/add",
            json={"collectionId": older, "renderIds": [str(r.id) for r in renders]},
        )
        await client.post("/api/v1/favorites/toggle", json={"renderId": str(renders[0].id)})

        page = await client.get("/collections")

        names = re.findall(r'data-testid="collection-name">([^<]+)<', page.text)
        counts = re.findall(r'data-testid="collection-count">([^<]+)<', page.text)
        assert names == ["My Favorites", "Bedrooms", "Kitchens"]
        assert counts == ["1 render", "0 renders", "4 renders"]
        assert 'href="/favorites"' in page.text
        assert f'href="/collections/{newer}"' in page.text
        kitchens = page.text.split(f'data-collection-id="{older}"')[1].split("</li>")[0]
        assert "collection-cover--3" in kitchens
        covers = re.findall(r"/files/public/renders/([0-9a-f-]{36})/0_thumb.webp", kitchens)
        assert len(covers) == 3
        assert set(covers) < {str(render.id) for render in renders}
        assert page.text.count('data-testid="rename-collection"') == 2  # never the default's

    async def test_create_rename_and_delete_with_forms(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        csrf = await as_form_client(client)

        created = await client.post("/collections", data={"csrf_token": csrf, "name": "  Attic  "})
        assert created.status_code == 303
        assert created.headers["location"] == "/collections"
        collection = re.findall(
            r'href="/collections/([0-9a-f-]{36})"', (await client.get("/collections")).text
        )
        assert len(collection) == 1
        collection_id = collection[0]
        await client.post(
            "/renders/bulk",
            data={
                "csrf_token": csrf,
                "action": "add",
                "collection_id": collection_id,
                "render_ids": str(render.id),
            },
        )

        renamed = await client.post(
            f"/collections/{collection_id}/rename",
            data={"csrf_token": csrf, "name": "Loft", "back": "page"},
        )
        assert renamed.status_code == 303
        assert renamed.headers["location"] == f"/collections/{collection_id}"
        page = await client.get(renamed.headers["location"])
        assert '<h1 data-testid="collection-title">Loft</h1>' in page.text
        assert card_ids(page) == [str(render.id)]

        deleted = await client.post(
            f"/collections/{collection_id}/delete", data={"csrf_token": csrf}
        )
        assert deleted.status_code == 303
        assert "Loft" not in (await client.get("/collections")).text
        assert card_ids(await client.get("/renders")) == [str(render.id)]

    @pytest.mark.parametrize("name", ["", "   ", "x" * 101])
    async def test_a_bad_name_is_shown_on_the_form(
        self, client_for: MakeClient, user: Account, name: str
    ) -> None:
        client = await client_for(user)
        collection = await create_collection(client, "Studio")
        csrf = await as_form_client(client)

        created = await client.post("/collections", data={"csrf_token": csrf, "name": name})
        renamed_on_list = await client.post(
            f"/collections/{collection}/rename", data={"csrf_token": csrf, "name": name}
        )
        renamed_on_page = await client.post(
            f"/collections/{collection}/rename",
            data={"csrf_token": csrf, "name": name, "back": "page"},
        )

        for response in (created, renamed_on_list, renamed_on_page):
            assert response.status_code == 400
            assert "Give the collection a name of 1 to 100 characters." in response.text
        assert 'aria-describedby="new-collection-error"' in created.text
        assert '<details class="disclosure" data-disclosure open>' in renamed_on_list.text
        assert 'data-testid="collection-title">Studio<' in renamed_on_page.text

    async def test_other_users_collection_is_the_404_page(
        self, client_for: MakeClient, user: Account, other_user: Account, pool: Pool
    ) -> None:
        theirs = await create_collection(await client_for(other_user), "Private")
        client = await client_for(user)
        csrf = await as_form_client(client)

        page = await client.get(f"/collections/{theirs}")
        renamed = await client.post(
            f"/collections/{theirs}/rename", data={"csrf_token": csrf, "name": "Mine now"}
        )
        deleted = await client.post(f"/collections/{theirs}/delete", data={"csrf_token": csrf})

        for response in (page, renamed, deleted):
            assert response.status_code == 404
            assert "Page not found" in response.text
            assert "Private" not in response.text
        assert (await client.get(f"/collections/{uuid4()}")).status_code == 404
        assert (await client.get("/collections/not-an-id")).status_code == 400

    async def test_my_favorites_page_is_the_favorites_page_and_keeps_its_name(
        self, client_for: MakeClient, user: Account
    ) -> None:
        client = await client_for(user)
        default = await favorites_id(client)
        csrf = await as_form_client(client)

        page = await client.get(f"/collections/{default}")
        renamed = await client.post(
            f"/collections/{default}/rename", data={"csrf_token": csrf, "name": "Loves"}
        )
        deleted = await client.post(f"/collections/{default}/delete", data={"csrf_token": csrf})

        assert page.status_code == 303
        assert page.headers["location"] == "/favorites"
        assert renamed.status_code == deleted.status_code == 409
        assert "My Favorites cannot be renamed or deleted." in renamed.text

    async def test_a_collection_page_pages_through_its_items(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        renders = [await create_render(pool, owner_id=user.id, variants=1) for _ in range(27)]
        outside = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        collection = await create_collection(client, "Everything")
        for render in renders:
            await client.post(
                "/api/v1/collections/items/toggle",
                json={"collectionId": collection, "renderId": str(render.id)},
            )

        first = await client.get(f"/collections/{collection}")
        second_url = next_page(first)
        assert second_url is not None
        second = await client.get(second_url)

        assert "27 renders" in first.text
        assert card_ids(first) + card_ids(second) == [str(r.id) for r in reversed(renders)]
        assert str(outside.id) not in first.text + second.text
        assert first.text.count(f'data-remove-from="{collection}"') == 24

    async def test_an_empty_collection_points_to_my_renders(
        self, client_for: MakeClient, user: Account
    ) -> None:
        client = await client_for(user)
        collection = await create_collection(client, "Someday")
        page = await client.get(f"/collections/{collection}")
        assert "Nothing in this collection yet" in page.text
        assert 'href="/renders"' in page.text


class TestRenderPage:
    async def test_heart_and_menu_know_the_renders_memberships(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id)
        client = await client_for(user)
        collection = await create_collection(client, "Hall")
        await client.post(
            "/api/v1/collections/items/toggle",
            json={"collectionId": collection, "renderId": str(render.id)},
        )
        await client.post("/api/v1/favorites/toggle", json={"renderId": str(render.id)})

        page = await client.get(f"/renders/{render.id}")

        assert page.status_code == 200
        ids = re.search(r'data-collection-ids="([^"]*)"', page.text)
        assert ids is not None
        assert set(ids.group(1).split()) == {collection, await favorites_id(client)}
        heart = re.search(r'<button[^>]*data-testid="render-heart"[^>]*>', page.text)
        assert heart is not None
        assert 'aria-pressed="true"' in heart.group(0)
        assert 'type="submit" name="favorite" value="false"' in heart.group(0)
        assert 'data-testid="render-collection-menu"' in page.text

    async def test_the_heart_form_comes_back_to_the_variant_shown(
        self, client_for: MakeClient, user: Account, pool: Pool
    ) -> None:
        render = await create_render(pool, owner_id=user.id, variants=3)
        client = await client_for(user)
        csrf = await as_form_client(client)
        page = await client.get(f"/renders/{render.id}", params={"variant": 2})
        form = re.search(
            rf'<form[^>]*action="/renders/{render.id}/favorite".*?</form>', page.text, re.S
        )
        assert form is not None
        assert f'name="next" value="/renders/{render.id}?variant=2"' in form.group(0)

        response = await client.post(
            f"/renders/{render.id}/favorite",
            data={
                "csrf_token": csrf,
                "favorite": "true",
                "next": f"/renders/{render.id}?variant=2",
            },
        )

        assert response.headers["location"] == f"/renders/{render.id}?variant=2"
        page = await client.get(response.headers["location"])
        heart = re.search(r'<button[^>]*data-testid="render-heart"[^>]*>', page.text)
        assert heart is not None
        assert 'aria-pressed="true"' in heart.group(0)


def _count_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every statement psycopg sends (a connection's `execute` goes through a cursor)."""
    statements: list[str] = []
    original = psycopg.AsyncCursor.execute

    async def counting(cur: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        return await original(cur, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncCursor, "execute", counting)
    return statements
