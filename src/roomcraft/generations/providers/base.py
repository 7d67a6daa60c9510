"""The provider protocol: every image backend (the local engine, Replicate) is a strategy behind it.

A job asks for 1–4 variants. A provider turns a `RenderRequest` into one or more predictions: a
model that returns one image per call gets one prediction per variant (`first_variant` 0, 1, …);
a model that returns several images at once gets one prediction whose outputs fill the variants
from `first_variant` on.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from roomcraft.kit.errors import AppError


class PredictionStatus(StrEnum):
    starting = "starting"
    processing = "processing"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"
    aborted = "aborted"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset(
    {
        PredictionStatus.succeeded,
        PredictionStatus.failed,
        PredictionStatus.canceled,
        PredictionStatus.aborted,
    }
)


@dataclass(frozen=True)
class InputImage:
    """An input of the job: `url` is a short-lived signed URL a remote provider can fetch;
    `data` its bytes (JPEG or PNG), for providers that run here."""

    url: str
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class RenderRequest:
    job_id: str
    mode: str  # redesign | staging | compose | imagine
    room_type: str | None
    style: str | None
    prompt: str  # the provider prompt, built from mode, room type, style and the user's words
    user_prompt: str | None
    inputs: list[InputImage]  # redesign/staging: 1, compose: 2, imagine: 0
    aspect_ratio: str  # "1:1", "3:2", "2:3", "4:3", "3:4", "16:9", "9:16"
    quality: str  # "low" | "medium" | "high"
    variants: int  # 1..4
    model: str  # e.g. "google/nano-banana"
    webhook_url: str | None = None  # set when PUBLIC_BASE_URL can receive webhooks


@dataclass(frozen=True)
class Output:
    """One produced image: a URL to download at once (providers delete them), or the bytes."""

    url: str | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class Prediction:
    prediction_id: str
    first_variant: int
    status: PredictionStatus
    outputs: list[Output] = field(default_factory=list)
    error: str | None = None  # a message a user can read


class ProviderError(AppError):
    """The image provider refused the request."""

    code = "PROVIDER_UNAVAILABLE"
    status_code = 503


class RetryableProviderError(ProviderError):
    """The provider is busy or unreachable (429, 5xx, timeout); the same call may succeed later."""


class InvalidWebhook(AppError):
    """The webhook signature is missing, wrong or too old."""

    code = "VALIDATION_ERROR"
    status_code = 400


class Provider(Protocol):
    name: str

    async def start(self, request: RenderRequest) -> list[Prediction]:
        """Create the predictions of a job; a local provider may return them already finished."""
        ...

    async def fetch(self, prediction_id: str) -> Prediction:
        """The current state of a prediction (a poll)."""
        ...

    async def cancel(self, prediction_id: str) -> None:
        """Ask the provider to stop a prediction; finished ones are left alone."""
        ...

    async def ready_for_webhooks(self) -> None:
        """Load what verifying a webhook needs (e.g. a signing secret fetched from the API)."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> tuple[str, Prediction]:
        """Verify a webhook on its raw body and return (webhook id, the prediction it reports).

        Raises `InvalidWebhook` when the signature or timestamp is not acceptable.
        """
        ...
