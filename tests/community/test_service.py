from pathlib import Path
from typing import Any

import pytest

from roomcraft.community import service as community_service
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_anon, as_service
from roomcraft.kit.errors import ValidationFailed
from roomcraft.runtime import Runtime
from tests.community.conftest import jpeg_bytes


def gallery(image_server: str) -> dict[str, Any]:
    return {
        "collections": [
            {
                "title": "Scandinavian calm",
                "description": "Pale oak and linen.",
                "featured": True,
                "items": [
                    {
                        "title": "Living room",
                        "externalImageUrl": f"{image_server}/room.jpg",
                        "applySettings": {"mode": "redesign", "style": "scandinavian"},
                    },
                    {
                        "imagePath": "bedroom.jpg",
                        "applySettings": {"mode": "staging", "roomType": "bedroom"},
                    },
                ],
            },
            {"title": "Empty for now"},
        ]
    }


class TestImportGallery:
    async def test_import_is_idempotent_by_title(
        self, pool: Pool, runtime: Runtime, image_server: str, tmp_path: Path
    ) -> None:
        (tmp_path / "bedroom.jpg").write_bytes(jpeg_bytes(color="olive"))
        document = gallery(image_server)

        for _ in range(2):
            async with as_service(pool) as conn:
                summary = await community_service.import_gallery(
                    conn, runtime, document, base_dir=tmp_path
                )

        assert (summary.collections_created, summary.items_created) == (0, 0)
        async with as_anon(pool) as conn:
            views = await community_service.list_gallery(conn)
        assert [v.collection.title for v in views] == ["Scandinavian calm", "Empty for now"]
        assert views[0].collection.is_featured
        items = views[0].items
        assert [i.title for i in items] == ["Living room", None]
        assert items[1].apply_settings == {"mode": "staging", "room_type": "bedroom"}
        for item in items:
            assert item.image_path is not None
            assert await runtime.storage.exists("public", item.image_path)

    async def test_first_import_reports_what_it_created(
        self, pool: Pool, runtime: Runtime, image_server: str, tmp_path: Path
    ) -> None:
        (tmp_path / "bedroom.jpg").write_bytes(jpeg_bytes())

        async with as_service(pool) as conn:
            summary = await community_service.import_gallery(
                conn, runtime, gallery(image_server), base_dir=tmp_path
            )

        assert (summary.collections_created, summary.items_created) == (2, 2)

    async def test_a_failed_import_leaves_no_rows_and_no_files(
        self, pool: Pool, runtime: Runtime, image_server: str, tmp_path: Path
    ) -> None:
        (tmp_path / "bedroom.jpg").write_bytes(jpeg_bytes())
        document = gallery(image_server)
        # The first item is stored; the second cannot be fetched, so the whole import fails.
        items = document["collections"][0]["items"]
        items[0], items[1] = items[1], {**items[0], "externalImageUrl": f"{image_server}/gone.jpg"}
        files_before = await runtime.storage.list_paths("public", "community")

        with pytest.raises(ValidationFailed, match="could not be fetched"):
            async with as_service(pool) as conn:
                await community_service.import_gallery(conn, runtime, document, base_dir=tmp_path)

        async with as_anon(pool) as conn:
            assert await community_service.list_gallery(conn) == []
        assert await runtime.storage.list_paths("public", "community") == files_before

    @pytest.mark.parametrize(
        "document",
        [
            {"collections": [{"title": ""}]},
            {"collections": [{"title": "x", "items": [{"applySettings": {"mode": "redesign"}}]}]},
            {
                "collections": [
                    {
                        "title": "x",
                        "items": [
                            {"imagePath": "a.jpg", "applySettings": {"mode": "x", "variants": 9}}
                        ],
                    }
                ]
            },
        ],
    )
    async def test_invalid_document_is_rejected(
        self, pool: Pool, runtime: Runtime, document: dict[str, Any]
    ) -> None:
        with pytest.raises(ValidationFailed):
            async with as_service(pool) as conn:
                await community_service.import_gallery(conn, runtime, document)
