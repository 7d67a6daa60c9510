"""Two buckets behind obstore: `public` (renders, readable by URL) and `private` (inputs, read
through short-lived signed URLs).

Local mode (the default) keeps each bucket in `<data_dir>/storage/<bucket>` and the app serves it
(`storage/routes.py`); S3 mode uses one bucket per name on any S3-compatible service.

URLs:
- `public_url(path)`: local → root-relative `/files/public/{path}` (for pages);
  `absolute=True` → `{PUBLIC_BASE_URL}/files/public/{path}` (for e-mails, providers).
  S3 → always absolute: `{storage.public_base_url}/{path}`, else `{endpoint}/{bucket}/{path}`, else
  the AWS virtual-hosted URL.
- `signed_url(path)` (private bucket): local →
  `/files/private/{path}?expires=<unix>&signature=<hex>` (absolute like above on request);
  S3 → a presigned GET, always absolute.

Paths are checked before any store sees them: segments of `[A-Za-z0-9._-]` that start with a letter
or a digit, so no `..`, no `.`, no leading `/`, no backslash, no empty segment.
"""

import contextlib
import ipaddress
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, urlsplit
from uuid import UUID, uuid4

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import LocalStore, S3Store

from roomcraft.config import Settings, StorageSettings
from roomcraft.kit.errors import Forbidden, NotFound, ValidationFailed
from roomcraft.storage import signing

if TYPE_CHECKING:
    from obstore.store import S3Config

Bucket = Literal["public", "private"]
BUCKETS: tuple[Bucket, ...] = ("public", "private")
PUBLIC_CACHE_CONTROL = "public, max-age=31536000, immutable"
MAX_PATH_LENGTH = 512
_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_NOT_FOUND = (FileNotFoundError, NotFoundError)
_MEDIA_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}


class InvalidPath(ValidationFailed):
    """The file path is not valid."""


class FileNotFound(NotFound):
    """File not found."""


class LinkInvalid(Forbidden):
    """This link is invalid or has expired."""


def check_path(path: str) -> str:
    """`path` if it is a safe relative object path, else `InvalidPath`."""
    if len(path) > MAX_PATH_LENGTH or not _PATH.fullmatch(path):
        raise InvalidPath
    return path


def input_path(owner_id: UUID, extension: str) -> str:
    """A new private path for an uploaded input: `{userId}/inputs/{uuid}.{ext}`."""
    return check_path(f"{owner_id}/inputs/{uuid4()}.{extension}")


def render_image_path(render_id: UUID, idx: int) -> str:
    """The public path of a render variant: `renders/{renderId}/{idx}.jpg`."""
    return f"renders/{render_id}/{idx}.jpg"


def render_thumb_path(render_id: UUID, idx: int) -> str:
    """The public path of a variant's thumbnail: `renders/{renderId}/{idx}_thumb.webp`."""
    return f"renders/{render_id}/{idx}_thumb.webp"


def media_type(path: str) -> str:
    """The content type of a stored file, by the extension the app gave it."""
    return _MEDIA_TYPES.get(path.rpartition(".")[2].lower(), "application/octet-stream")


class Storage:
    """The app's files. Build it with `storage_from_settings`; it holds no resources to close."""

    def __init__(
        self,
        settings: Settings,
        stores: dict[Bucket, LocalStore | S3Store],
        *,
        local_roots: dict[Bucket, Path] | None,
    ) -> None:
        self._settings = settings
        self._stores = stores
        self._roots = local_roots

    @property
    def is_local(self) -> bool:
        return self._roots is not None

    async def put(self, bucket: Bucket, path: str, data: bytes, *, content_type: str) -> None:
        """Write `data` at `path`, replacing what was there (writes are atomic in both modes)."""
        store = self._stores[bucket]
        check_path(path)
        if isinstance(store, LocalStore):
            await store.put_async(path, data)  # a local file's type comes from its extension
            return
        attributes = {"Content-Type": content_type}
        if bucket == "public":
            attributes["Cache-Control"] = PUBLIC_CACHE_CONTROL
        await store.put_async(path, data, attributes=attributes)

    async def get(self, bucket: Bucket, path: str) -> bytes:
        """The bytes at `path`; `FileNotFound` when there are none."""
        try:
            result = await self._stores[bucket].get_async(check_path(path))
            return bytes(await result.bytes_async())
        except _NOT_FOUND as exc:
            raise FileNotFound from exc

    async def delete(self, bucket: Bucket, paths: list[str]) -> None:
        """Delete these files; a file that is already gone is fine."""
        for path in paths:
            check_path(path)
        store = self._stores[bucket]
        if not paths:
            return
        if isinstance(store, S3Store):
            await store.delete_async(paths)  # one bulk request; S3 ignores missing keys
            return
        for path in paths:
            with contextlib.suppress(*_NOT_FOUND):
                await store.delete_async(path)

    async def exists(self, bucket: Bucket, path: str) -> bool:
        try:
            await self._stores[bucket].head_async(check_path(path))
        except _NOT_FOUND:
            return False
        return True

    async def list_paths(self, bucket: Bucket, prefix: str = "") -> list[str]:
        """Every path under the folder `prefix` (recursive, sorted); `""` lists the bucket.

        A prefix is a whole folder: `renders/ab` lists `renders/ab/0.jpg`, not `renders/abc/…`.
        """
        store = self._stores[bucket]
        paths: list[str] = []
        try:
            async for batch in store.list(check_path(prefix) if prefix else None):
                paths.extend(meta["path"] for meta in batch)
        except _NOT_FOUND:
            return []
        return sorted(paths)

    def public_url(self, path: str, *, absolute: bool = False) -> str:
        """The stable URL of a public file (see the module docstring)."""
        check_path(path)
        quoted = quote(path)
        if self.is_local:
            return self._app_url(f"/files/public/{quoted}", absolute=absolute)
        storage = self._settings.storage
        if storage.public_base_url:
            return f"{storage.public_base_url.rstrip('/')}/{quoted}"
        if storage.s3_endpoint:
            return f"{storage.s3_endpoint.rstrip('/')}/{storage.public_bucket}/{quoted}"
        return f"https://{storage.public_bucket}.s3.{storage.s3_region}.amazonaws.com/{quoted}"

    async def signed_url(
        self, path: str, *, expires_in: int | None = None, absolute: bool = False
    ) -> str:
        """A URL that reads the private file at `path` for `expires_in` seconds (default: the
        configured `signed_url_seconds`)."""
        check_path(path)
        seconds = expires_in or self._settings.storage.signed_url_seconds
        store = self._stores["private"]
        if isinstance(store, S3Store):
            return await obstore.sign_async(store, "GET", path, timedelta(seconds=seconds))
        expires = int(time.time()) + seconds
        query = signing.signed_query(self._settings.signing_key, path=path, expires=expires)
        return self._app_url(f"/files/private/{quote(path)}?{query}", absolute=absolute)

    def local_file(self, bucket: Bucket, path: str) -> Path:
        """The file behind `/files/{bucket}/{path}`: local mode only, never outside the root."""
        check_path(path)
        if self._roots is None:
            raise FileNotFound
        root = self._roots[bucket]
        file = (root / path).resolve()
        if not file.is_relative_to(root) or not file.is_file():
            raise FileNotFound
        return file

    def signed_local_file(
        self, path: str, *, expires: str, signature: str, now: float | None = None
    ) -> tuple[Path, int]:
        """The private file a signed link points at, and the seconds the link has left.

        `InvalidPath` (400) before `LinkInvalid` (403) before `FileNotFound` (404).
        """
        check_path(path)
        now = time.time() if now is None else now
        key = self._settings.signing_key
        if not signing.is_valid(key, path=path, expires=expires, signature_hex=signature, now=now):
            raise LinkInvalid
        return self.local_file("private", path), max(0, int(expires) - int(now))

    def _app_url(self, target: str, *, absolute: bool) -> str:
        return f"{self._settings.public_base_url.rstrip('/')}{target}" if absolute else target


def storage_from_settings(settings: Settings) -> Storage:
    """The storage `settings` describe: local directories, or S3 buckets."""
    if settings.storage.backend == "s3":
        names: dict[Bucket, str] = {
            "public": settings.storage.public_bucket,
            "private": settings.storage.private_bucket,
        }
        stores = {bucket: _s3_store(settings.storage, names[bucket]) for bucket in BUCKETS}
        return Storage(settings, dict(stores), local_roots=None)
    roots: dict[Bucket, Path] = {}
    for bucket in BUCKETS:
        root = (settings.data_dir / "storage" / bucket).resolve()
        root.mkdir(parents=True, exist_ok=True)
        roots[bucket] = root
    local_stores: dict[Bucket, LocalStore | S3Store] = {
        bucket: LocalStore(root) for bucket, root in roots.items()
    }
    return Storage(settings, local_stores, local_roots=roots)


def _s3_store(storage: StorageSettings, bucket_name: str) -> S3Store:
    options: S3Config = {"region": storage.s3_region}
    if storage.s3_endpoint:
        options["endpoint"] = storage.s3_endpoint
    if storage.s3_access_key_id and storage.s3_secret_access_key:
        options["access_key_id"] = storage.s3_access_key_id
        options["secret_access_key"] = storage.s3_secret_access_key.get_secret_value()
    allow_http = _plain_http_allowed(storage.s3_endpoint)
    return S3Store(
        bucket_name,
        config=options,
        client_options={"allow_http": allow_http},
    )


def _plain_http_allowed(endpoint: str | None) -> bool:
    """Plain HTTP only to this machine (a local MinIO or the tests' moto); credentials and private
    files never cross a network unencrypted."""
    if endpoint is None:
        return False
    parts = urlsplit(endpoint)
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"The S3 endpoint {endpoint!r} must use https (http: loopback only).")
    return True
