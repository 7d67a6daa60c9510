from uuid import uuid4

import psycopg
import pytest

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service, as_user
from roomcraft.kit.images import ImageUnsupported
from roomcraft.runtime import Runtime
from roomcraft.storage.service import Storage
from roomcraft.uploads import service as uploads_service
from roomcraft.uploads.repository import UploadRow
from tests.factories import Account
from tests.kit import photos


@pytest.fixture
def storage(runtime: Runtime) -> Storage:
    return runtime.storage


class TestCreateUpload:
    async def test_upload_is_stored_and_recorded(
        self, pool: Pool, settings: Settings, storage: Storage, user: Account
    ) -> None:
        async with as_user(pool, user.id) as conn:
            created = await uploads_service.create_upload(
                conn, settings, storage, owner_id=user.id, data=photos.webp((300, 200))
            )

        assert created.upload.owner_id == user.id
        assert (created.upload.width, created.upload.height) == (300, 200)
        stored = await storage.get("private", created.upload.storage_path)
        assert created.upload.byte_size == len(stored)
        assert created.url.startswith(f"/files/private/{created.upload.storage_path}?expires=")

    async def test_file_is_removed_when_the_row_cannot_be_written(
        self, pool: Pool, settings: Settings, storage: Storage, user: Account, other_user: Account
    ) -> None:
        # Acting as `user` while claiming `other_user`'s ownership: RLS refuses the insert.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            async with as_user(pool, user.id) as conn:
                await uploads_service.create_upload(
                    conn, settings, storage, owner_id=other_user.id, data=photos.jpeg()
                )

        assert await storage.list_paths("private", str(other_user.id)) == []

    async def test_refused_image_leaves_nothing_behind(
        self, pool: Pool, settings: Settings, storage: Storage, user: Account
    ) -> None:
        async with as_user(pool, user.id) as conn:
            with pytest.raises(ImageUnsupported):
                await uploads_service.create_upload(
                    conn, settings, storage, owner_id=user.id, data=photos.gif()
                )

        assert await storage.list_paths("private", str(user.id)) == []


class TestGetOwnedUpload:
    async def _create(
        self, pool: Pool, settings: Settings, storage: Storage, owner: Account
    ) -> UploadRow:
        async with as_user(pool, owner.id) as conn:
            created = await uploads_service.create_upload(
                conn, settings, storage, owner_id=owner.id, data=photos.jpeg()
            )
        return created.upload

    async def test_owner_gets_their_upload(
        self, pool: Pool, settings: Settings, storage: Storage, user: Account
    ) -> None:
        upload = await self._create(pool, settings, storage, user)

        async with as_user(pool, user.id) as conn:
            found = await uploads_service.get_owned_upload(conn, upload_id=upload.id)

        assert found == upload

    async def test_other_users_upload_is_not_found(
        self,
        pool: Pool,
        settings: Settings,
        storage: Storage,
        user: Account,
        other_user: Account,
    ) -> None:
        upload = await self._create(pool, settings, storage, user)

        async with as_user(pool, other_user.id) as conn:
            with pytest.raises(uploads_service.UploadNotFound):
                await uploads_service.get_owned_upload(conn, upload_id=upload.id)

    async def test_unknown_upload_is_not_found(self, pool: Pool, user: Account) -> None:
        async with as_user(pool, user.id) as conn:
            with pytest.raises(uploads_service.UploadNotFound):
                await uploads_service.get_owned_upload(conn, upload_id=uuid4())

    async def test_owner_is_checked_even_where_rls_does_not_apply(
        self,
        pool: Pool,
        settings: Settings,
        storage: Storage,
        user: Account,
        other_user: Account,
    ) -> None:
        upload = await self._create(pool, settings, storage, user)

        async with as_service(pool) as conn:
            with pytest.raises(uploads_service.UploadNotFound):
                await uploads_service.get_owned_upload(
                    conn, upload_id=upload.id, owner_id=other_user.id
                )
            found = await uploads_service.get_owned_upload(
                conn, upload_id=upload.id, owner_id=user.id
            )

        assert found.id == upload.id
