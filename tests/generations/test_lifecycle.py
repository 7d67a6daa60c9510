"""The job lifecycle on Replicate (DESIGN §7), end to end against the loopback fake.

Submit through the API, run the worker, deliver the webhooks the fake held (or let the worker
poll), and look at what a user would notice: the API's answers, the rows of the job, its
predictions, render and ledger, and the files in storage. Whatever a test does, every job that
ended is charged exactly the variants it delivered (checked after each test).
"""

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from roomcraft.config import DEFAULT_PLANS, Settings
from roomcraft.db.pool import Pool
from roomcraft.generations import lifecycle
from roomcraft.generations.tasks import START_ATTEMPTS
from roomcraft.main import create_app
from roomcraft.runtime import Runtime, open_runtime
from tests.factories import Account
from tests.fakes.replicate import FakeReplicate
from tests.generations import replicate_env as env
from tests.generations.conftest import Upload, room_photo

MakeClient = Callable[[Account], Awaitable[httpx.AsyncClient]]
DEBIT = "generation_debit"
CREDIT = "credit_adjustment"

# Fixtures: the app and the worker share a runtime on the fake. A class changes it by overriding
# `webhooks` (False: jobs are followed by polling), `setting_changes` or `replicate_timings`.


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeReplicate]:
    with FakeReplicate() as fake:
        yield fake


@pytest.fixture
def fake(fake_server: FakeReplicate) -> Iterator[FakeReplicate]:
    """The module's fake Replicate, fresh for the test; it holds webhooks for the test to send."""
    fake_server.reset()
    fake_server.hold_webhooks = True
    yield fake_server
    assert fake_server.task_errors == []


@pytest.fixture
def webhooks() -> bool:
    return True


@pytest.fixture
def setting_changes() -> dict[str, Any]:
    return {}


@pytest.fixture
def replicate_timings() -> dict[str, float]:
    """Retry timings of the Replicate provider; none: the production ones."""
    return {}


@pytest.fixture
def replicate_settings(
    settings: Settings, fake: FakeReplicate, webhooks: bool, setting_changes: dict[str, Any]
) -> Settings:
    return env.replicate_settings(settings, fake, webhooks=webhooks, **setting_changes)


@pytest.fixture
async def runtime(
    replicate_settings: Settings, pool: Pool, replicate_timings: dict[str, float]
) -> AsyncIterator[Runtime]:
    """The app's and the worker's runtime on the fake (it replaces the local engine's)."""
    async with open_runtime(replicate_settings, pool) as opened:
        if replicate_timings:
            opened = env.with_replicate_timings(opened, **replicate_timings)
        yield opened


@pytest.fixture
def app(replicate_settings: Settings, runtime: Runtime) -> FastAPI:
    return create_app(replicate_settings, runtime=runtime)


@pytest.fixture
async def signed_in(client_for: MakeClient, user: Account) -> httpx.AsyncClient:
    return await client_for(user)


@pytest.fixture(autouse=True)
async def ledgers_match_deliveries(pool: Pool) -> AsyncIterator[None]:
    """After the test, whatever it did: every job that ended is charged what it delivered."""
    yield
    for job_id in await env.terminal_job_ids(pool):
        await env.assert_ledger_matches_delivered(pool, job_id)


# Helpers


async def submit_job(
    client: httpx.AsyncClient, upload: Upload, *, mode: str = "redesign", variants: int = 2
) -> str:
    body: dict[str, object] = {
        "mode": mode,
        "roomType": "living_room",
        "style": "japandi",
        "variants": variants,
    }
    if mode == "imagine":
        body["prompt"] = "a calm reading corner"
    else:
        body["input1"] = await upload(client, room_photo())
    response = await client.post("/api/v1/generations/submit", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["id"])


async def generation(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/generations/{job_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def prediction_ids(pool: Pool, job_id: str) -> list[str]:
    return [row["prediction_id"] for row in await env.prediction_rows(pool, job_id)]


async def assert_stored_from_fake(
    runtime: Runtime, fake: FakeReplicate, state: dict[str, Any], predictions: list[str]
) -> None:
    """Each variant is in storage as a JPEG with a WebP thumb: the fake's output, re-encoded."""
    originals = [url for prediction in predictions for url in env.output_urls(fake, prediction)]
    assert len(originals) == len(state["variants"])
    async with httpx.AsyncClient(trust_env=False) as http:
        for variant, url in zip(state["variants"], originals, strict=True):
            path = f"renders/{state['renderId']}/{variant['idx']}"
            image = await runtime.storage.get("public", f"{path}.jpg")
            thumb = await runtime.storage.get("public", f"{path}_thumb.webp")
            assert env.decoded(image).format == "JPEG"
            assert env.decoded(thumb).format == "WEBP"
            env.assert_same_picture(image, (await http.get(url)).content)


def cancels(fake: FakeReplicate, prediction: str) -> int:
    return len(fake.requests_to("POST", f"/v1/predictions/{prediction}/cancel"))


def refund(amount: int, reason: str) -> tuple[str, int, str]:
    return (CREDIT, amount, reason)


def debit(amount: int) -> tuple[str, int, None]:
    return (DEBIT, amount, None)


class TestWebhookHappyPath:
    @pytest.mark.parametrize(
        ("mode", "model_path", "predictions"),
        [("redesign", env.NANO_PATH, 2), ("imagine", env.GPT_PATH, 1)],
    )
    async def test_the_webhooks_then_the_finish_store_every_variant(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
        mode: str,
        model_path: str,
        predictions: int,
    ) -> None:
        job_id = await submit_job(signed_in, upload, mode=mode, variants=2)
        await env.drain(runtime)

        created = fake.requests_to("POST", model_path)
        assert len(created) == predictions
        assert {r.json["webhook"] for r in created} == {"http://testserver/webhooks/replicate"}
        held = await env.wait_for_webhooks(fake, predictions)
        assert sorted(await prediction_ids(pool, job_id)) == sorted(d.prediction_id for d in held)
        assert (await generation(signed_in, job_id))["status"] == "processing"

        responses = await env.deliver_all(client, fake, predictions)
        assert [env.applied(r) for r in responses] == [False] * (predictions - 1) + [True]
        await env.drain(runtime)

        state = await generation(signed_in, job_id)
        assert state["status"] == "succeeded"
        assert [variant["idx"] for variant in state["variants"]] == [0, 1]
        await assert_stored_from_fake(runtime, fake, state, await prediction_ids(pool, job_id))
        assert await env.job_ledger(pool, job_id) == [debit(2)]
        await env.assert_ledger_matches_delivered(pool, job_id)


class TestPolling:
    @pytest.fixture
    def webhooks(self) -> bool:
        return False

    async def test_the_worker_polls_with_backoff_until_the_predictions_succeed(
        self,
        signed_in: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        fake.latency = None  # running until the test ends them
        job_id = await submit_job(signed_in, upload, variants=2)
        await env.drain(runtime)
        assert all("webhook" not in r.json for r in fake.requests_to("POST", env.NANO_PATH))

        await env.tick(runtime)  # polls: the predictions still run, so the next one waits
        polls = await env.queued(pool, "generations.poll_job")
        assert len(polls) >= 2
        assert [p["args"]["attempt"] for p in polls] == list(range(len(polls)))
        assert [p["status"] for p in polls[:-1]] == ["succeeded"] * (len(polls) - 1)
        assert (polls[-1]["status"], polls[-1]["later"]) == ("todo", True)
        assert (await generation(signed_in, job_id))["status"] == "processing"

        predictions = await prediction_ids(pool, job_id)
        for prediction in predictions:
            await fake.finish(prediction)
        await env.tick(runtime)

        state = await generation(signed_in, job_id)
        assert state["status"] == "succeeded"
        assert len(state["variants"]) == 2
        assert all(len(fake.requests_to("GET", f"/v1/predictions/{p}")) >= 2 for p in predictions)
        assert fake.webhooks == []
        await assert_stored_from_fake(runtime, fake, state, predictions)
        assert await env.job_ledger(pool, job_id) == [debit(2)]
        await env.assert_ledger_matches_delivered(pool, job_id)


class TestWebhookDeliveries:
    @pytest.fixture
    async def processing(
        self, signed_in: httpx.AsyncClient, upload: Upload, runtime: Runtime
    ) -> str:
        """A one-variant job started at the fake, whose prediction already ended."""
        job_id = await submit_job(signed_in, upload, variants=1)
        await env.drain(runtime)
        return job_id

    async def test_a_forged_signature_is_refused_and_changes_nothing(
        self,
        processing: str,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        (delivery,) = await env.wait_for_webhooks(fake, 1)
        forged = await env.deliver(client, fake, delivery, secret=FakeReplicate().webhook_secret)

        assert forged.status_code == 400
        assert forged.json()["error"]["code"] == "VALIDATION_ERROR"
        assert await env.webhook_delivery_ids(pool) == set()
        assert [r["status"] for r in await env.prediction_rows(pool, processing)] == ["starting"]
        assert await env.queued(pool, "generations.finish_job") == []
        await env.drain(runtime)
        assert (await generation(signed_in, processing))["status"] == "processing"
        assert env.applied(await env.deliver(client, fake, delivery))  # the genuine one counts

    async def test_a_delivery_signed_ten_minutes_ago_is_refused(
        self,
        processing: str,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        (delivery,) = await env.wait_for_webhooks(fake, 1)
        when = datetime.now(UTC) - timedelta(minutes=10)

        stale = await env.deliver(client, fake, delivery, timestamp=when)

        assert stale.status_code == 400
        assert "too old" in stale.json()["error"]["message"]
        assert await env.webhook_delivery_ids(pool) == set()
        assert (await generation(signed_in, processing))["status"] == "processing"

    async def test_a_replayed_delivery_is_applied_once(
        self,
        processing: str,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        (delivery,) = await env.wait_for_webhooks(fake, 1)

        first = await env.deliver(client, fake, delivery)
        again = await env.deliver(client, fake, delivery)
        await env.drain(runtime)

        assert (env.applied(first), env.applied(again)) == (True, False)
        assert len(await env.queued(pool, "generations.finish_job")) == 1
        state = await generation(signed_in, processing)
        assert state["status"] == "succeeded"
        assert len(await env.variant_rows(pool, processing)) == 1
        assert await env.job_ledger(pool, processing) == [debit(1)]
        await env.assert_ledger_matches_delivered(pool, processing)

    async def test_another_delivery_for_a_finished_prediction_is_ignored(
        self,
        processing: str,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        (delivery,) = await env.wait_for_webhooks(fake, 1)
        assert env.applied(await env.deliver(client, fake, delivery))
        await env.drain(runtime)

        same_again = await env.deliver(client, fake, delivery, webhook_id="msg_resent")
        failed = json.loads(delivery.body) | {"status": "failed", "output": None, "error": "late"}
        contradiction = await env.post_webhook(client, fake, json.dumps(failed).encode())
        await env.drain(runtime)

        assert (env.applied(same_again), env.applied(contradiction)) == (False, False)
        assert [r["status"] for r in await env.prediction_rows(pool, processing)] == ["succeeded"]
        assert len(await env.queued(pool, "generations.finish_job")) == 1
        assert (await generation(signed_in, processing))["status"] == "succeeded"
        assert len(await env.variant_rows(pool, processing)) == 1
        await env.assert_ledger_matches_delivered(pool, processing)

    async def test_deliveries_out_of_order_are_each_applied_once(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        fake.fail_next(1)  # one of the two predictions fails
        job_id = await submit_job(signed_in, upload, variants=2)
        await env.drain(runtime)

        responses = await env.deliver_all(client, fake, 2, reverse=True)
        succeeded = next(d for d in fake.webhooks if d.status == "succeeded")
        progress = json.loads(succeeded.body) | {"status": "processing", "output": None}
        stale = await env.post_webhook(client, fake, json.dumps(progress).encode())
        await env.drain(runtime)

        assert [env.applied(r) for r in [*responses, stale]] == [False, True, False]
        assert await env.webhook_delivery_ids(pool) >= {d.webhook_id for d in fake.webhooks}
        rows = await env.prediction_rows(pool, job_id)
        assert sorted(r["status"] for r in rows) == ["failed", "succeeded"]
        state = await generation(signed_in, job_id)
        assert state["status"] == "succeeded"
        assert [variant["idx"] for variant in state["variants"]] == [0]
        await assert_stored_from_fake(runtime, fake, state, [succeeded.prediction_id])
        assert await env.job_ledger(pool, job_id) == [
            debit(2),
            refund(1, "Refund: 1 of 2 variants failed"),
        ]
        await env.assert_ledger_matches_delivered(pool, job_id)

    async def test_a_webhook_for_an_unknown_prediction_is_acknowledged_and_ignored(
        self,
        processing: str,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        orphan = {
            "id": "orphanprediction",
            "status": "succeeded",
            "output": f"{fake.base_url}/delivery/orphanprediction/0.jpg",
        }

        response = await env.post_webhook(client, fake, json.dumps(orphan).encode())

        assert response.status_code == 200
        assert not env.applied(response)
        assert await env.queued(pool, "generations.finish_job") == []
        assert (await generation(signed_in, processing))["status"] == "processing"
        assert [r["status"] for r in await env.prediction_rows(pool, processing)] == ["starting"]

    async def test_a_webhook_that_outruns_the_recording_of_its_prediction_is_not_lost(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        fake.throttle_next(1, retry_after="1")  # one creation waits a second to be retried…
        job_id = await submit_job(signed_in, upload, variants=2)
        starting = asyncio.create_task(env.drain(runtime))
        early = (await env.wait_for_webhooks(fake, 1))[0]  # …while the other one already ended
        assert await env.prediction_rows(pool, job_id) == []

        first_answer = await env.deliver(client, fake, early)
        await starting
        if first_answer.status_code >= 300:  # refused for now: Replicate sends it again
            await env.deliver(client, fake, early)
        late = (await env.wait_for_webhooks(fake, 2))[1]
        await env.deliver(client, fake, late)
        await env.tick(runtime)  # what rescues the early one (the safety poll) is due now

        state = await generation(signed_in, job_id)
        assert state["status"] == "succeeded"
        assert len(state["variants"]) == 2
        assert await env.job_ledger(pool, job_id) == [debit(2)]
        await env.assert_ledger_matches_delivered(pool, job_id)


class TestProviderErrors:
    @pytest.fixture
    def webhooks(self) -> bool:
        return False

    @pytest.fixture
    def replicate_timings(self) -> dict[str, float]:
        return {"max_attempts": 2, "base_delay": 0.01, "max_delay": 0.05, "timeout": 0.5}

    @pytest.mark.parametrize("status", [429, 500, 503])
    async def test_a_creation_refused_once_is_retried_and_the_job_succeeds(
        self,
        signed_in: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
        status: int,
    ) -> None:
        if status == 429:
            fake.throttle_next(1, retry_after="0")
        else:
            fake.error_next(1, status=status)
        job_id = await submit_job(signed_in, upload, variants=1)

        await env.drain(runtime)
        await env.tick(runtime)

        assert len(fake.requests_to("POST", env.NANO_PATH)) == 2
        state = await generation(signed_in, job_id)
        assert state["status"] == "succeeded"
        assert len(state["variants"]) == 1
        assert await env.job_ledger(pool, job_id) == [debit(1)]
        await env.assert_ledger_matches_delivered(pool, job_id)

    async def test_creations_failing_every_time_fail_the_job_after_every_attempt(
        self,
        signed_in: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        fake.error_next(100, status=500)
        job_id = await submit_job(signed_in, upload, variants=2)

        await env.drain(runtime)
        for _ in range(START_ATTEMPTS):
            if (await generation(signed_in, job_id))["status"] != "starting":
                break
            (start,) = await env.queued(pool, "generations.start_job")
            assert (start["status"], start["later"]) == ("todo", True)  # retried after a wait
            await env.tick(runtime)

        # Each attempt of the task: 2 variants × 2 requests of the provider's own retries.
        assert len(fake.requests_to("POST", env.NANO_PATH)) == START_ATTEMPTS * 2 * 2
        state = await generation(signed_in, job_id)
        assert state["status"] == "failed"
        assert state["error"] == "The image provider is unavailable right now."
        assert await env.job_ledger(pool, job_id) == [
            debit(2),
            refund(2, "Refund: The image provider is unavailable right now."),
        ]
        await env.assert_ledger_matches_delivered(pool, job_id)

    async def test_a_hanging_creation_is_retried_after_the_timeout(
        self,
        signed_in: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        fake.hang_next(1, seconds=5)
        job_id = await submit_job(signed_in, upload, variants=1)

        started = time.monotonic()
        await env.drain(runtime)
        assert time.monotonic() - started < 3  # gave up on the hanging call at the timeout
        await env.tick(runtime)

        assert len(fake.requests_to("POST", env.NANO_PATH)) == 2
        state = await generation(signed_in, job_id)
        assert state["status"] == "succeeded"
        assert len(state["variants"]) == 1
        await env.assert_ledger_matches_delivered(pool, job_id)

    async def test_an_aborted_variant_is_refunded_and_the_other_delivered(
        self,
        signed_in: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        fake.finish_next(1, status="aborted")
        job_id = await submit_job(signed_in, upload, variants=2)

        await env.drain(runtime)
        await env.tick(runtime)

        rows = await env.prediction_rows(pool, job_id)
        assert sorted(r["status"] for r in rows) == ["aborted", "succeeded"]
        state = await generation(signed_in, job_id)
        assert state["status"] == "succeeded"
        assert [variant["idx"] for variant in state["variants"]] == [0]
        assert await env.job_ledger(pool, job_id) == [
            debit(2),
            refund(1, "Refund: 1 of 2 variants failed"),
        ]
        await env.assert_ledger_matches_delivered(pool, job_id)

    async def test_a_job_whose_only_prediction_was_aborted_fails_readably(
        self,
        signed_in: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        fake.finish_next(1, status="aborted")
        job_id = await submit_job(signed_in, upload, variants=1)

        await env.drain(runtime)
        await env.tick(runtime)

        aborted = "The image service stopped the render before it finished."
        state = await generation(signed_in, job_id)
        assert (state["status"], state["error"], state["variants"]) == ("failed", aborted, None)
        assert await env.job_ledger(pool, job_id) == [debit(1), refund(1, f"Refund: {aborted}")]
        await env.assert_ledger_matches_delivered(pool, job_id)


class TestOneVariantFailing:
    @pytest.fixture
    def setting_changes(self) -> dict[str, Any]:
        """The free plan, allowing up to 4 variants."""
        plans = [
            plan.model_copy(update={"max_variants": 4}) if plan.key == "free" else plan
            for plan in DEFAULT_PLANS
        ]
        return {"plans": plans}

    async def test_two_of_three_are_stored_and_one_refunded(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        fake.fail_next(1, error="CUDA out of memory")
        job_id = await submit_job(signed_in, upload, variants=3)
        await env.drain(runtime)
        await env.deliver_all(client, fake, 3)
        await env.drain(runtime)

        rows = await env.prediction_rows(pool, job_id)
        (failed,) = [row for row in rows if row["status"] == "failed"]
        assert failed["error"] == "The image model failed: CUDA out of memory"
        state = await generation(signed_in, job_id)
        assert state["status"] == "succeeded"
        assert [variant["idx"] for variant in state["variants"]] == [0, 1]
        delivered = [row["prediction_id"] for row in rows if row["status"] == "succeeded"]
        await assert_stored_from_fake(runtime, fake, state, delivered)
        reason = "Refund: 1 of 3 variants failed"
        assert await env.job_ledger(pool, job_id) == [debit(3), refund(1, reason)]
        usage = (await signed_in.get("/api/v1/usage")).json()["data"]
        assert (usage["used"], usage["remaining"]) == (2, usage["limit"] - 2)
        history = (await signed_in.get("/api/v1/usage/history")).json()["data"]["items"]
        assert reason in [entry["description"] for entry in history]
        await env.assert_ledger_matches_delivered(pool, job_id)


class TestStuckJobs:
    @pytest.fixture
    async def stuck(
        self,
        signed_in: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> str:
        """A two-variant job whose predictions run on and on, older than the stuck timeout."""
        fake.latency = None
        job_id = await submit_job(signed_in, upload, variants=2)
        await env.drain(runtime)
        assert await lifecycle.sweep_stuck_jobs(runtime) == 0  # young: left alone
        await env.age_job(pool, job_id, seconds=runtime.settings.stuck_after_seconds + 60)
        return job_id

    async def test_the_sweep_fails_and_refunds_a_stuck_job_and_stops_its_predictions(
        self,
        stuck: str,
        signed_in: httpx.AsyncClient,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        assert await lifecycle.sweep_stuck_jobs(runtime) == 1
        await env.drain(runtime)

        state = await generation(signed_in, stuck)
        assert (state["status"], state["error"]) == ("failed", lifecycle.STUCK_ERROR)
        assert await env.job_ledger(pool, stuck) == [
            debit(2),
            refund(2, f"Refund: {lifecycle.STUCK_ERROR}"),
        ]
        assert [cancels(fake, p) for p in await prediction_ids(pool, stuck)] == [1, 1]
        await env.assert_ledger_matches_delivered(pool, stuck)

    async def test_a_late_success_after_the_sweep_is_accepted_and_charged_again(
        self,
        stuck: str,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        await lifecycle.sweep_stuck_jobs(runtime)
        predictions = await prediction_ids(pool, stuck)
        for prediction in predictions:
            await fake.finish(prediction)

        await env.deliver_all(client, fake, 2)
        await env.drain(runtime)

        state = await generation(signed_in, stuck)
        assert (state["status"], state["error"]) == ("succeeded", None)
        assert len(state["variants"]) == 2
        await assert_stored_from_fake(runtime, fake, state, predictions)
        assert await env.job_ledger(pool, stuck) == [
            debit(2),
            refund(2, f"Refund: {lifecycle.STUCK_ERROR}"),
            debit(2),
        ]
        await env.assert_ledger_matches_delivered(pool, stuck)


async def until(check: Callable[[], Awaitable[bool]], *, within: float, failure: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, failure
        await asyncio.sleep(0.05)


class TestKilledWorker:
    @pytest.fixture
    def webhooks(self) -> bool:
        return False

    @pytest.fixture
    def replicate_timings(self) -> dict[str, float]:
        """In this process: were a hang meant for the killed worker left over, it costs little."""
        return {"base_delay": 0.01, "max_delay": 0.05, "timeout": 2.0}

    async def test_a_job_whose_worker_was_killed_is_swept_and_its_owner_can_submit_again(
        self,
        signed_in: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        replicate_settings: Settings,
        fake: FakeReplicate,
        pool: Pool,
        tmp_path: Path,
    ) -> None:
        fake.latency = None  # the predictions never end
        job_id = await submit_job(signed_in, upload, variants=2)

        with env.worker_process(replicate_settings, fake, workdir=tmp_path) as worker:
            log = tmp_path / "worker.log"

            async def processing() -> bool:
                assert worker.poll() is None, log.read_text()
                return bool((await env.job_row(pool, job_id))["status"] == "processing")

            async def hanging_in_a_poll() -> bool:  # a poll takes milliseconds, unless hung
                polls = await env.queued(pool, "generations.poll_job")
                last = polls[-1] if polls else None
                return last is not None and last["status"] == "doing" and last["running_for"] > 0.5

            await until(processing, within=30, failure=f"never processing: {log.read_text()}")
            fake.hang_next(1, seconds=60)  # its next poll hangs: killed in the middle of a task
            await until(hanging_in_a_poll, within=15, failure=f"no hung poll: {log.read_text()}")
            os.kill(worker.pid, signal.SIGKILL)
            assert await asyncio.to_thread(worker.wait, 10) == -signal.SIGKILL

        assert (await env.queued(pool, "generations.poll_job"))[-1]["status"] == "doing"
        assert (await generation(signed_in, job_id))["status"] == "processing"

        await env.age_job(pool, job_id, seconds=runtime.settings.stuck_after_seconds + 60)
        assert await lifecycle.sweep_stuck_jobs(runtime) == 1
        await env.drain(runtime)

        state = await generation(signed_in, job_id)
        assert (state["status"], state["error"]) == ("failed", lifecycle.STUCK_ERROR)
        assert await env.job_ledger(pool, job_id) == [
            debit(2),
            refund(2, f"Refund: {lifecycle.STUCK_ERROR}"),
        ]
        predictions = await prediction_ids(pool, job_id)
        assert all(cancels(fake, p) >= 1 for p in predictions)
        assert {fake.prediction(p)["status"] for p in predictions} == {"canceled"}
        await env.assert_ledger_matches_delivered(pool, job_id)
        await submit_job(signed_in, upload, variants=1)  # accepted: nothing in flight


class TestCancel:
    async def test_canceling_a_processing_job_refunds_it_and_cancels_its_predictions(
        self,
        signed_in: httpx.AsyncClient,
        client: httpx.AsyncClient,
        upload: Upload,
        runtime: Runtime,
        fake: FakeReplicate,
        pool: Pool,
    ) -> None:
        fake.latency = None
        job_id = await submit_job(signed_in, upload, variants=2)
        await env.drain(runtime)
        predictions = await prediction_ids(pool, job_id)

        response = await signed_in.post(f"/api/v1/generations/{job_id}/cancel")
        assert response.status_code == 200
        assert response.json()["data"]["status"] == "canceled"
        await env.drain(runtime)

        assert [cancels(fake, p) for p in predictions] == [1, 1]
        assert {fake.prediction(p)["status"] for p in predictions} == {"canceled"}
        await env.deliver_all(client, fake, 2)  # Replicate reports the cancellations
        await env.drain(runtime)
        state = await generation(signed_in, job_id)
        assert (state["status"], state["variants"]) == ("canceled", None)
        assert await env.job_ledger(pool, job_id) == [
            debit(2),
            refund(2, "Refund: you canceled the job"),
        ]
        await env.assert_ledger_matches_delivered(pool, job_id)
