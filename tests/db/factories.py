"""Rows for the row-level-security tests, inserted as the service role with plain SQL.

Each factory takes a service-role connection and returns the key of the row it made;
`seed_world` gives two users one of everything they can own.
"""

import itertools
import secrets
from dataclasses import dataclass
from uuid import UUID, uuid4

from roomcraft.db.pool import Pool
from roomcraft.db.session import Conn, as_service
from tests.factories import Account

_sequence = itertools.count(1)


@dataclass(frozen=True)
class Holdings:
    """The keys of everything one user owns in a seeded world."""

    owner_id: UUID
    upload_id: UUID
    job_id: UUID
    prediction_id: UUID
    render_id: UUID
    variant_ids: tuple[UUID, UUID]
    favorites_id: UUID
    collection_id: UUID
    ledger_entry_id: UUID
    api_token_id: UUID

    def keys(self, table: str) -> set[tuple[UUID, ...]]:
        """The primary keys this user has in `table` (schema-qualified), as tuples."""
        owned: dict[str, list[tuple[UUID, ...]]] = {
            "auth.api_tokens": [(self.api_token_id,)],
            "public.profiles": [(self.owner_id,)],
            "public.uploads": [(self.upload_id,)],
            "public.generation_jobs": [(self.job_id,)],
            "public.generation_predictions": [(self.prediction_id,)],
            "public.renders": [(self.render_id,)],
            "public.render_variants": [(variant_id,) for variant_id in self.variant_ids],
            "public.collections": [(self.favorites_id,), (self.collection_id,)],
            "public.collection_items": [
                (self.favorites_id, self.render_id),
                (self.collection_id, self.render_id),
            ],
            "public.usage_ledger": [(self.ledger_entry_id,)],
        }
        return set(owned[table])

    def ids(self) -> set[UUID]:
        """Every id this user's rows carry, the user's own included."""
        return {
            self.owner_id,
            self.upload_id,
            self.job_id,
            self.prediction_id,
            self.render_id,
            *self.variant_ids,
            self.favorites_id,
            self.collection_id,
            self.ledger_entry_id,
            self.api_token_id,
        }


@dataclass(frozen=True)
class World:
    """User A's and user B's holdings."""

    a: Holdings
    b: Holdings


async def _insert_returning_id(conn: Conn, query: str, params: dict[str, object]) -> UUID:
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    assert row is not None
    return UUID(str(row["id"]))


async def insert_upload(conn: Conn, *, owner_id: UUID) -> UUID:
    return await _insert_returning_id(
        conn,
        """
        insert into public.uploads (owner_id, storage_path, content_type, width, height, bytes,
                                    sha256)
        values (%(owner_id)s, %(path)s, 'image/jpeg', 1024, 768, 123456, %(sha256)s)
        returning id
        """,
        {
            "owner_id": owner_id,
            "path": f"{owner_id}/inputs/{uuid4()}.jpg",
            "sha256": secrets.token_hex(32),
        },
    )


async def insert_job(conn: Conn, *, owner_id: UUID, upload_id: UUID) -> UUID:
    return await _insert_returning_id(
        conn,
        """
        insert into public.generation_jobs (owner_id, mode, provider, input1_upload_id)
        values (%(owner_id)s, 'redesign', 'local', %(upload_id)s)
        returning id
        """,
        {"owner_id": owner_id, "upload_id": upload_id},
    )


async def insert_prediction(conn: Conn, *, owner_id: UUID, job_id: UUID, idx: int = 0) -> UUID:
    return await _insert_returning_id(
        conn,
        """
        insert into public.generation_predictions (job_id, owner_id, idx, prediction_id)
        values (%(job_id)s, %(owner_id)s, %(idx)s, %(prediction_id)s)
        returning id
        """,
        {
            "job_id": job_id,
            "owner_id": owner_id,
            "idx": idx,
            "prediction_id": f"pred-{next(_sequence)}",
        },
    )


async def insert_render(conn: Conn, *, owner_id: UUID, job_id: UUID) -> UUID:
    return await _insert_returning_id(
        conn,
        """
        insert into public.renders (job_id, owner_id, mode)
        values (%(job_id)s, %(owner_id)s, 'redesign')
        returning id
        """,
        {"job_id": job_id, "owner_id": owner_id},
    )


async def insert_variant(conn: Conn, *, owner_id: UUID, render_id: UUID, idx: int) -> UUID:
    return await _insert_returning_id(
        conn,
        """
        insert into public.render_variants (render_id, owner_id, idx, image_path, width, height,
                                            bytes)
        values (%(render_id)s, %(owner_id)s, %(idx)s, %(path)s, 1024, 768, 200000)
        returning id
        """,
        {
            "render_id": render_id,
            "owner_id": owner_id,
            "idx": idx,
            "path": f"public/renders/{render_id}/{idx}.jpg",
        },
    )


async def get_favorites_id(conn: Conn, *, owner_id: UUID) -> UUID:
    """The owner's default "My Favorites" collection, made by the trigger."""
    cur = await conn.execute(
        "select id from public.collections where owner_id = %s and is_default_favorites",
        (owner_id,),
    )
    row = await cur.fetchone()
    assert row is not None
    return UUID(str(row["id"]))


async def insert_collection(conn: Conn, *, owner_id: UUID, name: str = "Living rooms") -> UUID:
    return await _insert_returning_id(
        conn,
        "insert into public.collections (owner_id, name) values (%(owner_id)s, %(name)s) "
        "returning id",
        {"owner_id": owner_id, "name": name},
    )


async def insert_collection_item(
    conn: Conn, *, owner_id: UUID, collection_id: UUID, render_id: UUID
) -> None:
    await conn.execute(
        "insert into public.collection_items (collection_id, render_id, owner_id) "
        "values (%s, %s, %s)",
        (collection_id, render_id, owner_id),
    )


async def insert_ledger_entry(conn: Conn, *, owner_id: UUID, job_id: UUID) -> UUID:
    return await _insert_returning_id(
        conn,
        """
        insert into public.usage_ledger (owner_id, kind, amount, job_id)
        values (%(owner_id)s, 'generation_debit', 1, %(job_id)s)
        returning id
        """,
        {"owner_id": owner_id, "job_id": job_id},
    )


async def insert_api_token(conn: Conn, *, user_id: UUID) -> UUID:
    return await _insert_returning_id(
        conn,
        """
        insert into auth.api_tokens (user_id, name, prefix, token_hash)
        values (%(user_id)s, 'CI', 'rc_test', %(token_hash)s)
        returning id
        """,
        {"user_id": user_id, "token_hash": secrets.token_bytes(32)},
    )


async def insert_community_collection(conn: Conn, *, title: str = "Scandinavian") -> UUID:
    return await _insert_returning_id(
        conn,
        "insert into public.community_collections (title) values (%(title)s) returning id",
        {"title": title},
    )


async def insert_community_item(
    conn: Conn,
    *,
    collection_id: UUID,
    external_image_url: str | None = "https://images.example.com/room.jpg",
    render_id: UUID | None = None,
) -> UUID:
    return await _insert_returning_id(
        conn,
        """
        insert into public.community_items (collection_id, external_image_url, render_id,
                                            image_path)
        values (%(collection_id)s, %(url)s, %(render_id)s, %(image_path)s)
        returning id
        """,
        {
            "collection_id": collection_id,
            "url": external_image_url,
            "render_id": render_id,
            "image_path": f"public/community/{uuid4()}.jpg",
        },
    )


async def _seed_holdings(conn: Conn, *, owner_id: UUID) -> Holdings:
    upload_id = await insert_upload(conn, owner_id=owner_id)
    job_id = await insert_job(conn, owner_id=owner_id, upload_id=upload_id)
    prediction_id = await insert_prediction(conn, owner_id=owner_id, job_id=job_id)
    render_id = await insert_render(conn, owner_id=owner_id, job_id=job_id)
    variant_ids = (
        await insert_variant(conn, owner_id=owner_id, render_id=render_id, idx=0),
        await insert_variant(conn, owner_id=owner_id, render_id=render_id, idx=1),
    )
    favorites_id = await get_favorites_id(conn, owner_id=owner_id)
    collection_id = await insert_collection(conn, owner_id=owner_id)
    for target in (favorites_id, collection_id):
        await insert_collection_item(
            conn, owner_id=owner_id, collection_id=target, render_id=render_id
        )
    return Holdings(
        owner_id=owner_id,
        upload_id=upload_id,
        job_id=job_id,
        prediction_id=prediction_id,
        render_id=render_id,
        variant_ids=variant_ids,
        favorites_id=favorites_id,
        collection_id=collection_id,
        ledger_entry_id=await insert_ledger_entry(conn, owner_id=owner_id, job_id=job_id),
        api_token_id=await insert_api_token(conn, user_id=owner_id),
    )


async def seed_world(pool: Pool, a: Account, b: Account) -> World:
    """Give users A and B one of everything they can own (two variants, two collection items)."""
    async with as_service(pool) as conn:
        return World(
            a=await _seed_holdings(conn, owner_id=a.id),
            b=await _seed_holdings(conn, owner_id=b.id),
        )
