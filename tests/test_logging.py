"""Structured JSON logs with the request id on every line of a request."""

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from roomcraft import logging as app_logging


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The app's logging, configured as `roomcraft serve` does, writing to a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    app_logging.configure("INFO", stream=stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


async def test_request_lines_are_json_with_the_request_id(
    log_stream: io.StringIO, client: httpx.AsyncClient
) -> None:
    response = await client.get("/api/v1/me", headers={"X-Request-ID": "trace-42"})
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    access = [line for line in lines if line["event"] == "http.request"]
    assert access == [
        {
            "event": "http.request",
            "method": "GET",
            "path": "/api/v1/me",
            "status": 401,
            "duration_ms": access[0]["duration_ms"],
            "request_id": "trace-42",
            "level": "info",
            "logger": "roomcraft.http",
            "timestamp": access[0]["timestamp"],
        }
    ]
    assert response.headers["x-request-id"] == "trace-42"


async def test_an_unexpected_error_is_logged_with_its_traceback_and_request_id(
    log_stream: io.StringIO, app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/api/v1/explode", explode)
    response = await client.get("/api/v1/explode")
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    errors = [line for line in lines if line["event"] == "http.unhandled_error"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == response.headers["x-request-id"]
    assert "RuntimeError: kaboom" in errors[0]["exception"]
