"""`POST /api/v1/uploads`: a room photo in, a normalized private image out.

The body is read by python-multipart's streaming parser straight from `request.stream()`, so
memory and reading are both capped: a `Content-Length` over the cap is refused before a byte is
read, and a body without one (chunked) or that lies is refused as soon as the count passes the
cap. Starlette's `request.form()` would not do: it caps form fields, not files, and spools any file
to disk whole.

The body is read in a dependency declared before the database connection, so a slow upload holds
no pooled connection or transaction while it trickles in.
"""

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from roomcraft.api.deps import CurrentUser, SettingsDep, UserConn
from roomcraft.api.responses import errors
from roomcraft.kit.envelope import Envelope, ok
from roomcraft.kit.errors import PayloadTooLarge, ValidationFailed
from roomcraft.storage.routes import StorageDep
from roomcraft.uploads import service as uploads_service
from roomcraft.uploads.schemas import UploadRead

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

router = APIRouter(tags=["uploads"])

FILE_FIELD = "file"
# Room for the multipart framing and small fields (the CSRF token) around the file itself.
MULTIPART_OVERHEAD = 64 * 1024

_MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "A JPEG, PNG, WebP or HEIC photo.",
                        }
                    },
                }
            }
        },
    }
}


class UploadTooLarge(PayloadTooLarge):
    """The file is too large."""


class _FileField:
    """python-multipart callbacks that keep the first part named `file`, up to `max_bytes`."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.data = bytearray()
        self.complete = False
        self.found = False
        self._reading = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
        }

    def _on_part_begin(self) -> None:
        self._disposition = b""

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._reading = not self.found and options.get(b"name") == FILE_FIELD.encode()
        self.found = self.found or self._reading

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._reading:
            return
        if len(self.data) + (end - start) > self.max_bytes:
            raise UploadTooLarge(_too_large_message(self.max_bytes))
        self.data += data[start:end]

    def _on_part_end(self) -> None:
        if self._reading:
            self.complete = True
        self._reading = False


def _too_large_message(max_bytes: int) -> str:
    return f"The file is too large: at most {max_bytes / (1024 * 1024):g} MB."


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ValidationFailed("Send the photo as multipart/form-data, in the field `file`.")
    return boundary


def _check_declared_length(request: Request, *, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise ValidationFailed("The Content-Length header is not valid.")
    if int(declared) > limit:
        raise UploadTooLarge(_too_large_message(limit - MULTIPART_OVERHEAD))


async def _stream_file_field(request: Request, *, max_bytes: int) -> bytes:
    limit = max_bytes + MULTIPART_OVERHEAD
    _check_declared_length(request, limit=limit)
    field = _FileField(max_bytes=max_bytes)
    parser = MultipartParser(_boundary(request), field.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise UploadTooLarge(_too_large_message(max_bytes))
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise ValidationFailed("The multipart body is not valid.") from exc
    except ClientDisconnect as exc:
        raise ValidationFailed("The upload was interrupted.") from exc
    if not field.complete:
        raise ValidationFailed(
            "The upload is incomplete." if field.found else "Attach the photo in the field `file`."
        )
    return bytes(field.data)


async def read_photo(request: Request, _: CurrentUser, settings: SettingsDep) -> bytes:
    """The `file` field's bytes, at most `upload_max_bytes`; read only for a signed-in caller."""
    return await _stream_file_field(request, max_bytes=settings.upload_max_bytes)


PhotoBytes = Annotated[bytes, Depends(read_photo)]


@router.post("/uploads", responses=errors(400, 401, 403, 413, 415), openapi_extra=_MULTIPART_BODY)
async def create_upload(
    identity: CurrentUser,
    photo: PhotoBytes,
    conn: UserConn,
    settings: SettingsDep,
    storage: StorageDep,
) -> Envelope[UploadRead]:
    """Upload a room photo (JPEG, PNG, WebP or HEIC; multipart field `file`). It is stored
    upright, without metadata, its long side capped (2048 px by default), visible to its owner."""
    created = await uploads_service.create_upload(
        conn, settings, storage, owner_id=identity.user_id, data=photo
    )
    upload = created.upload
    return ok(
        UploadRead(
            id=upload.id,
            path=upload.storage_path,
            width=upload.width,
            height=upload.height,
            url=created.url,
        )
    )
