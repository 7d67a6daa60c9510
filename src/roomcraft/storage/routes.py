"""`/files/{bucket}/{path}`: the app serving its own files in local mode (S3 serves its own).

Public files are immutable (a new render gets new paths), so browsers and CDNs keep them for a
year. Private files need a valid, unexpired signed link and are cached privately no longer than
the link lives. Failures are pages: 400 for a malformed path, 403 for a bad link, 404 for a
missing file.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from roomcraft.storage.service import PUBLIC_CACHE_CONTROL, Storage, media_type

router = APIRouter(include_in_schema=False)


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]


@router.api_route("/files/public/{path:path}", methods=["GET", "HEAD"])
async def public_file(path: str, storage: StorageDep) -> FileResponse:
    """A file of the public bucket."""
    file = storage.local_file("public", path)
    return FileResponse(
        file, media_type=media_type(path), headers={"Cache-Control": PUBLIC_CACHE_CONTROL}
    )


@router.api_route("/files/private/{path:path}", methods=["GET", "HEAD"])
async def private_file(
    path: str, storage: StorageDep, expires: str = "", signature: str = ""
) -> FileResponse:
    """A file of the private bucket, through a signed link."""
    file, seconds_left = storage.signed_local_file(path, expires=expires, signature=signature)
    return FileResponse(
        file,
        media_type=media_type(path),
        headers={"Cache-Control": f"private, max-age={seconds_left}"},
    )
