"""Removing files after the transaction that stopped referencing them has committed."""

from typing import cast

from procrastinate import JobContext
from procrastinate.types import JSONValue

from roomcraft.db.session import Conn
from roomcraft.runtime import Runtime
from roomcraft.worker.app import queue


@queue.task(name="storage.remove_files", queue="maintenance", pass_context=True)
async def remove_files(context: JobContext, bucket: str, paths: list[str]) -> None:
    runtime = cast(Runtime, context.additional_context["runtime"])
    await runtime.storage.delete("public" if bucket == "public" else "private", paths)


class FileRemover:
    """Defers the removal on the caller's connection: it runs only if the caller commits."""

    async def remove_later(self, conn: Conn, *, bucket: str, paths: list[str]) -> None:
        listed: list[JSONValue] = [*paths]
        await remove_files.configure(connection=conn).defer_async(bucket=bucket, paths=listed)
