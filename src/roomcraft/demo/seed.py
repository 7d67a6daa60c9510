"""`roomcraft demo`: a demo account with renders and a community gallery, so a fresh install has
something in every library page.

Everything goes through the app's own paths. The scenes' photos are uploaded as a user uploads
them; each render is a job submitted as the generator submits it (on the local engine), which the
queue's worker, run here until the queue is empty, renders, stores and finishes; each new render
is then favorited, collected and added to the gallery through those domains' services. A scene's
job has a fixed idempotency key, so a second run finds it and changes nothing (a run that was
interrupted carries on where it stopped). It runs before the server starts: no event loop serving
requests waits on its rendering.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import structlog

from roomcraft.auth import service as auth_service
from roomcraft.auth.passwords import Passwords
from roomcraft.collections import service as collections_service
from roomcraft.community import service as community_service
from roomcraft.community.schemas import (
    ApplySettings,
    CommunityCollectionCreate,
    CommunityItemCreate,
)
from roomcraft.db.pool import Pool
from roomcraft.db.session import Conn, as_service, as_user, set_identity
from roomcraft.demo import photos
from roomcraft.demo.scenes import GALLERY, SCENES, USER_COLLECTION, GalleryCollection, Photo, Scene
from roomcraft.generations import service as generations_service
from roomcraft.generations.lifecycle import TERMINAL_JOB
from roomcraft.kit.errors import AppError
from roomcraft.kit.time import utcnow
from roomcraft.renders import service as renders_service
from roomcraft.runtime import Runtime
from roomcraft.uploads import service as uploads_service
from roomcraft.usage import service as usage_service
from roomcraft.users import service as users_service
from roomcraft.worker.run import run_worker

log = structlog.get_logger(__name__)

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "roomcraft-demo"  # noqa: S105 (the published demo account of a local install)
GIFT_REASON = "Demo renders are on the house"
_PHOTOS: dict[Photo, Callable[[], bytes]] = {
    "empty_room": photos.empty_room,
    "armchair": photos.armchair,
}


@dataclass(frozen=True)
class DemoSummary:
    renders: int  # the demo renders there are
    new_renders: int  # made by this run


@dataclass(frozen=True)
class _SceneState:
    status: str | None  # None: never submitted
    render_id: UUID | None


async def seed(rt: Runtime, passwords: Passwords) -> DemoSummary:
    """Create the demo account, then each scene's render and its places; what exists is kept."""
    user_id = await ensure_account(rt.pool, passwords)
    uploads: dict[Photo, UUID] = {}
    renders = new_renders = 0
    for scene in SCENES:
        state = await _state(rt.pool, user_id, scene)
        if state.status is None and not await _submit(rt, user_id, scene, uploads):
            continue
        if state.status not in TERMINAL_JOB:
            await run_worker(rt, wait=False, concurrency=2)
            state = await _state(rt.pool, user_id, scene)
            if state.render_id is not None:
                await _file(rt, user_id, scene, state.render_id)
                new_renders += 1
        renders += state.render_id is not None
    log.info("demo.seeded", renders=renders, new_renders=new_renders)
    return DemoSummary(renders=renders, new_renders=new_renders)


async def ensure_account(pool: Pool, passwords: Passwords) -> UUID:
    """The demo account's id, creating the account (confirmed, known password) when missing."""
    async with as_service(pool) as conn:
        await auth_service.ensure_password_account(
            conn, passwords, email=DEMO_EMAIL, password=DEMO_PASSWORD
        )
        profile = await users_service.get_profile_by_email(conn, email=DEMO_EMAIL)
    return profile.id


async def _state(pool: Pool, user_id: UUID, scene: Scene) -> _SceneState:
    async with as_user(pool, user_id) as conn:
        job_id = await generations_service.get_job_id_by_idempotency_key(
            conn, user_id=user_id, key=scene.idempotency_key
        )
        if job_id is None:
            return _SceneState(status=None, render_id=None)
        job, variants = await generations_service.get_generation(conn, job_id=job_id)
    return _SceneState(status=job.status, render_id=variants[0].render_id if variants else None)


async def _submit(rt: Runtime, user_id: UUID, scene: Scene, uploads: dict[Photo, UUID]) -> bool:
    """Submit the scene's job on the local engine; False when the app refuses it."""
    for photo in scene.inputs:
        if photo not in uploads:
            uploads[photo] = await _upload(rt, user_id, photo)
    local = rt.settings.model_copy(update={"provider": "local"})
    try:
        async with as_user(rt.pool, user_id) as conn:
            await _gift_credits(conn, user_id=user_id, amount=scene.variants)
            await generations_service.submit_generation(
                conn,
                local,
                rt.presets,
                rt.scheduler,
                user_id=user_id,
                body=scene.submission(uploads),
                now=utcnow(),
            )
    except AppError as error:
        log.warning("demo.scene_refused", scene=scene.key, error=error.message)
        return False
    return True


async def _upload(rt: Runtime, user_id: UUID, photo: Photo) -> UUID:
    data = await asyncio.to_thread(_PHOTOS[photo])
    async with as_user(rt.pool, user_id) as conn:
        created = await uploads_service.create_upload(
            conn, rt.settings, rt.storage, owner_id=user_id, data=data
        )
    return created.upload.id


async def _gift_credits(conn: Conn, *, user_id: UUID, amount: int) -> None:
    """Credit what the scene will be charged, so the demo leaves the month's credits whole."""
    await set_identity(conn, role="service_role")
    await usage_service.refund(
        conn, owner_id=user_id, job_id=None, amount=amount, reason=GIFT_REASON
    )
    await set_identity(conn, role="authenticated", user_id=user_id)


async def _file(rt: Runtime, user_id: UUID, scene: Scene, render_id: UUID) -> None:
    """Put a new demo render where the scene says: favorites, the collection, the gallery."""
    async with as_user(rt.pool, user_id) as conn:
        if scene.favorite:
            await collections_service.set_favorite(
                conn, owner_id=user_id, render_id=render_id, favorited=True
            )
        if scene.in_collection:
            await _collect(conn, user_id, render_id)
    async with as_service(rt.pool) as conn:
        look = await renders_service.get_render_look(conn, render_id=render_id)
        siblings = [other for other in SCENES if other.gallery == scene.gallery]
        item = CommunityItemCreate(
            collection_id=await _gallery_collection(conn, scene.gallery),
            render_id=render_id,
            title=scene.title,
            apply_settings=ApplySettings.model_validate(look),
            order_index=siblings.index(scene),
        )
        await community_service.create_item(conn, rt, body=item)


async def _collect(conn: Conn, user_id: UUID, render_id: UUID) -> None:
    """Add the render to the user's demo collection, made when missing."""
    collections = await collections_service.list_collections(conn, owner_id=user_id)
    collection = next((c for c in collections if c.name == USER_COLLECTION), None)
    if collection is None:
        collection = await collections_service.upsert_collection(
            conn, owner_id=user_id, collection_id=None, name=USER_COLLECTION
        )
    await collections_service.add_items(
        conn, owner_id=user_id, collection_id=collection.id, render_ids=[render_id]
    )


async def _gallery_collection(conn: Conn, gallery: GalleryCollection) -> UUID:
    """The id of the community collection with this title, made when missing."""
    for view in await community_service.list_gallery(conn):
        if view.collection.title == gallery.title:
            return view.collection.id
    created = await community_service.create_collection(
        conn,
        body=CommunityCollectionCreate(
            title=gallery.title,
            description=gallery.description,
            is_featured=gallery.featured,
            order_index=GALLERY.index(gallery),
        ),
    )
    return created.collection.id
