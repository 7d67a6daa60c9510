"""What the generation lifecycle asks of the task queue, as a protocol.

The lifecycle decides *when* work happens next; `roomcraft.generations.tasks` implements this on
procrastinate, deferring on the caller's connection so the queue entry commits with the state
change that caused it.
"""

from typing import Protocol
from uuid import UUID

from roomcraft.db.session import Conn


class Scheduler(Protocol):
    async def start(self, conn: Conn, *, job_id: UUID) -> None: ...

    async def poll(self, conn: Conn, *, job_id: UUID, attempt: int, delay_seconds: int) -> None: ...

    async def finish(self, conn: Conn, *, job_id: UUID) -> None: ...

    async def cancel_predictions(self, conn: Conn, *, job_id: UUID) -> None: ...
