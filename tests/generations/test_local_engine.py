"""The local engine renders real, deterministic images that follow the mode, room type and style."""

import asyncio
import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from roomcraft.generations.providers import local
from roomcraft.generations.providers.base import (
    InputImage,
    InvalidWebhook,
    Prediction,
    PredictionStatus,
    ProviderError,
    RenderRequest,
)
from roomcraft.generations.providers.local import LocalProvider


def encode(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def room_photo() -> InputImage:
    """A 1600×1200 "photo" of an empty room: a lit wall, a wooden floor, a window and a door."""
    down = np.linspace(0, 1, 1200, dtype=np.float32)[:, None, None]
    across = np.linspace(0, 1, 1600, dtype=np.float32)[None, :, None]
    wall = np.array([226, 221, 211], np.float32) * (0.8 + 0.2 * across) * (1 - 0.1 * down)
    floor = np.array([150, 108, 72], np.float32) * (0.7 + 0.3 * down) * (0.9 + 0.1 * across)
    pixels = np.where(down > 0.68, floor, wall)
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((950, 200, 1350, 650), fill=(236, 244, 250), outline=(250, 250, 250), width=14)
    draw.rectangle((200, 260, 420, 815), fill=(178, 158, 128))
    return InputImage(
        url="https://files.test/room.jpg", data=encode(image, "JPEG"), width=1600, height=1200
    )


def armchair_photo() -> InputImage:
    """A 400×400 product shot: a red armchair on a white background."""
    image = Image.new("RGB", (400, 400), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((60, 80, 340, 260), 30, fill=(205, 28, 28))
    draw.rounded_rectangle((40, 180, 360, 320), 30, fill=(185, 24, 24))
    draw.rectangle((70, 320, 90, 370), fill=(90, 60, 40))
    draw.rectangle((310, 320, 330, 370), fill=(90, 60, 40))
    return InputImage(
        url="https://files.test/chair.png", data=encode(image, "PNG"), width=400, height=400
    )


ROOM = room_photo()
ARMCHAIR = armchair_photo()
INPUTS = {"redesign": [ROOM], "staging": [ROOM], "compose": [ROOM, ARMCHAIR], "imagine": []}


def render_request(mode: str, **changes: object) -> RenderRequest:
    request = RenderRequest(
        job_id="7d0c1c9e-2f4a-4f5e-9a53-0f6f3b1f8a10",
        mode=mode,
        room_type="living_room",
        style="scandinavian",
        prompt="A prompt the local engine does not read.",
        user_prompt=None,
        inputs=INPUTS[mode],
        aspect_ratio="4:3",
        quality="medium",
        variants=2,
        model="local",
    )
    return replace(request, **changes)  # type: ignore[arg-type]


async def render(mode: str, **changes: object) -> list[Prediction]:
    return await LocalProvider().start(render_request(mode, **changes))


def picture(prediction: Prediction) -> Image.Image:
    assert prediction.status is PredictionStatus.succeeded, prediction.error
    jpeg = prediction.outputs[0].data
    assert jpeg is not None
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    return image.convert("RGB")


def pixels(prediction: Prediction) -> np.ndarray:
    return np.asarray(picture(prediction), dtype=np.float32)


class TestStart:
    @pytest.mark.parametrize(
        ("mode", "aspect_ratio", "variants"),
        [
            ("redesign", "4:3", 1),
            ("staging", "9:16", 2),
            ("compose", "16:9", 3),
            ("imagine", "2:3", 4),
        ],
    )
    async def test_each_mode_returns_a_finished_jpeg_per_variant(
        self, mode: str, aspect_ratio: str, variants: int
    ) -> None:
        request = render_request(mode, aspect_ratio=aspect_ratio, variants=variants)
        predictions = await LocalProvider().start(request)
        assert [prediction.first_variant for prediction in predictions] == list(range(variants))
        across, down = (int(part) for part in aspect_ratio.split(":"))
        for idx, prediction in enumerate(predictions):
            assert prediction.prediction_id == f"local-{request.job_id}-{idx}"
            assert len(prediction.outputs) == 1
            image = picture(prediction)
            assert max(image.size) == 1024
            assert abs(image.height - image.width * down / across) <= 1

    async def test_high_quality_is_larger(self) -> None:
        (prediction,) = await render("imagine", quality="high", aspect_ratio="3:2", variants=1)
        assert picture(prediction).size == (1536, 1024)

    async def test_the_same_request_gives_the_same_bytes(self) -> None:
        for mode in INPUTS:
            first, second = await render(mode), await render(mode)
            assert [p.outputs for p in first] == [p.outputs for p in second], mode

    async def test_variants_of_a_job_differ(self) -> None:
        for mode in INPUTS:
            variants = [pixels(prediction) for prediction in await render(mode, variants=3)]
            for one, other in ((0, 1), (1, 2), (0, 2)):
                assert np.abs(variants[one] - variants[other]).mean() > 2, mode

    async def test_another_job_is_another_picture(self) -> None:
        (first,) = await render("imagine", variants=1, job_id="job-a")
        (second,) = await render("imagine", variants=1, job_id="job-b")
        assert first.outputs != second.outputs

    @pytest.mark.parametrize("mode", ["redesign", "imagine"])
    async def test_the_style_shows_in_the_colours(self, mode: str) -> None:
        (bright,) = await render(mode, style="scandinavian", variants=1)
        (loft,) = await render(mode, style="industrial", variants=1)
        bright_mean = pixels(bright).mean(axis=(0, 1))
        loft_mean = pixels(loft).mean(axis=(0, 1))
        assert np.abs(bright_mean - loft_mean).sum() > 60
        assert bright_mean.mean() > loft_mean.mean() + 20  # white walls and pale oak

    async def test_a_neon_style_is_saturated(self) -> None:
        (neon,) = await render("redesign", style="cyberpunk", variants=1)
        (calm,) = await render("redesign", style="wabi_sabi", variants=1)

        def saturation(image: np.ndarray) -> float:
            return float((image.max(axis=2) - image.min(axis=2)).mean())

        assert saturation(pixels(neon)) > saturation(pixels(calm)) + 25

    async def test_staging_furnishes_the_lower_part_of_the_photo(self) -> None:
        (empty,) = await render("redesign", variants=1)
        (staged,) = await render("staging", variants=1)
        change = np.abs(pixels(staged) - pixels(empty)).mean(axis=(1, 2))
        upper, lower = change[: len(change) // 3].mean(), change[len(change) // 2 :].mean()
        assert lower > 8
        assert lower > upper * 4

    async def test_the_room_type_chooses_the_furniture(self) -> None:
        (living,) = await render("staging", room_type="living_room", variants=1)
        (bathroom,) = await render("staging", room_type="bathroom", variants=1)
        assert np.abs(pixels(living) - pixels(bathroom)).mean() > 3

    async def test_compose_sets_the_red_armchair_into_the_room(self) -> None:
        for prediction in await render("compose", variants=2):
            image = pixels(prediction)
            red, green, blue = image[..., 0], image[..., 1], image[..., 2]
            armchair = (red > 140) & (green < 80) & (blue < 80)
            assert armchair.sum() > 20_000
            rows = np.nonzero(armchair.any(axis=1))[0]
            assert rows.min() > image.shape[0] * 0.3  # standing on the floor, not on the ceiling

    async def test_imagine_draws_a_room_without_inputs(self) -> None:
        (prediction,) = await render("imagine", inputs=[], variants=1)
        image = pixels(prediction)
        top, bottom = image[: image.shape[0] // 8], image[-image.shape[0] // 8 :]
        assert image.std() > 20  # a scene, not a flat fill
        assert abs(top.mean() - bottom.mean()) > 10  # a ceiling above, a floor below

    async def test_every_picture_is_labelled_as_a_local_preview(self) -> None:
        (prediction,) = await render("imagine", style="cyberpunk", variants=1)
        image = pixels(prediction)
        corner = image[-40:, -160:].min(axis=2)
        elsewhere = image[-40:, :160].min(axis=2)
        assert (corner > 180).sum() > 50
        assert (elsewhere > 180).sum() == 0

    async def test_an_undecodable_photo_fails_every_variant_readably(self) -> None:
        broken = InputImage(
            url="https://files.test/room.jpg", data=b"not a jpeg", width=1, height=1
        )
        predictions = await render("redesign", inputs=[broken], variants=3)
        assert len(predictions) == 3
        for idx, prediction in enumerate(predictions):
            assert prediction.status is PredictionStatus.failed
            assert prediction.first_variant == idx
            assert prediction.outputs == []
            assert prediction.error == "The local engine could not read the room photo."

    async def test_compose_without_a_second_image_fails(self) -> None:
        (prediction,) = await render("compose", inputs=[ROOM], variants=1)
        assert prediction.status is PredictionStatus.failed
        assert prediction.error == "The compose mode needs a room photo and a second image."

    async def test_a_broken_variant_does_not_fail_the_others(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        render_variant = local.render_variant

        def failing_second(job: object, idx: int) -> bytes:
            if idx == 1:
                raise RuntimeError("the canvas caught fire")
            return render_variant(job, idx)  # type: ignore[arg-type]

        monkeypatch.setattr(local, "render_variant", failing_second)
        predictions = await render("imagine", variants=3)
        assert [p.status for p in predictions] == [
            PredictionStatus.succeeded,
            PredictionStatus.failed,
            PredictionStatus.succeeded,
        ]
        assert predictions[1].error == "The local engine could not render this variant."

    async def test_rendering_leaves_the_event_loop_free(self) -> None:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        ticker = asyncio.create_task(tick())
        await render("imagine", variants=4)
        ticker.cancel()
        assert ticks > 5


class TestOtherCalls:
    def test_is_named_local(self) -> None:
        assert LocalProvider().name == "local"

    async def test_fetch_has_nothing_to_fetch(self) -> None:
        with pytest.raises(ProviderError, match="keeps no predictions"):
            await LocalProvider().fetch("local-job-0")

    async def test_cancel_does_nothing(self) -> None:
        await LocalProvider().cancel("local-job-0")

    def test_no_webhook_is_valid(self) -> None:
        with pytest.raises(InvalidWebhook):
            LocalProvider().parse_webhook({"webhook-id": "msg_1"}, b"{}")
