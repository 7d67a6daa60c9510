"""Live status: the SSE stream follows a job through LISTEN/NOTIFY until it ends."""

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx

from tests.factories import Account

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]


def events_of(body: str) -> list[dict[str, object]]:
    statuses = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "status":
            statuses.append(json.loads(lines["data"]))
    return statuses


class TestEvents:
    async def test_stream_follows_the_job_until_it_succeeds(
        self, client_for: MakeClient, user: Account, drain: Callable[[], Awaitable[None]]
    ) -> None:
        signed_in = await client_for(user)
        submitted = await signed_in.post(
            "/api/v1/generations/submit",
            json={"mode": "imagine", "prompt": "a loft", "variants": 1},
        )
        job_id = submitted.json()["data"]["id"]
        stream = asyncio.create_task(signed_in.get(f"/api/v1/generations/{job_id}/events"))
        await asyncio.sleep(0.3)  # the stream has sent the current state and is listening
        await drain()
        response = await asyncio.wait_for(stream, timeout=20)
        assert response.headers["content-type"].startswith("text/event-stream")
        events = events_of(response.text)
        assert events[0]["status"] == "starting"
        assert events[-1]["status"] == "succeeded"
        assert len(events[-1]["variants"]) == 1  # type: ignore[arg-type]

    async def test_a_finished_job_sends_one_event_and_ends(
        self, client_for: MakeClient, user: Account, drain: Callable[[], Awaitable[None]]
    ) -> None:
        signed_in = await client_for(user)
        submitted = await signed_in.post(
            "/api/v1/generations/submit",
            json={"mode": "imagine", "prompt": "a loft", "variants": 1},
        )
        job_id = submitted.json()["data"]["id"]
        await drain()
        response = await signed_in.get(f"/api/v1/generations/{job_id}/events")
        assert [event["status"] for event in events_of(response.text)] == ["succeeded"]

    async def test_anonymous_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/api/v1/generations/00000000-0000-0000-0000-000000000000/events"
        )
        assert response.status_code == 401
