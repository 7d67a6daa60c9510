"""A loopback Replicate: the part of its HTTP API that Roomcraft calls, with signed webhooks.

    with FakeReplicate() as replicate:          # or replicate.start() ... replicate.stop()
        provider = ReplicateProvider(api_base=replicate.api_base, api_token=replicate.api_token,
                                     webhook_secret=replicate.webhook_secret, http=client)

A real HTTP server on 127.0.0.1 (a free port), in a background thread with its own event loop
(`tests/fakes/loopback.py`). The API lives under `api_base`
(`http://127.0.0.1:PORT/v1`) and needs `Authorization: Bearer <api_token>`:

- `POST /v1/models/{owner}/{name}/predictions`: `{"input", "webhook"?, "webhook_events_filter"?}`
  → 201 and the prediction (`status: starting`). The inputs of `google/nano-banana` and
  `openai/gpt-image-1` are checked against their schemas (422 problem details otherwise; the
  OpenAI key is required and shown as `[REDACTED]`); other models take any input.
- `GET /v1/predictions/{id}`, `POST /v1/predictions/{id}/cancel` (a finished one is unchanged).
- `GET /v1/webhooks/default/secret` → `{"key": "whsec_..."}`.
- Errors are problem details: `{"title", "detail", "status"}`.

Without auth: `GET /delivery/{id}/{n}.jpg`, the outputs: real JPEGs drawn with Pillow, different
for every prediction and image; and `POST /sink`, a webhook receiver for tests without a server of
their own (`sink_url`; what arrived is in `received`; it answers `sink_status`).

A prediction goes starting → processing → its end after `latency` seconds (half each; 0 allowed;
None: it waits for `await finish(id, status)`). Outputs: a list of `number_of_images` URLs for
gpt-image-1, one URL string for every other model. On its end, a prediction created with a webhook
URL is POSTed there (the `completed` event; the only one sent) as JSON, signed with Standard
Webhooks; an attempt answered non-2xx or unreachable is retried twice with the same webhook id.

Switches (set per test; `reset()` clears them and the records):
- `latency`; `fail_next(n, error)`; `finish_next(n, status, error)` (`aborted`, `canceled`, ...).
- `reject_next(n, status, detail)`: the next creations are refused with problem details.
- `throttle_next(n, retry_after)` (429), `error_next(n, status)` (5xx), `hang_next(n, seconds)`
  (answers after `seconds`): the next API requests, whatever they are.
- `duplicate_webhooks` (each webhook sent twice, same webhook id), `webhook_delay` (seconds),
  `hold_webhooks` (kept, not sent: `await release_webhooks(reverse=True)` sends them, in reverse
  order for out-of-order arrival; or replay `webhooks[i].body` yourself, with `sign(body, ...)`).

Records: `requests` (method, path, lower-case headers, JSON body), `webhooks` (each message, its
attempts' answers), `received` (the sink's), `prediction(id)`. To receive webhooks in a test,
point `webhook_url` at the app served for real (the `live_server` fixture), at `sink_url`, or
hold them and post them through an ASGI client. `await wait_until(predicate)` waits for either.
"""

import asyncio
import base64
import hashlib
import io
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from PIL import Image, ImageDraw
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.loopback import LoopbackServer

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
NANO_BANANA_RATIOS = {"match_input_image", "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4"}
NANO_BANANA_RATIOS |= {"9:16", "16:9", "21:9"}
# Per known model: each input field and whether a value is acceptable; then the required ones.
SCHEMAS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "google/nano-banana": {
        "prompt": lambda value: isinstance(value, str) and bool(value),
        "image_input": lambda value: (
            isinstance(value, list) and all(isinstance(url, str) for url in value)
        ),
        "aspect_ratio": lambda value: value in NANO_BANANA_RATIOS,
        "output_format": lambda value: value in {"jpg", "png"},
    },
    "openai/gpt-image-1": {
        "prompt": lambda value: isinstance(value, str) and bool(value),
        "openai_api_key": lambda value: isinstance(value, str) and bool(value),
        "aspect_ratio": lambda value: value in {"1:1", "3:2", "2:3"},
        "input_images": lambda value: isinstance(value, list),
        "number_of_images": lambda value: isinstance(value, int) and 1 <= value <= 10,
        "quality": lambda value: value in {"low", "medium", "high", "auto"},
        "background": lambda value: value in {"auto", "transparent", "opaque"},
        "output_compression": lambda value: isinstance(value, int) and 0 <= value <= 100,
        "output_format": lambda value: value in {"png", "jpeg", "webp"},
        "moderation": lambda value: value in {"auto", "low"},
        "user_id": lambda value: isinstance(value, str),
    },
}
REQUIRED = {"google/nano-banana": ("prompt",), "openai/gpt-image-1": ("prompt", "openai_api_key")}
SECRET_INPUTS = frozenset({"openai_api_key"})


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any  # the parsed body; None without one


@dataclass
class WebhookDelivery:
    """One webhook message; every attempt (a duplicate too) carries the same `webhook_id`."""

    url: str
    webhook_id: str
    prediction_id: str
    status: str  # of the prediction it reports
    body: bytes
    attempts: list[int | None] = field(default_factory=list)  # answers; None: unreachable
    held: bool = False


@dataclass(frozen=True)
class ReceivedWebhook:
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class _Ending:
    status: str
    error: str | None = None


@dataclass
class _Fault:
    status: int = 0  # 429 or 5xx; 0 for a hang
    retry_after: str | None = None
    seconds: float = 0.0


@dataclass
class _Prediction:
    id: str
    model: str
    input: dict[str, Any]
    webhook: str | None
    ending: _Ending
    created_at: str = field(default_factory=lambda: _now())
    status: str = "starting"
    output: Any = None
    error: str | None = None
    started_at: str | None = None
    completed_at: str | None = None


class FakeReplicate(LoopbackServer):
    label = "Replicate"

    def __init__(
        self,
        *,
        api_token: str = "r8_fake_token",
        webhook_secret: str | None = None,
        latency: float | None = 0.0,
    ) -> None:
        super().__init__()
        self.api_token = api_token
        self.webhook_secret = (
            webhook_secret or "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        )
        self.latency = self._latency = latency
        self.webhook_delay = 0.0
        self.duplicate_webhooks = False
        self.hold_webhooks = False
        self.sink_status = 200
        self._lock = threading.Lock()
        self._predictions: dict[str, _Prediction] = {}
        self._images: dict[tuple[str, int], bytes] = {}
        self._endings: deque[_Ending] = deque()
        self._rejections: deque[tuple[int, str]] = deque()
        self._faults: deque[_Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._webhooks: list[WebhookDelivery] = []
        self._received: list[ReceivedWebhook] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.task_errors: list[BaseException] = []  # bugs of the fake itself, for debugging
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self._http: httpx.AsyncClient | None = None

    def stop(self) -> None:
        self._quiesce()
        super().stop()

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def sink_url(self) -> str:
        return f"{self.base_url}/sink"

    # Switches

    def finish_next(self, n: int = 1, *, status: str, error: str | None = None) -> None:
        """The next `n` predictions created end with this status (and error)."""
        assert status in TERMINAL
        with self._lock:
            self._endings.extend(_Ending(status, error) for _ in range(n))

    def fail_next(self, n: int = 1, *, error: str = "Prediction failed.") -> None:
        self.finish_next(n, status="failed", error=error)

    def reject_next(
        self, n: int = 1, *, status: int = 422, detail: str = "Input validation failed."
    ) -> None:
        """The next `n` prediction creations are refused with problem details."""
        with self._lock:
            self._rejections.extend((status, detail) for _ in range(n))

    def throttle_next(self, n: int = 1, *, retry_after: str | None = "1") -> None:
        with self._lock:
            self._faults.extend(_Fault(429, retry_after) for _ in range(n))

    def error_next(self, n: int = 1, *, status: int = 500) -> None:
        with self._lock:
            self._faults.extend(_Fault(status) for _ in range(n))

    def hang_next(self, n: int = 1, *, seconds: float = 5.0) -> None:
        """The next `n` API requests are answered (normally) only after `seconds`."""
        with self._lock:
            self._faults.extend(_Fault(seconds=seconds) for _ in range(n))

    def reset(self) -> None:
        """Back to a fresh fake: no predictions, records or switches; its work in flight stops."""
        self._quiesce()
        with self._lock:
            for queue in (self._endings, self._rejections, self._faults):
                queue.clear()
            for records in (self._requests, self._webhooks, self._received):
                records.clear()
            self._predictions.clear()
            self._images.clear()
        self.latency, self.webhook_delay, self.sink_status = self._latency, 0.0, 200
        self.duplicate_webhooks = self.hold_webhooks = False

    def _quiesce(self) -> None:
        """Cancel the predictions' progress and webhooks in flight; wake the hanging requests."""
        if self._loop is not None and self.started:
            asyncio.run_coroutine_threadsafe(self._stop_work(), self._loop).result(timeout=10)

    # Records

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    @property
    def webhooks(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._webhooks)

    @property
    def received(self) -> list[ReceivedWebhook]:
        with self._lock:
            return list(self._received)

    def prediction(self, prediction_id: str) -> dict[str, Any]:
        with self._lock:
            return self._view(self._predictions[prediction_id])

    def sign(
        self,
        body: bytes,
        *,
        webhook_id: str | None = None,
        timestamp: datetime | None = None,
        secret: str | None = None,
    ) -> dict[str, str]:
        """Standard Webhooks headers for `body` (another secret or an old timestamp: forgeries)."""
        webhook_id = webhook_id or f"msg_{secrets.token_hex(12)}"
        when = timestamp or datetime.now(UTC)
        signature = Webhook(secret or self.webhook_secret).sign(webhook_id, when, body.decode())
        return {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature,
        }

    # Driving it from a test (any event loop)

    async def finish(
        self, prediction_id: str, *, status: str = "succeeded", error: str | None = None
    ) -> None:
        """End a prediction now (for `latency=None`); its webhook is sent as usual."""
        await self._in_server(self._end(prediction_id, _Ending(status, error)))

    async def release_webhooks(self, *, reverse: bool = False) -> None:
        """Send the held webhooks, one after the other (newest first with `reverse`)."""
        held = [delivery for delivery in self.webhooks if delivery.held]
        for delivery in reversed(held) if reverse else held:
            with self._lock:
                delivery.held = False
            await self._in_server(self._send(delivery))

    async def wait_until(self, predicate: Callable[[], bool], *, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake Replicate did not get there in time")
            await asyncio.sleep(0.01)

    async def wait_for_received(self, count: int, *, within: float = 5.0) -> list[ReceivedWebhook]:
        await self.wait_until(lambda: len(self.received) >= count, within=within)
        return self.received

    async def _in_server(self, work: Any) -> None:
        assert self._loop is not None, "not started"
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    # The app (everything below runs in the server's thread)

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    "/v1/models/{owner}/{name}/predictions",
                    self._api(self._create),
                    methods=["POST"],
                ),
                Route("/v1/predictions/{id}", self._api(self._get), methods=["GET"]),
                Route("/v1/predictions/{id}/cancel", self._api(self._cancel), methods=["POST"]),
                Route("/v1/webhooks/default/secret", self._api(self._secret), methods=["GET"]),
                Route("/delivery/{id}/{index:int}.jpg", self._delivery, methods=["GET"]),
                Route("/sink", self._sink, methods=["POST"]),
            ],
            lifespan=self._lifespan,
        )

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        async with httpx.AsyncClient(timeout=5.0, trust_env=False) as self._http:
            yield
            await self._stop_work()

    def _api(self, handler: Callable[[Request, Any], Any]) -> Callable[[Request], Any]:
        """Record the request, play the next fault, check the token, then answer."""

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return _problem(400, "Bad request", "The body is not JSON.")
            headers = {name.lower(): value for name, value in request.headers.items()}
            with self._lock:
                self._requests.append(
                    RecordedRequest(request.method, request.url.path, headers, body)
                )
                fault = self._faults.popleft() if self._faults else None
            if fault is not None and fault.status:
                retry = {"Retry-After": fault.retry_after} if fault.retry_after else None
                return _problem(fault.status, "Request failed", "Try again later.", retry)
            if fault is not None and await self._hang(fault.seconds):
                return _problem(503, "Reset", "The fake was reset or stopped meanwhile.")
            if headers.get("authorization") != f"Bearer {self.api_token}":
                return _problem(
                    401, "Unauthenticated", "You did not pass a valid authentication token"
                )
            response: Response = await handler(request, body)
            return response

        return endpoint

    async def _hang(self, seconds: float) -> bool:
        """Sleep; True when the fake is reset or stopped meanwhile."""
        assert self._closing is not None
        closing = self._closing  # replaced when woken: later hangs wait on a fresh one
        try:
            await asyncio.wait_for(closing.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _create(self, request: Request, body: Any) -> Response:
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        with self._lock:
            rejection = self._rejections.popleft() if self._rejections else None
        if rejection is not None:
            return _problem(rejection[0], "Invalid request", rejection[1])
        problems = _validate(model, body)
        if problems:
            return _problem(422, "Input validation failed", "\n".join(f"- {p}" for p in problems))
        with self._lock:
            ending = self._endings.popleft() if self._endings else _Ending("succeeded")
        prediction = _Prediction(
            id=secrets.token_hex(13),
            model=model,
            input=body["input"],
            webhook=body.get("webhook"),
            ending=ending,
        )
        with self._lock:
            self._predictions[prediction.id] = prediction
            view = self._view(prediction)
        self._spawn(self._progress(prediction))
        return JSONResponse(view, status_code=201)

    async def _get(self, request: Request, body: Any) -> Response:
        with self._lock:
            prediction = self._predictions.get(request.path_params["id"])
            if prediction is None:
                return _problem(404, "Not found", "The requested resource could not be found.")
            return JSONResponse(self._view(prediction))

    async def _cancel(self, request: Request, body: Any) -> Response:
        prediction_id = request.path_params["id"]
        with self._lock:
            if prediction_id not in self._predictions:
                return _problem(404, "Not found", "The requested resource could not be found.")
        await self._end(prediction_id, _Ending("canceled"))
        return await self._get(request, body)

    async def _secret(self, request: Request, body: Any) -> Response:
        return JSONResponse({"key": self.webhook_secret})

    async def _delivery(self, request: Request) -> Response:
        prediction_id, index = request.path_params["id"], request.path_params["index"]
        with self._lock:
            prediction = self._predictions.get(prediction_id)
            count = len(_urls(prediction.output)) if prediction is not None else 0
        if prediction is None or index >= count:
            return Response("not found", status_code=404)
        with self._lock:
            image = self._images.get((prediction_id, index)) or _render(prediction, index)
            self._images[prediction_id, index] = image
        return Response(image, media_type="image/jpeg")

    async def _sink(self, request: Request) -> Response:
        received = ReceivedWebhook(
            {name.lower(): value for name, value in request.headers.items()}, await request.body()
        )
        with self._lock:
            self._received.append(received)
        return JSONResponse({"ok": True}, status_code=self.sink_status)

    # Predictions and their webhooks

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.task_errors.append(task.exception())  # type: ignore[arg-type]

    async def _stop_work(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._closing is not None:
            self._closing.set()
            self._closing = asyncio.Event()

    async def _progress(self, prediction: _Prediction) -> None:
        latency = self.latency
        if latency is None:
            return
        await asyncio.sleep(latency / 2)
        with self._lock:
            if prediction.status == "starting":
                prediction.status, prediction.started_at = "processing", _now()
        await asyncio.sleep(latency / 2)
        await self._end(prediction.id, prediction.ending)

    async def _end(self, prediction_id: str, ending: _Ending) -> None:
        with self._lock:
            prediction = self._predictions[prediction_id]
            if prediction.status in TERMINAL:
                return
            prediction.status, prediction.error = ending.status, ending.error
            prediction.started_at = prediction.started_at or _now()
            prediction.completed_at = _now()
            if ending.status == "succeeded":
                prediction.output = self._outputs(prediction)
            view = self._view(prediction)
        if prediction.webhook:
            delivery = WebhookDelivery(
                url=prediction.webhook,
                webhook_id=f"msg_{secrets.token_hex(12)}",
                prediction_id=prediction.id,
                status=ending.status,
                body=json.dumps(view).encode(),
                held=self.hold_webhooks,
            )
            with self._lock:
                self._webhooks.append(delivery)
            if not delivery.held:
                self._spawn(self._deliver(delivery))

    async def _deliver(self, delivery: WebhookDelivery) -> None:
        await asyncio.sleep(self.webhook_delay)
        for _ in range(2 if self.duplicate_webhooks else 1):
            await self._send(delivery)

    async def _send(self, delivery: WebhookDelivery, attempts: int = 3) -> None:
        """POST one message, retrying (same webhook id, fresh signature) until a 2xx."""
        assert self._http is not None
        for attempt in range(attempts):
            headers = self.sign(delivery.body, webhook_id=delivery.webhook_id)
            try:
                response = await self._http.post(
                    delivery.url, content=delivery.body, headers=headers
                )
                answer: int | None = response.status_code
            except httpx.HTTPError:
                answer = None
            with self._lock:
                delivery.attempts.append(answer)
            if answer is not None and answer < 300:
                return
            await asyncio.sleep(0.05 * 2**attempt)

    def _outputs(self, prediction: _Prediction) -> Any:
        count = prediction.input.get("number_of_images", 1)
        urls = [f"{self.base_url}/delivery/{prediction.id}/{n}.jpg" for n in range(count)]
        return urls if prediction.model == "openai/gpt-image-1" else urls[0]

    def _view(self, prediction: _Prediction) -> dict[str, Any]:
        """The prediction as Replicate's API shows it."""
        get = f"{self.api_base}/predictions/{prediction.id}"
        model_input = {
            key: "[REDACTED]" if key in SECRET_INPUTS else value
            for key, value in prediction.input.items()
        }
        return {
            "id": prediction.id,
            "model": prediction.model,
            "version": "hidden",
            "input": model_input,
            "logs": "",
            "output": prediction.output,
            "data_removed": False,
            "error": prediction.error,
            "status": prediction.status,
            "created_at": prediction.created_at,
            "started_at": prediction.started_at,
            "completed_at": prediction.completed_at,
            "urls": {
                "get": get,
                "cancel": f"{get}/cancel",
                "web": f"{self.base_url}/p/{prediction.id}",
            },
            "metrics": {"predict_time": 0.1} if prediction.completed_at else {},
        }


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"title": title, "detail": detail, "status": status},
        status_code=status,
        headers=headers,
        media_type="application/problem+json",
    )


def _validate(model: str, body: Any) -> list[str]:
    """What Replicate would say about this creation request (empty: nothing)."""
    if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
        return ["input: input is required"]
    problems = []
    webhook = body.get("webhook")
    if webhook is not None and not (isinstance(webhook, str) and webhook.startswith("http")):
        problems.append("webhook: must be an HTTP(S) URL")
    events = body.get("webhook_events_filter", [])
    if not isinstance(events, list) or not set(events) <= {"start", "output", "logs", "completed"}:
        problems.append("webhook_events_filter: unknown event")
    schema = SCHEMAS.get(model)
    if schema is None:
        return problems
    model_input = body["input"]
    problems += [
        f"input: {name} is required" for name in REQUIRED[model] if name not in model_input
    ]
    for name, value in model_input.items():
        if name not in schema:
            problems.append(f"input.{name}: additional property is not allowed")
        elif not schema[name](value):
            problems.append(f"input.{name}: {value!r} is not an accepted value")
    return problems


def _urls(output: Any) -> list[str]:
    return [output] if isinstance(output, str) else list(output or [])


def _render(prediction: _Prediction, index: int) -> bytes:
    """A small JPEG in the requested frame, coloured after the prediction id and the index."""
    digest = hashlib.sha256(f"{prediction.id}/{index}".encode()).digest()
    width, _, height = str(prediction.input.get("aspect_ratio", "4:3")).partition(":")
    try:
        ratio = float(width) / float(height)
    except ValueError:
        ratio = 4 / 3
    size = (128, round(128 / ratio)) if ratio >= 1 else (round(128 * ratio), 128)
    image = Image.new("RGB", size, (digest[0], digest[1], digest[2]))
    box = (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4)
    ImageDraw.Draw(image).rectangle(box, fill=(digest[3], digest[4], digest[5]))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()
