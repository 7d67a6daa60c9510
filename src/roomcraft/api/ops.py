"""Liveness and readiness probes."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from roomcraft.api.deps import PoolDep

router = APIRouter(tags=["ops"], include_in_schema=False)

READY_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(pool: PoolDep) -> JSONResponse:
    """The process can serve: its database answers."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), pool.connection() as conn:
            await conn.execute("select 1")
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ready"})
