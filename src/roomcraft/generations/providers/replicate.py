"""Replicate: hosted image models behind its HTTP predictions API.

The flow is asynchronous (no `Prefer: wait`): `start` creates predictions on the model's official
endpoint, `POST /models/{owner}/{name}/predictions`, asking for a signed `completed` webhook when
the job has a public URL; `fetch` polls `GET /predictions/{id}`; `cancel` posts to
`/predictions/{id}/cancel`. Webhooks follow Standard Webhooks and are verified on the raw body with
the account's signing secret: the configured one, or the one `GET /webhooks/default/secret` gives,
fetched once. `parse_webhook` is synchronous (the protocol), so a process that receives webhooks
without a configured secret awaits `webhook_secret()` once before it.

Models (the input schemas of Replicate's official models):
- `google/nano-banana` returns one image per prediction: one prediction per variant, whose
  `first_variant` is the variant index. Input: `prompt`, `image_input` (the input URLs),
  `aspect_ratio`, `output_format: jpg`. A model this module does not know is driven the same way
  (one image per prediction, the same input fields), so it must accept those fields.
- `openai/gpt-image-1` returns several images: one prediction with `number_of_images`, the
  `quality`, `input_images`, `output_format: jpeg` and the caller's `openai_api_key`, which
  Replicate requires for this model (without one, `start` refuses before any request).

The frame: with an input photo, the render keeps the room photo's frame so that before and after
line up (nano-banana: `match_input_image` for a single input; with several inputs, where the model
could follow another image, the accepted ratio nearest to the room photo's). Without inputs, the
request's aspect ratio. Each model gets the accepted ratio nearest to the target (gpt-image-1
knows only 1:1, 3:2 and 2:3: 16:9 and 4:3 become 3:2, 9:16 and 3:4 become 2:3).

Replicate does not know our variants: a fetched or webhooked prediction has `first_variant` 0;
the caller maps prediction ids to variants from the predictions `start` returned, which it keeps.

Errors: 429 (after its `Retry-After`, capped at `max_delay`), 5xx, timeouts and connection errors
are retried with exponential backoff up to `max_attempts`, then raise `RetryableProviderError`.
Other 4xx raise `ProviderError` with Replicate's `title`/`detail`. A retried creation after a
timeout may leave an orphan prediction at Replicate: its webhook names a prediction id the caller
does not know, which the caller ignores.
"""

import asyncio
import email.utils
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from standardwebhooks import Webhook, WebhookVerificationError

from roomcraft.generations.providers.base import (
    InvalidWebhook,
    Output,
    Prediction,
    PredictionStatus,
    ProviderError,
    RenderRequest,
    RetryableProviderError,
)

log = structlog.get_logger(__name__)

NANO_BANANA = "google/nano-banana"
GPT_IMAGE_1 = "openai/gpt-image-1"
# The aspect ratios each model's input schema accepts.
NANO_BANANA_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
GPT_IMAGE_1_RATIOS = ("1:1", "3:2", "2:3")
GPT_IMAGE_1_QUALITIES = frozenset({"low", "medium", "high", "auto"})

# Predictions that could not be created get an id of ours; Replicate's ids never contain "-".
UNSTARTED_PREFIX = "failed-"
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
_POLICY_WORDS = ("nsfw", "sensitive", "safety", "moderation", "content policy")
_STATUSES = {status.value: status for status in PredictionStatus}


@dataclass(frozen=True)
class _Creation:
    """One prediction to create: the variants it fills start at `first_variant`."""

    first_variant: int
    path: str
    body: dict[str, Any]


class ReplicateProvider:
    """The `Provider` for Replicate's HTTP API (see the module docstring).

    The caller owns `http` (opens and closes it); each call here sets its own `timeout`.
    """

    name = "replicate"

    def __init__(
        self,
        *,
        api_base: str,
        api_token: str,
        http: httpx.AsyncClient,
        webhook_secret: str | None = None,
        openai_api_key: str | None = None,
        max_attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
        timeout: float = 30.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._api_base = api_base.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_token}"}
        self._http = http
        self._openai_api_key = openai_api_key or None
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._timeout = timeout
        self._secret = webhook_secret or None
        self._verifier = _verifier(self._secret) if self._secret else None
        self._secret_lock = asyncio.Lock()

    # The protocol

    async def start(self, request: RenderRequest) -> list[Prediction]:
        """Create the job's predictions, concurrently.

        A variant whose creation failed while others were created comes back as a `failed`
        prediction (id `failed-{job_id}-{variant}`), so that none of the created ones is lost.
        When none could be created, the error is raised (a refusal before a retryable one).
        """
        creations = self._creations(request)
        outcomes = await asyncio.gather(
            *(self._create(creation) for creation in creations), return_exceptions=True
        )
        predictions: list[Prediction] = []
        errors: list[tuple[_Creation, ProviderError]] = []
        for creation, outcome in zip(creations, outcomes, strict=True):
            if isinstance(outcome, Prediction):
                predictions.append(outcome)
            elif isinstance(outcome, ProviderError):
                errors.append((creation, outcome))
            else:
                raise outcome
        if not predictions:
            refusals = [e for _, e in errors if not isinstance(e, RetryableProviderError)]
            raise (refusals or [errors[0][1]])[0]
        for creation, error in errors:
            log.warning(
                "generations.replicate_variant_not_started",
                job_id=request.job_id,
                variant=creation.first_variant,
                reason=error.message,
            )
            predictions.append(_unstarted(request.job_id, creation.first_variant, error.message))
        return sorted(predictions, key=lambda prediction: prediction.first_variant)

    async def fetch(self, prediction_id: str) -> Prediction:
        """The prediction's current state; `first_variant` is 0, Replicate does not know it."""
        if prediction_id.startswith(UNSTARTED_PREFIX):
            return _unstarted_again(prediction_id)
        response = await self._request("GET", f"/predictions/{quote(prediction_id, safe='')}")
        return _prediction(_json_object(response), first_variant=0)

    async def cancel(self, prediction_id: str) -> None:
        """Ask Replicate to stop the prediction; one already finished (404/409) is left alone."""
        if prediction_id.startswith(UNSTARTED_PREFIX):
            return
        path = f"/predictions/{quote(prediction_id, safe='')}/cancel"
        await self._request("POST", path, accept=frozenset({404, 409}))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> tuple[str, Prediction]:
        """Verify a Standard Webhooks delivery on its raw body; (webhook id, its prediction).

        Raises `InvalidWebhook` on missing headers, a wrong signature or a timestamp outside
        the tolerance (5 minutes), and `ProviderError` while the signing secret is not loaded.
        """
        if self._verifier is None:
            raise ProviderError(
                "The Replicate webhook secret is not loaded: await webhook_secret() first."
            )
        named = {name.lower(): value for name, value in headers.items()}
        try:
            payload = self._verifier.verify(body, named)
        except WebhookVerificationError as exc:
            raise InvalidWebhook(f"The webhook was refused: {exc}.") from exc
        except ValueError as exc:  # a malformed signature header or body
            raise InvalidWebhook("The webhook was refused: malformed signature or body.") from exc
        if not (isinstance(payload, dict) and isinstance(payload.get("id"), str) and payload["id"]):
            raise InvalidWebhook("The webhook does not carry a prediction.")
        return named["webhook-id"], _prediction(payload, first_variant=0)

    async def ready_for_webhooks(self) -> None:
        await self.webhook_secret()

    async def webhook_secret(self) -> str:
        """The signing secret of webhooks: the configured one, or Replicate's, fetched once."""
        async with self._secret_lock:
            if self._secret is None:
                response = await self._request("GET", "/webhooks/default/secret")
                key = _json_object(response).get("key")
                if not isinstance(key, str) or not key:
                    raise ProviderError("Replicate sent no webhook signing secret.")
                self._verifier = _verifier(key)
                self._secret = key
            return self._secret

    # Inputs

    def _creations(self, request: RenderRequest) -> list[_Creation]:
        path = _model_path(request.model)
        if request.model == GPT_IMAGE_1:
            return [_Creation(0, path, _body(self._gpt_image_input(request), request))]
        body = _body(_nano_banana_input(request), request)
        return [_Creation(variant, path, body) for variant in range(request.variants)]

    def _gpt_image_input(self, request: RenderRequest) -> dict[str, Any]:
        if not self._openai_api_key:
            raise ProviderError(
                "openai/gpt-image-1 on Replicate needs an OpenAI API key: set OPENAI_API_KEY "
                "or choose another model for this mode."
            )
        model_input: dict[str, Any] = {
            "prompt": request.prompt,
            "aspect_ratio": _nearest_ratio(_target_ratio(request), GPT_IMAGE_1_RATIOS),
            "number_of_images": request.variants,
            "quality": request.quality if request.quality in GPT_IMAGE_1_QUALITIES else "auto",
            "output_format": "jpeg",
            "openai_api_key": self._openai_api_key,
        }
        if request.inputs:
            model_input["input_images"] = [image.url for image in request.inputs]
        return model_input

    # HTTP

    async def _create(self, creation: _Creation) -> Prediction:
        response = await self._request("POST", creation.path, json=creation.body)
        return _prediction(_json_object(response), creation.first_variant)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send, retrying 429, 5xx and transport failures; other 4xx raise `ProviderError`."""
        reason = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = await self._http.request(
                    method,
                    self._api_base + path,
                    json=json,
                    headers=self._headers,
                    timeout=self._timeout,
                )
            except httpx.TransportError as exc:
                reason, delay = type(exc).__name__, self._backoff(attempt)
            else:
                status = response.status_code
                if status < 400 or status in accept:
                    return response
                if status != 429 and status < 500:
                    raise _refusal(response)
                reason, delay = f"HTTP {status}", self._backoff(attempt)
                if status == 429:
                    waited = _retry_after_seconds(response.headers.get("Retry-After"))
                    delay = min(waited, self._max_delay) if waited is not None else delay
            if attempt < self._max_attempts:
                log.info("generations.replicate_retry", path=path, attempt=attempt, reason=reason)
                await asyncio.sleep(delay)
        raise RetryableProviderError(
            f"Replicate is busy or unreachable ({reason} after {self._max_attempts} attempts)."
        )

    def _backoff(self, attempt: int) -> float:
        delay = min(self._base_delay * 2.0 ** (attempt - 1), self._max_delay)
        return delay * random.uniform(0.5, 1.0)  # jitter: retries of many jobs spread out


def _verifier(secret: str) -> Webhook:
    try:
        return Webhook(secret)
    except Exception as exc:  # the library raises several kinds for a bad key
        raise ProviderError("The Replicate webhook secret is not a valid whsec_ key.") from exc


def _model_path(model: str) -> str:
    if not _MODEL_NAME.match(model):
        raise ProviderError(f"Unknown model name {model!r}: Replicate models are owner/name.")
    return f"/models/{model}/predictions"


def _body(model_input: dict[str, Any], request: RenderRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"input": model_input}
    if request.webhook_url:
        body["webhook"] = request.webhook_url
        body["webhook_events_filter"] = ["completed"]
    return body


def _nano_banana_input(request: RenderRequest) -> dict[str, Any]:
    model_input: dict[str, Any] = {"prompt": request.prompt}
    if request.inputs:
        model_input["image_input"] = [image.url for image in request.inputs]
    if len(request.inputs) == 1:
        model_input["aspect_ratio"] = "match_input_image"
    else:
        model_input["aspect_ratio"] = _nearest_ratio(_target_ratio(request), NANO_BANANA_RATIOS)
    model_input["output_format"] = "jpg"
    return model_input


def _target_ratio(request: RenderRequest) -> float:
    """Width over height of the render: the room photo's when there is one."""
    if request.inputs and request.inputs[0].width > 0 and request.inputs[0].height > 0:
        return request.inputs[0].width / request.inputs[0].height
    return _ratio_value(request.aspect_ratio)


def _ratio_value(ratio: str) -> float:
    width, _, height = ratio.partition(":")
    try:
        value = float(width) / float(height)
    except (ValueError, ZeroDivisionError):
        return 1.0
    return value if math.isfinite(value) and value > 0 else 1.0


def _nearest_ratio(target: float, accepted: Sequence[str]) -> str:
    def distance(ratio: str) -> float:
        return abs(math.log(_ratio_value(ratio) / target))

    return min(accepted, key=distance)


def _retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` in seconds (a number, fractions allowed, or an HTTP date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _refusal(response: httpx.Response) -> ProviderError:
    """Replicate's problem details (`title`, `detail`) as a readable error."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    parts: list[str] = []
    if isinstance(problem, dict):
        parts = [str(problem[key]).strip() for key in ("title", "detail") if problem.get(key)]
    explanation = ": ".join(parts) or response.reason_phrase or "no explanation"
    return ProviderError(
        f"Replicate refused the request (HTTP {response.status_code}): {_shorten(explanation)}"
    )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderError("Replicate sent an answer that is not a JSON object.")
    return body


def _prediction(body: Mapping[str, Any], first_variant: int) -> Prediction:
    prediction_id = body.get("id")
    if not isinstance(prediction_id, str) or not prediction_id:
        raise ProviderError("Replicate sent a prediction without an id.")
    status = _STATUSES.get(str(body.get("status")))
    if status is None:  # a status Replicate may add one day: keep polling
        log.warning("generations.replicate_unknown_status", status=body.get("status"))
        status = PredictionStatus.processing
    return Prediction(
        prediction_id=prediction_id,
        first_variant=first_variant,
        status=status,
        outputs=_outputs(body.get("output")),
        error=_readable_error(status, body.get("error"), removed=body.get("data_removed") is True),
    )


def _outputs(output: Any) -> list[Output]:
    urls = [output] if isinstance(output, str) else output if isinstance(output, list) else []
    return [Output(url=url) for url in urls if isinstance(url, str) and url]


def _readable_error(status: PredictionStatus, error: Any, *, removed: bool) -> str | None:
    if status is PredictionStatus.succeeded and removed:
        return "Replicate no longer has the images: it deletes them an hour after the render."
    if status is PredictionStatus.failed:
        return _failure_message(error)
    if status is PredictionStatus.canceled:
        return "The render was canceled."
    if status is PredictionStatus.aborted:
        return "The image service stopped the render before it finished."
    return None


def _failure_message(error: Any) -> str:
    text = str(error).strip() if error is not None else ""
    if not text:
        return "The image model failed without saying why."
    if any(word in text.lower() for word in _POLICY_WORDS):
        return "The image model refused this request (content policy). Try another photo or prompt."
    return _shorten(f"The image model failed: {text.splitlines()[0]}")


def _shorten(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _unstarted(job_id: str, variant: int, reason: str) -> Prediction:
    return Prediction(
        prediction_id=f"{UNSTARTED_PREFIX}{job_id}-{variant}",
        first_variant=variant,
        status=PredictionStatus.failed,
        error=reason,
    )


def _unstarted_again(prediction_id: str) -> Prediction:
    """A variant `start` could not create, asked for again: it is still failed."""
    return Prediction(
        prediction_id=prediction_id,
        first_variant=0,
        status=PredictionStatus.failed,
        error="This variant could not be started.",
    )
