"""The server under the loopback fakes of outside services.

A subclass gives its Starlette app (`_app`); `start()` serves it for real on 127.0.0.1 (a free
port) under `uvicorn.Server`, in a background thread with its own event loop (lifespan on), and
returns once it accepts connections; `stop()` (idempotent) shuts it down. Use it with `with`.
"""

import socket
import threading
import time
from types import TracebackType
from typing import ClassVar, Self

import uvicorn
from starlette.types import ASGIApp

HOST = "127.0.0.1"


class LoopbackServer:
    label: ClassVar[str]  # for the error when it does not start: "the fake {label} ..."

    def __init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def _app(self) -> ASGIApp:
        raise NotImplementedError

    def start(self) -> Self:
        assert self._server is None, "already started"
        self._socket = socket.socket()
        self._socket.bind((HOST, 0))
        config = uvicorn.Config(
            self._app(),
            log_config=None,
            log_level="warning",
            access_log=False,
            loop="asyncio",
            ws="none",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the fake {self.label} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    @property
    def started(self) -> bool:
        return self._server is not None and self._server.started

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._socket is not None, "not started"
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"
