"""The Replicate adapter against a loopback Replicate: its HTTP API and signed webhooks."""

import asyncio
import io
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from roomcraft.generations.providers.base import (
    InputImage,
    InvalidWebhook,
    Prediction,
    PredictionStatus,
    ProviderError,
    RenderRequest,
    RetryableProviderError,
)
from roomcraft.generations.providers.replicate import ReplicateProvider
from tests.fakes.replicate import FakeReplicate

NANO_BANANA = "google/nano-banana"
GPT_IMAGE_1 = "openai/gpt-image-1"
NANO_PATH = "/v1/models/google/nano-banana/predictions"
GPT_PATH = "/v1/models/openai/gpt-image-1/predictions"
ROOM = InputImage(
    url="https://files.test/private/u1/inputs/room.jpg", data=b"", width=1600, height=1200
)
SOFA = InputImage(
    url="https://files.test/private/u1/inputs/sofa.jpg", data=b"", width=800, height=800
)


@pytest.fixture(scope="module")
def replicate_server() -> Iterator[FakeReplicate]:
    with FakeReplicate() as fake:
        yield fake


@pytest.fixture
def replicate(replicate_server: FakeReplicate) -> Iterator[FakeReplicate]:
    """The module's fake Replicate, fresh for the test."""
    replicate_server.reset()
    yield replicate_server
    assert replicate_server.task_errors == []


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def make_provider(
    replicate: FakeReplicate, http: httpx.AsyncClient, **overrides: Any
) -> ReplicateProvider:
    options: dict[str, Any] = {
        "api_base": replicate.api_base,
        "api_token": replicate.api_token,
        "http": http,
        "webhook_secret": replicate.webhook_secret,
        "openai_api_key": "sk-test-openai",
        "max_attempts": 3,
        "base_delay": 0.01,
        "max_delay": 0.5,
        "timeout": 2.0,
    }
    return ReplicateProvider(**(options | overrides))


@pytest.fixture
def provider(replicate: FakeReplicate, http: httpx.AsyncClient) -> ReplicateProvider:
    return make_provider(replicate, http)


def render_request(
    *,
    model: str = NANO_BANANA,
    inputs: tuple[InputImage, ...] = (ROOM,),
    variants: int = 2,
    aspect_ratio: str = "1:1",
    quality: str = "medium",
    webhook_url: str | None = None,
) -> RenderRequest:
    return RenderRequest(
        job_id="job-1",
        mode="redesign" if inputs else "imagine",
        room_type="living_room",
        style="scandinavian",
        prompt="A scandinavian living room, same layout, soft daylight",
        user_prompt=None,
        inputs=list(inputs),
        aspect_ratio=aspect_ratio,
        quality=quality,
        variants=variants,
        model=model,
        webhook_url=webhook_url,
    )


async def until_terminal(provider: ReplicateProvider, prediction_id: str) -> Prediction:
    deadline = time.monotonic() + 5
    while True:
        prediction = await provider.fetch(prediction_id)
        if prediction.status.is_terminal:
            return prediction
        assert time.monotonic() < deadline, f"{prediction_id} is still {prediction.status}"
        await asyncio.sleep(0.02)


class TestStart:
    async def test_nano_banana_creates_one_prediction_per_variant(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        predictions = await provider.start(render_request(variants=3))

        assert [p.first_variant for p in predictions] == [0, 1, 2]
        assert {p.status for p in predictions} == {PredictionStatus.starting}
        assert len({p.prediction_id for p in predictions}) == 3
        created = replicate.requests_to("POST", NANO_PATH)
        assert len(created) == 3
        for request in created:
            assert request.json == {
                "input": {
                    "prompt": "A scandinavian living room, same layout, soft daylight",
                    "image_input": [ROOM.url],
                    "aspect_ratio": "match_input_image",
                    "output_format": "jpg",
                }
            }
            assert request.headers["authorization"] == f"Bearer {replicate.api_token}"
            assert "prefer" not in request.headers

    async def test_webhook_fields_are_sent_only_with_a_webhook_url(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        url = "http://127.0.0.1:9/api/v1/webhooks/replicate"  # nobody listens

        await provider.start(render_request(variants=1, webhook_url=url))

        (created,) = replicate.requests_to("POST", NANO_PATH)
        assert created.json["webhook"] == url
        assert created.json["webhook_events_filter"] == ["completed"]

    async def test_compose_keeps_the_frame_of_the_room_photo(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        await provider.start(render_request(inputs=(ROOM, SOFA), variants=1, aspect_ratio="9:16"))

        (created,) = replicate.requests_to("POST", NANO_PATH)
        assert created.json["input"]["image_input"] == [ROOM.url, SOFA.url]
        assert created.json["input"]["aspect_ratio"] == "4:3"

    async def test_imagine_on_nano_banana_asks_for_the_requested_aspect_ratio(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        await provider.start(render_request(inputs=(), variants=1, aspect_ratio="16:9"))

        (created,) = replicate.requests_to("POST", NANO_PATH)
        assert created.json["input"]["aspect_ratio"] == "16:9"
        assert "image_input" not in created.json["input"]

    async def test_gpt_image_1_creates_one_prediction_for_all_variants(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        request = render_request(model=GPT_IMAGE_1, inputs=(), variants=4, quality="high")

        predictions = await provider.start(request)

        assert [(p.first_variant, p.status) for p in predictions] == [
            (0, PredictionStatus.starting)
        ]
        (created,) = replicate.requests_to("POST", GPT_PATH)
        assert created.json == {
            "input": {
                "prompt": request.prompt,
                "aspect_ratio": "1:1",
                "number_of_images": 4,
                "quality": "high",
                "output_format": "jpeg",
                "openai_api_key": "sk-test-openai",
            }
        }
        assert "prefer" not in created.headers
        assert replicate.prediction(predictions[0].prediction_id)["input"]["openai_api_key"] == (
            "[REDACTED]"
        )

    @pytest.mark.parametrize(
        ("asked", "sent"),
        [
            ("16:9", "3:2"),
            ("9:16", "2:3"),
            ("4:3", "3:2"),
            ("3:4", "2:3"),
            ("3:2", "3:2"),
            ("2:3", "2:3"),
            ("1:1", "1:1"),
        ],
    )
    async def test_gpt_image_1_gets_the_nearest_aspect_ratio_it_accepts(
        self, provider: ReplicateProvider, replicate: FakeReplicate, asked: str, sent: str
    ) -> None:
        await provider.start(render_request(model=GPT_IMAGE_1, inputs=(), aspect_ratio=asked))

        (created,) = replicate.requests_to("POST", GPT_PATH)
        assert created.json["input"]["aspect_ratio"] == sent

    async def test_gpt_image_1_gets_the_input_images_and_the_webhook(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        url = "http://127.0.0.1:9/api/v1/webhooks/replicate"  # nobody listens
        request = render_request(model=GPT_IMAGE_1, inputs=(ROOM, SOFA), webhook_url=url)

        await provider.start(request)

        (created,) = replicate.requests_to("POST", GPT_PATH)
        assert created.json["input"]["input_images"] == [ROOM.url, SOFA.url]
        assert created.json["input"]["aspect_ratio"] == "3:2"  # the room photo is 4:3
        assert created.json["webhook"] == url
        assert created.json["webhook_events_filter"] == ["completed"]

    async def test_gpt_image_1_without_an_openai_key_is_refused_before_any_request(
        self, replicate: FakeReplicate, http: httpx.AsyncClient
    ) -> None:
        provider = make_provider(replicate, http, openai_api_key=None)

        with pytest.raises(ProviderError, match="OpenAI API key"):
            await provider.start(render_request(model=GPT_IMAGE_1, inputs=()))

        assert replicate.requests == []

    async def test_another_model_is_driven_like_nano_banana(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        predictions = await provider.start(render_request(model="acme/room-painter", variants=2))

        assert [p.first_variant for p in predictions] == [0, 1]
        created = replicate.requests_to("POST", "/v1/models/acme/room-painter/predictions")
        assert [r.json["input"]["output_format"] for r in created] == ["jpg", "jpg"]

    async def test_a_model_name_that_is_not_owner_slash_name_is_refused(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        with pytest.raises(ProviderError, match="owner/name"):
            await provider.start(render_request(model="nano-banana"))

        assert replicate.requests == []

    async def test_a_refused_variant_comes_back_failed_and_the_created_ones_are_kept(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.reject_next(1, status=422, detail="input.prompt: flagged")

        predictions = await provider.start(render_request(variants=3))

        assert [p.first_variant for p in predictions] == [0, 1, 2]
        (failed,) = [p for p in predictions if p.status is PredictionStatus.failed]
        assert failed.prediction_id == f"failed-job-1-{failed.first_variant}"
        assert failed.error is not None
        assert "input.prompt: flagged" in failed.error
        started = [p for p in predictions if p is not failed]
        assert {p.status for p in started} == {PredictionStatus.starting}
        assert (await provider.fetch(failed.prediction_id)).status is PredictionStatus.failed
        await provider.cancel(failed.prediction_id)  # nothing to cancel: no request
        assert len(replicate.requests) == 3

    @pytest.mark.parametrize("status", [400, 422])
    async def test_a_refusal_of_the_only_prediction_raises_with_the_api_detail(
        self, provider: ReplicateProvider, replicate: FakeReplicate, status: int
    ) -> None:
        replicate.reject_next(1, status=status, detail="input.aspect_ratio: not accepted")

        with pytest.raises(ProviderError) as refused:
            await provider.start(render_request(model=GPT_IMAGE_1, inputs=()))

        assert not isinstance(refused.value, RetryableProviderError)
        assert f"HTTP {status}" in refused.value.message
        assert "input.aspect_ratio: not accepted" in refused.value.message
        assert len(replicate.requests) == 1  # not retried

    async def test_a_wrong_token_is_refused_without_retrying(
        self, replicate: FakeReplicate, http: httpx.AsyncClient
    ) -> None:
        provider = make_provider(replicate, http, api_token="r8_wrong")

        with pytest.raises(ProviderError, match="valid authentication token") as refused:
            await provider.start(render_request(variants=1))

        assert not isinstance(refused.value, RetryableProviderError)
        assert len(replicate.requests) == 1


class TestRetries:
    async def test_429_is_retried_after_its_retry_after(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.throttle_next(1, retry_after="0.3")
        started = time.monotonic()

        predictions = await provider.start(render_request(variants=1))

        assert time.monotonic() - started >= 0.3
        assert predictions[0].status is PredictionStatus.starting
        assert len(replicate.requests_to("POST", NANO_PATH)) == 2

    async def test_a_long_retry_after_is_capped(
        self, replicate: FakeReplicate, http: httpx.AsyncClient
    ) -> None:
        provider = make_provider(replicate, http, max_delay=0.1)
        replicate.throttle_next(1, retry_after="3600")
        started = time.monotonic()

        await provider.start(render_request(variants=1))

        assert time.monotonic() - started < 2
        assert len(replicate.requests_to("POST", NANO_PATH)) == 2

    async def test_500_twice_then_success(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.error_next(2, status=500)

        predictions = await provider.start(render_request(variants=1))

        assert predictions[0].status is PredictionStatus.starting
        assert len(replicate.requests_to("POST", NANO_PATH)) == 3

    @pytest.mark.parametrize("status", [500, 503, 429])
    async def test_persistent_failures_raise_a_retryable_error(
        self, provider: ReplicateProvider, replicate: FakeReplicate, status: int
    ) -> None:
        if status == 429:
            replicate.throttle_next(10, retry_after="0")
        else:
            replicate.error_next(10, status=status)

        with pytest.raises(RetryableProviderError, match=f"HTTP {status}"):
            await provider.fetch("abc123")

        assert len(replicate.requests_to("GET", "/v1/predictions/abc123")) == 3

    async def test_a_hanging_replicate_is_retried_then_retryable(
        self, replicate: FakeReplicate, http: httpx.AsyncClient
    ) -> None:
        provider = make_provider(replicate, http, timeout=0.2, max_attempts=2)
        replicate.hang_next(5, seconds=3)
        started = time.monotonic()

        with pytest.raises(RetryableProviderError, match="Timeout"):
            await provider.start(render_request(variants=1))

        assert time.monotonic() - started < 2
        assert len(replicate.requests_to("POST", NANO_PATH)) == 2

    async def test_a_slow_answer_then_a_quick_one_succeeds(
        self, replicate: FakeReplicate, http: httpx.AsyncClient
    ) -> None:
        provider = make_provider(replicate, http, timeout=0.2)
        replicate.hang_next(1, seconds=3)

        predictions = await provider.start(render_request(variants=1))

        assert predictions[0].status is PredictionStatus.starting
        assert len(replicate.requests_to("POST", NANO_PATH)) == 2

    async def test_an_unreachable_replicate_is_retryable(self, http: httpx.AsyncClient) -> None:
        with FakeReplicate() as gone:
            provider = make_provider(gone, http)

        with pytest.raises(RetryableProviderError, match="ConnectError"):
            await provider.fetch("abc123")


class TestFetch:
    async def test_a_prediction_runs_to_success_with_downloadable_jpegs(
        self, provider: ReplicateProvider, replicate: FakeReplicate, http: httpx.AsyncClient
    ) -> None:
        replicate.latency = 0.2
        predictions = await provider.start(render_request(variants=2))

        finished = [await until_terminal(provider, p.prediction_id) for p in predictions]

        assert {p.status for p in finished} == {PredictionStatus.succeeded}
        assert all(len(p.outputs) == 1 and p.error is None for p in finished)
        images = []
        for prediction in finished:
            url = prediction.outputs[0].url
            assert url is not None
            response = await http.get(url)
            assert response.headers["content-type"] == "image/jpeg"
            image = Image.open(io.BytesIO(response.content))
            assert image.format == "JPEG"
            images.append(response.content)
        assert images[0] != images[1]

    async def test_a_prediction_goes_through_starting_and_processing(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.latency = 0.6
        (prediction,) = await provider.start(render_request(variants=1))

        seen = [(await provider.fetch(prediction.prediction_id)).status]
        while not seen[-1].is_terminal:
            await asyncio.sleep(0.05)
            seen.append((await provider.fetch(prediction.prediction_id)).status)

        assert seen[0] is PredictionStatus.starting
        assert PredictionStatus.processing in seen
        assert seen[-1] is PredictionStatus.succeeded

    async def test_gpt_image_1_outputs_fill_the_variants(
        self, provider: ReplicateProvider, replicate: FakeReplicate, http: httpx.AsyncClient
    ) -> None:
        (prediction,) = await provider.start(render_request(model=GPT_IMAGE_1, variants=3))

        finished = await until_terminal(provider, prediction.prediction_id)

        assert finished.status is PredictionStatus.succeeded
        assert finished.first_variant == 0  # Replicate does not know variants
        assert len(finished.outputs) == 3
        bodies = {(await http.get(str(output.url))).content for output in finished.outputs}
        assert len(bodies) == 3

    async def test_a_failed_prediction_reads_as_a_short_message(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.fail_next(1, error="E6716 model crashed: CUDA out of memory\nTraceback (...)")
        (prediction,) = await provider.start(render_request(variants=1))

        failed = await until_terminal(provider, prediction.prediction_id)

        assert failed.status is PredictionStatus.failed
        assert failed.outputs == []
        assert failed.error == "The image model failed: E6716 model crashed: CUDA out of memory"

    async def test_a_content_policy_failure_says_so(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.fail_next(1, error="Output image was flagged as sensitive (E005)")
        (prediction,) = await provider.start(render_request(variants=1))

        failed = await until_terminal(provider, prediction.prediction_id)

        assert failed.error is not None
        assert "content policy" in failed.error

    @pytest.mark.parametrize("status", ["aborted", "canceled"])
    async def test_aborted_and_canceled_are_kept_as_such(
        self, provider: ReplicateProvider, replicate: FakeReplicate, status: str
    ) -> None:
        replicate.finish_next(1, status=status)
        (prediction,) = await provider.start(render_request(variants=1))

        ended = await until_terminal(provider, prediction.prediction_id)

        assert ended.status is PredictionStatus(status)
        assert ended.outputs == []
        assert ended.error

    async def test_an_unknown_prediction_is_a_provider_error(
        self, provider: ReplicateProvider
    ) -> None:
        with pytest.raises(ProviderError, match="HTTP 404") as refused:
            await provider.fetch("doesnotexist")

        assert not isinstance(refused.value, RetryableProviderError)


class TestCancel:
    async def test_cancel_stops_a_running_prediction(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.latency = None  # runs until told otherwise
        (prediction,) = await provider.start(render_request(variants=1))

        await provider.cancel(prediction.prediction_id)

        cancel_path = f"/v1/predictions/{prediction.prediction_id}/cancel"
        assert len(replicate.requests_to("POST", cancel_path)) == 1
        canceled = await provider.fetch(prediction.prediction_id)
        assert canceled.status is PredictionStatus.canceled

    async def test_cancelling_a_finished_prediction_leaves_it_alone(
        self, provider: ReplicateProvider
    ) -> None:
        (prediction,) = await provider.start(render_request(variants=1))
        await until_terminal(provider, prediction.prediction_id)

        await provider.cancel(prediction.prediction_id)

        after = await provider.fetch(prediction.prediction_id)
        assert after.status is PredictionStatus.succeeded

    async def test_cancelling_an_unknown_prediction_is_fine(
        self, provider: ReplicateProvider
    ) -> None:
        await provider.cancel("doesnotexist")


class TestParseWebhook:
    async def test_a_signed_delivery_parses_to_its_id_and_prediction(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        (started,) = await provider.start(
            render_request(variants=1, webhook_url=replicate.sink_url)
        )

        (received,) = await replicate.wait_for_received(1)
        webhook_id, prediction = provider.parse_webhook(received.headers, received.body)

        assert webhook_id == replicate.webhooks[0].webhook_id
        assert prediction.prediction_id == started.prediction_id
        assert prediction.status is PredictionStatus.succeeded
        assert prediction.first_variant == 0
        assert len(prediction.outputs) == 1

    async def test_a_duplicate_delivery_carries_the_same_webhook_id(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.duplicate_webhooks = True
        await provider.start(render_request(variants=1, webhook_url=replicate.sink_url))

        first, second = await replicate.wait_for_received(2)

        assert (
            provider.parse_webhook(first.headers, first.body)[0]
            == (provider.parse_webhook(second.headers, second.body)[0])
        )

    async def test_held_webhooks_can_arrive_out_of_order(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.hold_webhooks = True
        replicate.latency = None
        first, second = await provider.start(render_request(webhook_url=replicate.sink_url))
        await replicate.finish(first.prediction_id)
        await replicate.finish(second.prediction_id, status="failed", error="boom")
        assert replicate.received == []

        await replicate.release_webhooks(reverse=True)

        parsed = [provider.parse_webhook(r.headers, r.body)[1] for r in replicate.received]
        assert [p.prediction_id for p in parsed] == [second.prediction_id, first.prediction_id]
        assert [p.status for p in parsed] == [PredictionStatus.failed, PredictionStatus.succeeded]

    async def test_a_cancel_is_reported_by_webhook_too(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        replicate.latency = None
        (started,) = await provider.start(
            render_request(variants=1, webhook_url=replicate.sink_url)
        )

        await provider.cancel(started.prediction_id)

        (received,) = await replicate.wait_for_received(1)
        assert provider.parse_webhook(received.headers, received.body)[1].status is (
            PredictionStatus.canceled
        )

    async def test_a_forged_signature_is_invalid(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        body = b'{"id": "abc", "status": "succeeded", "output": "https://evil.test/x.jpg"}'
        headers = replicate.sign(body) | {"webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl"}

        with pytest.raises(InvalidWebhook, match="No matching signature"):
            provider.parse_webhook(headers, body)

    async def test_another_secret_is_invalid(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        body = b'{"id": "abc", "status": "succeeded"}'
        other = FakeReplicate().webhook_secret

        with pytest.raises(InvalidWebhook):
            provider.parse_webhook(replicate.sign(body, secret=other), body)

    async def test_a_tampered_body_is_invalid(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        body = b'{"id": "abc", "status": "failed"}'
        headers = replicate.sign(body)

        with pytest.raises(InvalidWebhook):
            provider.parse_webhook(headers, body.replace(b"failed", b"succeeded"))

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    async def test_a_missing_header_is_invalid(
        self, provider: ReplicateProvider, replicate: FakeReplicate, missing: str
    ) -> None:
        body = b'{"id": "abc", "status": "succeeded"}'
        headers = replicate.sign(body)
        del headers[missing]

        with pytest.raises(InvalidWebhook, match="Missing required headers"):
            provider.parse_webhook(headers, body)

    @pytest.mark.parametrize(("shift", "word"), [(-10, "too old"), (10, "too new")])
    async def test_a_timestamp_outside_the_tolerance_is_invalid(
        self, provider: ReplicateProvider, replicate: FakeReplicate, shift: int, word: str
    ) -> None:
        body = b'{"id": "abc", "status": "succeeded"}'
        when = datetime.now(UTC) + timedelta(minutes=shift)

        with pytest.raises(InvalidWebhook, match=word):
            provider.parse_webhook(replicate.sign(body, timestamp=when), body)

    async def test_a_malformed_signature_header_is_invalid(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        body = b'{"id": "abc", "status": "succeeded"}'
        headers = replicate.sign(body) | {"webhook-signature": "garbage"}

        with pytest.raises(InvalidWebhook, match="malformed"):
            provider.parse_webhook(headers, body)

    async def test_a_signed_body_that_is_not_a_prediction_is_invalid(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        body = b'["not", "a", "prediction"]'

        with pytest.raises(InvalidWebhook, match="prediction"):
            provider.parse_webhook(replicate.sign(body), body)

    async def test_a_succeeded_prediction_whose_outputs_are_gone_says_so(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        body = b'{"id": "abc", "status": "succeeded", "output": null, "data_removed": true}'

        prediction = provider.parse_webhook(replicate.sign(body), body)[1]

        assert prediction.outputs == []
        assert prediction.error is not None
        assert "no longer has the images" in prediction.error

    async def test_an_unknown_status_reads_as_still_processing(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        body = b'{"id": "abc", "status": "queued_somewhere_new"}'

        prediction = provider.parse_webhook(replicate.sign(body), body)[1]

        assert prediction.status is PredictionStatus.processing


class TestWebhookSecret:
    async def test_the_secret_is_fetched_once_when_not_configured(
        self, replicate: FakeReplicate, http: httpx.AsyncClient
    ) -> None:
        provider = make_provider(replicate, http, webhook_secret=None)
        body = b'{"id": "abc", "status": "succeeded"}'
        with pytest.raises(ProviderError, match="not loaded"):
            provider.parse_webhook(replicate.sign(body), body)

        secrets = await asyncio.gather(*(provider.webhook_secret() for _ in range(3)))
        await provider.webhook_secret()

        assert set(secrets) == {replicate.webhook_secret}
        assert len(replicate.requests_to("GET", "/v1/webhooks/default/secret")) == 1
        webhook_id, prediction = provider.parse_webhook(
            replicate.sign(body, webhook_id="msg_1"), body
        )
        assert (webhook_id, prediction.prediction_id) == ("msg_1", "abc")

    async def test_a_configured_secret_is_not_fetched(
        self, provider: ReplicateProvider, replicate: FakeReplicate
    ) -> None:
        assert await provider.webhook_secret() == replicate.webhook_secret
        assert replicate.requests == []
