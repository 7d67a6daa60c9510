"""The local engine: offline previews rendered here with Pillow and NumPy, without keys or network.

It grades the room photo toward the style's palette (redesign), adds furniture silhouettes to it
(staging), sets the second image into the room (compose) or draws a room in perspective
(imagine). The same request gives the same bytes: each variant is seeded from the job id and its
index, and varies the grade, the light and the arrangement.
"""

import asyncio
import hashlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import structlog
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from roomcraft.generations.presets import DEFAULT_PRESETS, Presets, Style
from roomcraft.generations.providers.base import (
    InputImage,
    InvalidWebhook,
    Output,
    Prediction,
    PredictionStatus,
    ProviderError,
    RenderRequest,
)

log = structlog.get_logger(__name__)

Pixels = npt.NDArray[np.float32]
Colour = tuple[int, int, int]

_LONG_SIDE = {"low": 1024, "medium": 1024, "high": 1536}
_INPUTS_NEEDED = {"redesign": 1, "staging": 1, "compose": 2, "imagine": 0}
_JPEG_QUALITY = 90
_PARALLEL_RENDERS = max(1, min(4, os.cpu_count() or 1))
# How far each variant pulls the photo toward the palette; variants cycle through them.
_STRENGTHS = (0.55, 0.7, 0.45, 0.62)
_NEUTRAL = Style(
    "neutral",
    "Neutral",
    "Soft, balanced neutrals.",
    ("#E6E1D9", "#A8957F", "#6F7F86", "#D3CBBE", "#5A4A3C"),
    0.05,
    1.0,
    1.0,
)


class _Unrenderable(Exception):
    """A job the local engine cannot render; the message is for the user."""


@dataclass(frozen=True)
class LocalJob:
    """A render request decoded and checked once, ready for its variants."""

    job_id: str
    mode: str
    room_type: str
    style: Style
    size: tuple[int, int]
    photo: Pixels | None  # the room photo, fitted to `size`
    item: Image.Image | None  # compose: the second image


class LocalProvider:
    """The offline engine: renders every variant at once and returns them already finished."""

    name = "local"

    def __init__(self, presets: Presets = DEFAULT_PRESETS) -> None:
        self._presets = presets
        # A 1536px variant holds ~200 MB of arrays at its peak: render a few at a time.
        self._renders = asyncio.Semaphore(_PARALLEL_RENDERS)

    async def start(self, request: RenderRequest) -> list[Prediction]:
        """Render the job's variants in worker threads: one finished prediction per variant."""
        try:
            job = await asyncio.to_thread(self._prepare, request)
        except _Unrenderable as error:
            return [_failed(request.job_id, idx, str(error)) for idx in range(request.variants)]
        variants = (self._render(job, idx) for idx in range(request.variants))
        return list(await asyncio.gather(*variants))

    async def fetch(self, prediction_id: str) -> Prediction:
        """Never meaningful: `start` returns finished predictions."""
        raise ProviderError("The local engine keeps no predictions.")

    async def cancel(self, prediction_id: str) -> None:
        """Nothing to cancel: the local engine finishes before `start` returns."""

    async def ready_for_webhooks(self) -> None:
        """The local engine sends no webhooks: nothing to load."""

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> tuple[str, Prediction]:
        """The local engine sends no webhooks, so none is ever valid."""
        raise InvalidWebhook("The local engine sends no webhooks.")

    def _prepare(self, request: RenderRequest) -> LocalJob:
        needed = _INPUTS_NEEDED.get(request.mode)
        if needed is None:
            raise _Unrenderable(f"The local engine cannot render the mode {request.mode!r}.")
        size = _output_size(request.aspect_ratio, request.quality)
        if len(request.inputs) < needed:
            wanted = "a room photo and a second image" if needed == 2 else "a room photo"
            raise _Unrenderable(f"The {request.mode} mode needs {wanted}.")
        photo = _fit(_decode(request.inputs[0], "the room photo", size), size) if needed else None
        item = _decode(request.inputs[1], "the second image", size) if needed == 2 else None
        style = (self._presets.style(request.style) if request.style else None) or _NEUTRAL
        room_type = request.room_type or "living_room"
        return LocalJob(request.job_id, request.mode, room_type, style, size, photo, item)

    async def _render(self, job: LocalJob, idx: int) -> Prediction:
        async with self._renders:
            return await _predict(job, idx)


async def _predict(job: LocalJob, idx: int) -> Prediction:
    try:
        jpeg = await asyncio.to_thread(render_variant, job, idx)
    except _Unrenderable as error:
        return _failed(job.job_id, idx, str(error))
    except Exception:  # one broken variant must not take the job's other variants with it
        log.exception("generations.local_render_failed", job_id=job.job_id, variant=idx)
        return _failed(job.job_id, idx, "The local engine could not render this variant.")
    prediction_id = f"local-{job.job_id}-{idx}"
    return Prediction(prediction_id, idx, PredictionStatus.succeeded, [Output(data=jpeg)])


def _failed(job_id: str, idx: int, message: str) -> Prediction:
    return Prediction(f"local-{job_id}-{idx}", idx, PredictionStatus.failed, error=message)


def render_variant(job: LocalJob, idx: int) -> bytes:
    """The JPEG of one variant of a prepared job."""
    rng = np.random.default_rng(_seed(job.job_id, idx))
    if job.mode == "imagine":
        image = _imagine(job, idx, rng)
    elif job.mode == "compose":
        image = _compose(job, idx)
    else:
        image = _restyle(job, idx)
    _label(image)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=_JPEG_QUALITY)
    return buffer.getvalue()


def _seed(job_id: str, idx: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{job_id}:{idx}".encode()).digest()[:8], "big")


def _output_size(aspect_ratio: str, quality: str) -> tuple[int, int]:
    try:
        across, down = (int(part) for part in aspect_ratio.split(":"))
    except ValueError:
        raise _Unrenderable(f"The aspect ratio {aspect_ratio!r} is not supported.") from None
    if across <= 0 or down <= 0:
        raise _Unrenderable(f"The aspect ratio {aspect_ratio!r} is not supported.")
    long_side = _LONG_SIDE.get(quality, _LONG_SIDE["medium"])
    if across >= down:
        return long_side, round(long_side * down / across)
    return round(long_side * across / down), long_side


def _decode(source: InputImage, label: str, size: tuple[int, int]) -> Image.Image:
    try:
        with Image.open(io.BytesIO(source.data)) as opened:
            opened.draft("RGB", size)  # a large JPEG decodes straight at a reduced scale
            image = ImageOps.exif_transpose(opened)
            has_alpha = "A" in image.getbands() or "transparency" in image.info
            return image.convert("RGBA" if has_alpha else "RGB")
    except Exception as error:  # undecodable bytes raise many kinds of errors, all the same here
        raise _Unrenderable(f"The local engine could not read {label}.") from error


def _fit(image: Image.Image, size: tuple[int, int]) -> Pixels:
    fitted = ImageOps.fit(image.convert("RGB"), size, Image.Resampling.LANCZOS)
    return _pixels(fitted)


def _pixels(image: Image.Image) -> Pixels:
    return np.asarray(image, dtype=np.float32) / np.float32(255)


def _image(pixels: Pixels) -> Image.Image:
    return Image.fromarray((np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def _colour(hex_colour: str) -> Pixels:
    channels = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    return np.array(channels, np.float32) / np.float32(255)


def _luminance(pixels: Pixels) -> Pixels:
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    lum: Pixels = red * np.float32(0.2126) + green * np.float32(0.7152) + blue * np.float32(0.0722)
    return lum


# -- Grading ---------------------------------------------------------------------------------


def _gradient_map(style: Style) -> Pixels:
    """A 256-step ramp from luminance to the palette's surfaces (wall, floor, wood): sorted from
    dark to light, each placed between its own luminance and an even spread, from a deep shade
    to a near white. Accents stay out: mapped onto mid-tones they would flood whole floors."""
    surfaces = (style.palette[0], style.palette[1], style.palette[-1])
    colours = sorted((_colour(hex_colour) for hex_colour in surfaces), key=_luminance)
    spread = np.linspace(0.15, 0.85, len(colours))
    positions = np.clip((np.array([_luminance(c) for c in colours]) + spread) / 2, 0.03, 0.97)
    stops = [colours[0] * 0.18, *colours, colours[-1] + (1 - colours[-1]) * 0.6]
    levels = np.concatenate([[0.0], np.maximum.accumulate(positions), [1.0]])
    steps = np.linspace(0, 1, 256)
    channels = [np.interp(steps, levels, [stop[c] for stop in stops]) for c in range(3)]
    return np.stack(channels, axis=1).astype(np.float32)


def _grade(pixels: Pixels, style: Style, *, strength: float, idx: int) -> Pixels:
    """Tone `pixels` toward the style: the gradient map blended in by `strength`, shadows toward
    a palette colour that turns with the variant, then the style's warmth, contrast and
    saturation."""
    lum = np.clip(_luminance(pixels), 0, 1)
    mapped = _gradient_map(style)[(lum * 255).astype(np.uint8)]
    graded = pixels + (mapped - pixels) * np.float32(strength)
    tint = _colour(style.palette[(2 + idx) % len(style.palette)])
    graded += (tint - graded) * ((1 - lum) ** 2 * np.float32(0.2))[..., None]
    return _tone(_coloured_light(graded, style, idx), style)


def _coloured_light(pixels: Pixels, style: Style, idx: int) -> Pixels:
    """Light in the accent and textile colours washing in from opposite corners (they swap
    with the variant); the more saturated the style, the stronger: neon for cyberpunk, a hint
    for mid-century, nothing for calm styles."""
    amount = np.float32(min(max((style.saturation - 0.95) * 0.9, 0), 0.4))
    if amount == 0:
        return pixels
    height, width = pixels.shape[:2]
    diagonal = (
        np.linspace(0, 0.5, width, dtype=np.float32)[None, :]
        + np.linspace(0, 0.5, height, dtype=np.float32)[:, None]
    )[..., None]
    first, second = _colour(style.palette[2]), _colour(style.palette[3])
    if idx % 2:
        first, second = second, first
    light = (first + (second - first) * diagonal) * amount
    lit: Pixels = 1 - (1 - pixels) * (1 - light)  # screen: light adds, never darkens
    return lit


def _repaint(pixels: Pixels, style: Style, amount: float) -> Pixels:
    """Bright neutral surfaces (walls) toward the wall colour, and the lower part of the photo
    (mostly floor) to the floor colour's hue, keeping its own light and shade."""
    lum = _luminance(pixels)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    chroma = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    walls = np.clip((lum - 0.45) / 0.35, 0, 1) * np.clip(1 - chroma * 4, 0, 1) * amount * 0.6
    painted: Pixels = pixels + (_colour(style.palette[0]) - pixels) * walls[..., None]
    floor = _colour(style.palette[1])
    rows = np.clip((np.linspace(0, 1, pixels.shape[0], dtype=np.float32) - 0.6) / 0.16, 0, 1)
    lightness = lum / max(float(_luminance(floor)), 0.05) * 0.5 + 0.5  # halfway to the floor's
    recoloured = np.clip(floor * lightness[..., None], 0, 1)
    painted += (recoloured - painted) * (rows * np.float32(amount * 0.8))[:, None, None]
    return painted


def _tone(pixels: Pixels, style: Style) -> Pixels:
    warmth = np.float32(style.warmth)
    balance = np.array([1 + 0.1 * warmth, 1 + 0.02 * warmth, 1 - 0.1 * warmth], np.float32)
    toned = (pixels * balance - 0.5) * np.float32(style.contrast) + 0.5
    lum = _luminance(toned)[..., None]
    return np.clip(lum + (toned - lum) * np.float32(style.saturation), 0, 1)


def _window_light(pixels: Pixels, idx: int, amount: float = 0.08) -> Pixels:
    """Daylight from one side (which side turns with the variant) and a soft vignette."""
    height, width = pixels.shape[:2]
    across = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    down = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    side = np.float32(1 if idx % 2 else -1)
    light = 1 + np.float32(amount) * side * across - np.float32(0.1) * (across**2 + down**2)
    return pixels * light[..., None]


# -- Modes -----------------------------------------------------------------------------------


def _restyle(job: LocalJob, idx: int) -> Image.Image:
    assert job.photo is not None
    strength = _STRENGTHS[idx % len(_STRENGTHS)]
    repainted = _repaint(_window_light(job.photo, idx), job.style, strength)
    graded = _grade(repainted, job.style, strength=strength, idx=idx)
    image = _image(graded)
    if job.mode == "staging":
        width, height = job.size
        unit = min(width * 0.1, height * 0.13)
        pieces = _arrange(job.room_type, idx, centre=width / 2, floor=height * 0.9, unit=unit)
        _furnish(image, pieces, _Palette.of(job.style), unit)
    return image


def _compose(job: LocalJob, idx: int) -> Image.Image:
    assert job.photo is not None
    assert job.item is not None
    room = _image(job.photo)
    width, height = job.size
    centre = width * (0.32, 0.68, 0.5, 0.26)[idx % 4]
    cutout = _cutout(job.item)
    if cutout is not None:
        cutout.thumbnail((round(width * 0.42), round(height * 0.5)), Image.Resampling.LANCZOS)
        _place_cutout(room, cutout, centre=centre, floor=height * 0.92)
    else:
        _place_framed(room, job.item, centre=centre, palette=_Palette.of(job.style))
    graded = _grade(_pixels(room), job.style, strength=0.22, idx=idx)
    return _image(_window_light(graded, idx, amount=0.05))


def _cutout(item: Image.Image) -> Image.Image | None:
    """The item cut out of a plain background (a product photo), or None for a photograph."""
    if item.mode == "RGBA" and np.asarray(item.getchannel("A")).min() < 250:
        return item.copy()
    rgb = _pixels(item.convert("RGB"))
    corners = np.concatenate(
        [rgb[:6, :6], rgb[:6, -6:], rgb[-6:, :6], rgb[-6:, -6:]], axis=0
    ).reshape(-1, 3)
    background = np.median(corners, axis=0)
    gaps = np.abs(rgb - background)
    distance = np.maximum(np.maximum(gaps[..., 0], gaps[..., 1]), gaps[..., 2])
    alpha = np.clip((distance - 0.1) / 0.12, 0, 1)
    if corners.std(axis=0).max() > 0.04 or not 0.04 < alpha.mean() < 0.9:
        return None
    cutout = item.convert("RGBA")
    mask = Image.fromarray((alpha * 255).astype(np.uint8), "L")
    # Shrunk a little before softening, so no rim of the old background shows.
    cutout.putalpha(mask.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.GaussianBlur(1)))
    return cutout


def _place_cutout(room: Image.Image, cutout: Image.Image, *, centre: float, floor: float) -> None:
    left = round(min(max(centre - cutout.width / 2, 0), room.width - cutout.width))
    top = round(floor - cutout.height)
    shadow = Image.new("L", room.size, 0)
    contact = ImageDraw.Draw(shadow)
    inset = cutout.width * 0.06
    contact.ellipse(
        (left + inset, floor - cutout.height * 0.03, left + cutout.width - inset, floor + 6),
        fill=140,
    )
    shadow.paste(cutout.getchannel("A").point(lambda a: a * 0.3), (left + 12, top + 8))
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(4, cutout.height // 30)))
    room.paste((20, 16, 12), mask=shadow)
    room.paste(cutout, (left, top), cutout)


def _place_framed(
    room: Image.Image, item: Image.Image, *, centre: float, palette: "_Palette"
) -> None:
    """A photograph as a matted, framed print leaning in the room, with a soft shadow."""
    photo = item.convert("RGB")
    photo.thumbnail((round(room.width * 0.34), round(room.height * 0.4)), Image.Resampling.LANCZOS)
    mat = max(6, photo.width // 14)
    framed = ImageOps.expand(photo, border=mat, fill=_shade(palette.wall, 1.15))
    framed = ImageOps.expand(framed, border=max(3, mat // 3), fill=palette.wood)
    left = round(min(max(centre - framed.width / 2, 0), room.width - framed.width))
    top = round(room.height * 0.55 - framed.height / 2)
    shadow = Image.new("L", room.size, 0)
    shadow.paste(150, (left + mat, top + mat, left + framed.width + mat, top + framed.height + mat))
    room.paste((20, 16, 12), mask=shadow.filter(ImageFilter.GaussianBlur(mat)))
    room.paste(framed, (left, top))


# -- Furniture -------------------------------------------------------------------------------

# A part of a piece: shape, palette role, shade, box (left, top, right, bottom) and corner radius,
# in units from the piece's bottom centre (up is negative).
_Part = tuple[str, str, float, tuple[float, float, float, float], float]


def _both(
    shape: str, role: str, shade: float, box: tuple[float, float, float, float], radius: float
) -> tuple[_Part, _Part]:
    left, top, right, bottom = box
    mirrored = (-right, top, -left, bottom)
    return (shape, role, shade, box, radius), (shape, role, shade, mirrored, radius)


_SOFA: tuple[_Part, ...] = (
    *_both("rect", "wood", 0.8, (-1.85, -0.25, -1.72, 0), 0.02),
    ("rect", "textile", 0.8, (-1.9, -1.6, 1.9, -0.7), 0.18),
    ("rect", "textile", 0.7, (-2.1, -0.85, 2.1, -0.2), 0.1),
    *_both("rect", "textile", 0.95, (-1.75, -0.97, -0.03, -0.62), 0.12),
    *_both("rect", "textile", 0.85, (-2.22, -1.15, -1.72, -0.2), 0.2),
    *_both("rect", "accent", 0.95, (-1.6, -1.42, -0.95, -0.88), 0.15),
)
_BED: tuple[_Part, ...] = (
    ("rect", "wood", 0.9, (-1.95, -2.3, 1.95, -0.5), 0.12),
    *_both("rect", "wood", 0.6, (-1.9, -0.2, -1.74, 0), 0),
    ("rect", "wood", 0.7, (-1.95, -0.6, 1.95, -0.12), 0.05),
    ("rect", "textile", 1.05, (-1.85, -1.35, 1.85, -0.45), 0.1),
    *_both("rect", "white", 1.0, (-1.6, -1.6, -0.15, -1.12), 0.18),
    ("rect", "textile", 0.9, (-1.92, -1.02, 1.92, -0.3), 0.12),
    ("rect", "accent", 1.0, (-1.94, -0.72, 1.94, -0.42), 0.06),
)
_TABLE: tuple[_Part, ...] = (
    *_both("rect", "textile", 0.8, (-1.5, -1.9, -0.6, -1.1), 0.14),
    ("rect", "wood", 1.0, (-2.1, -1.22, 2.1, -1.04), 0.04),
    ("rect", "wood", 0.75, (-1.95, -1.06, 1.95, -0.94), 0),
    *_both("rect", "wood", 0.7, (-1.9, -1.0, -1.75, 0), 0),
    *_both("rect", "textile", 0.7, (-2.95, -1.6, -2.4, -0.55), 0.1),
    *_both("rect", "wood", 0.6, (-2.9, -0.6, -2.82, 0), 0),
    ("ellipse", "accent", 1.0, (-0.2, -1.62, 0.2, -1.2), 0),
    ("ellipse", "green", 1.0, (-0.35, -2.05, 0.35, -1.5), 0),
)
_DESK: tuple[_Part, ...] = (
    ("rect", "wood", 1.0, (-1.7, -1.12, 1.7, -0.98), 0.03),
    ("rect", "wood", 0.7, (-1.6, -1.0, -1.46, 0), 0),
    ("rect", "wood", 0.8, (0.7, -1.0, 1.6, 0), 0.03),
    ("rect", "wood", 0.6, (0.76, -0.55, 1.54, -0.5), 0),
    ("rect", "dark", 1.0, (-0.75, -2.0, 0.55, -1.25), 0.04),
    ("rect", "dark", 0.8, (-0.16, -1.27, -0.04, -1.1), 0),
    ("rect", "screen", 1.0, (-0.69, -1.94, 0.49, -1.31), 0.02),
    ("rect", "accent", 0.9, (-0.8, -1.3, 0.2, -0.5), 0.16),
    ("rect", "accent", 0.75, (-0.85, -0.6, 0.25, -0.42), 0.08),
    ("rect", "dark", 1.0, (-0.34, -0.43, -0.26, -0.1), 0),
    ("rect", "dark", 1.0, (-0.75, -0.12, 0.15, -0.04), 0.03),
)
_ISLAND: tuple[_Part, ...] = (
    ("rect", "wood", 0.85, (-2.3, -1.35, 2.3, -0.08), 0.02),
    ("rect", "white", 0.97, (-2.42, -1.5, 2.42, -1.33), 0.02),
    ("rect", "dark", 1.0, (-2.25, -0.1, 2.25, 0), 0),
    *(("rect", "wood", 0.65, (x - 0.012, -1.3, x + 0.012, -0.12), 0) for x in (-1.15, 0, 1.15)),
    *(
        ("rect", "dark", 0.9, (x - 0.25, -1.2, x + 0.25, -1.15), 0.02)
        for x in (-1.72, -0.58, 0.58, 1.72)
    ),
)
_WARDROBE: tuple[_Part, ...] = (
    ("rect", "wood", 0.85, (-1.8, -3.3, 1.8, -0.06), 0.02),
    ("rect", "wood", 1.0, (-1.9, -3.42, 1.9, -3.28), 0.02),
    ("rect", "dark", 1.0, (-1.75, -0.08, 1.75, 0), 0),
    *(("rect", "wood", 0.6, (x - 0.012, -3.25, x + 0.012, -0.1), 0) for x in (-0.6, 0.6)),
    *(
        ("rect", "dark", 0.9, (x - 0.03, -1.9, x + 0.03, -1.4), 0.02)
        for x in (-0.72, -0.48, 0.48, 0.72)
    ),
)
_TUB: tuple[_Part, ...] = (
    *_both("ellipse", "wood", 1.0, (-1.8, -0.32, -1.5, 0), 0),
    ("rect", "white", 0.9, (-2.0, -1.05, 2.0, -0.2), 0.35),
    ("rect", "white", 1.0, (-2.1, -1.15, 2.1, -0.95), 0.1),
    ("rect", "wood", 1.0, (1.55, -1.55, 1.65, -1.12), 0.03),
    ("rect", "wood", 1.0, (1.3, -1.57, 1.65, -1.48), 0.03),
    ("rect", "accent", 0.95, (-1.5, -1.12, -0.95, -0.5), 0.05),
)
_BENCH: tuple[_Part, ...] = (
    *_both("rect", "wood", 0.7, (-1.45, -0.6, -1.3, 0), 0),
    ("rect", "wood", 0.9, (-1.55, -0.68, 1.55, -0.56), 0.03),
    ("rect", "textile", 0.95, (-1.5, -0.86, 1.5, -0.66), 0.08),
    ("rect", "accent", 0.8, (-1.1, -0.46, -0.2, -0.02), 0.06),
    ("rect", "floor", 0.75, (0.2, -0.46, 1.1, -0.02), 0.06),
)
_PLANT: tuple[_Part, ...] = (
    ("ellipse", "green", 0.75, (-0.95, -2.0, 0.1, -0.7), 0),
    ("ellipse", "green", 1.0, (-0.15, -2.3, 0.85, -0.9), 0),
    ("ellipse", "green", 0.9, (-0.6, -2.7, 0.45, -1.5), 0),
    ("ellipse", "green", 1.15, (-0.35, -1.95, 0.3, -0.8), 0),
    ("rect", "accent", 0.85, (-0.38, -0.78, 0.38, 0), 0.08),
    ("rect", "accent", 1.0, (-0.43, -0.84, 0.43, -0.7), 0.04),
)
_LAMP: tuple[_Part, ...] = (
    ("ellipse", "dark", 1.0, (-0.35, -0.1, 0.35, 0.04), 0),
    ("rect", "dark", 1.0, (-0.04, -2.7, 0.04, -0.05), 0),
    ("rect", "white", 0.95, (-0.45, -3.2, 0.45, -2.6), 0.06),
)
_RUG: tuple[_Part, ...] = (
    ("ellipse", "accent", 0.85, (-3.1, -0.5, 3.1, 0.4), 0),
    ("ellipse", "textile", 0.95, (-2.75, -0.38, 2.75, 0.28), 0),
)
_PARTS = {
    "sofa": _SOFA,
    "bed": _BED,
    "crib": _BED,
    "table": _TABLE,
    "desk": _DESK,
    "island": _ISLAND,
    "wardrobe": _WARDROBE,
    "tub": _TUB,
    "bench": _BENCH,
    "plant": _PLANT,
    "lamp": _LAMP,
    "rug": _RUG,
}
_SCALE = {"crib": 0.62, "plant": 0.8, "lamp": 0.85}
# What a room type holds: an optional rug, its main piece, then the decor beside it.
_ROOMS = {
    "living_room": ("rug", "sofa", "plant", "lamp"),
    "bedroom": ("rug", "bed", "lamp", "plant"),
    "guest_room": ("rug", "bed", "plant"),
    "kids_room": ("rug", "bed", "plant"),
    "nursery": ("rug", "crib", "plant", "lamp"),
    "kitchen": ("island", "plant"),
    "dining_room": ("rug", "table", "plant", "lamp"),
    "bathroom": ("tub", "plant"),
    "home_office": ("rug", "desk", "plant", "lamp"),
    "entryway": ("rug", "bench", "plant"),
    "laundry_room": ("island", "plant"),
    "walk_in_closet": ("wardrobe", "bench"),
    "outdoor_patio": ("table", "plant", "plant"),
    "studio_apartment": ("rug", "sofa", "lamp", "plant"),
    "attic": ("rug", "bed", "lamp"),
    "basement": ("rug", "sofa", "lamp", "plant"),
}
# Room types from a presets file that the table above does not know, by a word of their key.
_BY_WORD = (
    ("nursery", "crib"),
    ("bed", "bed"),
    ("kitchen", "island"),
    ("dining", "table"),
    ("patio", "table"),
    ("bath", "tub"),
    ("office", "desk"),
    ("closet", "wardrobe"),
    ("entry", "bench"),
    ("hall", "bench"),
)


@dataclass(frozen=True)
class _Palette:
    wall: Colour
    floor: Colour
    accent: Colour
    textile: Colour
    wood: Colour

    @classmethod
    def of(cls, style: Style) -> "_Palette":
        colours = [_rgb(hex_colour) for hex_colour in style.palette]
        wood = colours[4] if len(colours) > 4 else _shade(colours[1], 0.6)
        return cls(colours[0], colours[1], colours[2], colours[3], wood)

    def paint(self, role: str, shade: float) -> tuple[int, int, int, int]:
        """The colour of a palette role, or of a fixed one (white, green, dark, screen)."""
        fixed = {
            "white": (238, 236, 230),
            "green": (84, 124, 72),
            "dark": (44, 40, 38),
            "screen": (92, 118, 140),
        }
        base = fixed.get(role) or getattr(self, role)
        return (*_shade(base, shade), 255)


@dataclass(frozen=True)
class _Piece:
    kind: str
    x: float  # bottom centre, in pixels
    y: float
    unit: float  # pixels per unit of the parts


def _rgb(hex_colour: str) -> Colour:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def _shade(colour: Colour, factor: float) -> Colour:
    red, green, blue = (min(255, max(0, round(channel * factor))) for channel in colour)
    return red, green, blue


def _extent(kind: str) -> tuple[float, float]:
    """How far the piece reaches left and right of its centre, in units."""
    parts = _PARTS[kind]
    return min(box[0] for *_, box, _ in parts), max(box[2] for *_, box, _ in parts)


def _arrange(room_type: str, idx: int, *, centre: float, floor: float, unit: float) -> list[_Piece]:
    """The room type's pieces around `centre` on the floor line: rug, decor beside, main piece.
    The variant shifts the main piece and swaps the side of the decor."""
    kinds = _ROOMS.get(room_type) or next(
        (("rug", kind, "plant") for word, kind in _BY_WORD if word in room_type),
        ("rug", "sofa", "plant", "lamp"),
    )
    main_kind, *decor = (kind for kind in kinds if kind != "rug")
    main = _Piece(
        main_kind,
        centre + (0, -0.7, 0.7, -0.35)[idx % 4] * unit,
        floor,
        unit * _SCALE.get(main_kind, 1),
    )
    pieces = [_Piece("rug", main.x, floor, main.unit)] if "rug" in kinds else []
    side = 1 if idx % 2 == 0 else -1
    for n, kind in enumerate(decor):
        direction = side if n % 2 == 0 else -side
        decor_unit = unit * _SCALE.get(kind, 1)
        reach = max(abs(end) for end in _extent(main_kind)) * main.unit
        near = max(abs(end) for end in _extent(kind)) * decor_unit
        x = main.x + direction * (reach + near + 0.2 * unit)
        pieces.append(_Piece(kind, x, floor - 0.25 * unit, decor_unit))
    pieces.append(main)
    return pieces


def _furnish(image: Image.Image, pieces: list[_Piece], palette: _Palette, unit: float) -> None:
    """Draw the pieces over `image`: rugs first, then contact shadows, then the furniture,
    supersampled twice for smooth edges."""
    rugs = [piece for piece in pieces if piece.kind == "rug"]
    furniture = [piece for piece in pieces if piece.kind != "rug"]
    _draw_layer(image, rugs, palette)
    shadows = Image.new("L", image.size, 0)
    contact = ImageDraw.Draw(shadows)
    for piece in furniture:
        left, right = _extent(piece.kind)
        contact.ellipse(
            (
                piece.x + left * piece.unit,
                piece.y - 0.2 * piece.unit,
                piece.x + right * piece.unit,
                piece.y + 0.12 * piece.unit,
            ),
            fill=170,
        )
    image.paste((18, 14, 10), mask=shadows.filter(ImageFilter.GaussianBlur(unit * 0.2)))
    _draw_layer(image, furniture, palette)


def _draw_layer(image: Image.Image, pieces: list[_Piece], palette: _Palette) -> None:
    if not pieces:
        return
    # Only the band of rows the pieces reach is drawn, at twice the size, then scaled down.
    top = max(
        0, int(min(p.y + min(part[3][1] for part in _PARTS[p.kind]) * p.unit for p in pieces))
    )
    layer = Image.new("RGBA", (image.width * 2, (image.height - top) * 2))
    draw = ImageDraw.Draw(layer)
    for piece in pieces:
        x, y, unit = piece.x * 2, (piece.y - top) * 2, piece.unit * 2
        for shape, role, shade, (left, up, right, down), radius in _PARTS[piece.kind]:
            box = (x + left * unit, y + up * unit, x + right * unit, y + down * unit)
            fill = palette.paint(role, shade)
            if shape == "ellipse":
                draw.ellipse(box, fill=fill)
            else:
                draw.rounded_rectangle(box, radius=radius * unit, fill=fill)
    size = (image.width, image.height - top)
    smooth = layer.convert("RGBa").resize(size, Image.Resampling.BOX).convert("RGBA")
    image.paste(smooth, (0, top), mask=smooth)


# -- Imagine ---------------------------------------------------------------------------------

_TILED = ("bath", "kitchen", "laundry", "patio", "terrace")
_OUTDOOR = ("outdoor", "patio", "garden", "balcony", "terrace")
_SKY, _HAZE = "#A9CBE6", "#F4F7F4"


@dataclass(frozen=True)
class _View:
    """A box room seen from its open side: the back wall is a rectangle around the vanishing
    point (vx, vy); floor, ceiling and side walls recede toward it."""

    width: int
    height: int
    vx: float
    vy: float
    half_width: float  # of the back wall
    half_height: float
    side: int  # the window's side of the back wall: 1 right, -1 left

    @classmethod
    def of(cls, size: tuple[int, int], idx: int) -> "_View":
        width, height = size
        top, bottom = height * 0.15, height * 0.6
        return cls(
            width,
            height,
            vx=width * (0.5, 0.43, 0.57, 0.47)[idx % 4],
            vy=(top + bottom) / 2,
            half_width=width * (0.3, 0.34, 0.28, 0.32)[idx % 4],
            half_height=(bottom - top) / 2,
            side=1 if idx % 2 == 0 else -1,
        )

    @property
    def floor_line(self) -> float:
        return self.vy + self.half_height

    @property
    def window(self) -> tuple[float, float, float, float]:
        centre = self.vx + self.side * 0.52 * self.half_width
        half = 0.27 * self.half_width
        return (
            centre - half,
            self.vy - 0.7 * self.half_height,
            centre + half,
            self.vy + 0.3 * self.half_height,
        )


def _imagine(job: LocalJob, idx: int, rng: np.random.Generator) -> Image.Image:
    """A room drawn in perspective in the style's palette, furnished for its room type."""
    view = _View.of(job.size, idx)
    palette = _Palette.of(job.style)
    tiled = any(word in job.room_type for word in _TILED)
    outdoor = any(word in job.room_type for word in _OUTDOOR)
    image = _image(_shell(view, job.style, rng, tiled=tiled, outdoor=outdoor))
    centre = view.vx - view.side * 0.28 * view.half_width
    floor = view.floor_line + 0.3 * (view.height - view.floor_line)
    unit = view.half_width * 0.19 * (floor - view.vy) / view.half_height
    _hang(image, view, palette, centre=centre, outdoor=outdoor)
    _furnish(
        image, _arrange(job.room_type, idx, centre=centre, floor=floor, unit=unit), palette, unit
    )
    lit = _daylight(_pixels(image), view)
    lit += rng.standard_normal((view.height, view.width, 1), dtype=np.float32) * np.float32(0.012)
    return _image(_grade(lit, job.style, strength=0.12, idx=idx))


def _shell(
    view: _View, style: Style, rng: np.random.Generator, *, tiled: bool, outdoor: bool
) -> Pixels:
    """Back wall, side walls, ceiling (the sky outdoors) and floor, with the window's sky and
    soft shade where surfaces meet."""
    across = (np.arange(view.width, dtype=np.float32)[None, :] - view.vx) / view.half_width
    down = (np.arange(view.height, dtype=np.float32)[:, None] - view.vy) / view.half_height
    across, down = np.broadcast_arrays(across, down)
    wall = _colour(style.palette[0])
    pixels = np.empty((view.height, view.width, 3), np.float32)
    pixels[:] = wall
    pixels[(np.abs(across) > np.abs(down)) & (np.abs(across) > 1)] *= np.float32(0.84)
    ceiling = (-down >= np.abs(across)) & (down < -1)
    if outdoor:
        height = np.clip(-1 / down[ceiling], 0, 1)[:, None]
        pixels[ceiling] = _colour(_SKY) + (_colour(_HAZE) - _colour(_SKY)) * height
    else:
        pixels[ceiling] = wall + (1 - wall) * np.float32(0.55)
    floor = (down >= np.abs(across)) & (down > 1)
    pixels[floor] = _floor(across[floor], down[floor], _colour(style.palette[1]), rng, tiled=tiled)
    edge = np.abs(np.maximum(np.abs(across), np.abs(down)) - 1)
    pixels *= (1 - np.float32(0.22) * np.exp(-edge * np.float32(9)))[..., None]
    pixels *= _mottle(rng, view.width, view.height)[..., None]
    left, top, right, bottom = (round(edge) for edge in view.window)
    sky = np.linspace(0, 1, bottom - top, dtype=np.float32)[:, None, None]
    pixels[top:bottom, left:right] = _colour(_SKY) + (_colour(_HAZE) - _colour(_SKY)) * sky
    return pixels


def _floor(
    across: Pixels, down: Pixels, colour: Pixels, rng: np.random.Generator, *, tiled: bool
) -> Pixels:
    """Planks (or tiles) in perspective: `across / down` runs across the room, `1 / down`
    into it; seams keep their width on the floor, so they thin out with distance."""
    per_width, length, seam, joint = (4, 0.14, 0.03, 0.03) if tiled else (6, 0.45, 0.02, 0.01)
    lateral = across / down * per_width  # in boards from the middle of the room
    boards = np.floor(lateral).astype(np.int64)
    depth = 1 / down / length  # in board lengths from the camera
    if not tiled:
        depth = depth + rng.random(64, dtype=np.float32)[boards % 64]  # staggered board ends
    rows = np.floor(depth).astype(np.int64)
    shades = 1 + rng.normal(0, 0.035 if tiled else 0.07, 64).astype(np.float32)
    tone: Pixels = shades[(boards * 13 + rows * 7) % 64]
    seams = (np.abs(lateral - np.round(lateral)) < seam) | (np.abs(depth - np.round(depth)) < joint)
    tone[seams] *= np.float32(0.8)
    return colour * tone[:, None]


def _mottle(rng: np.random.Generator, width: int, height: int) -> Pixels:
    """Slow, soft variation of brightness, like plaster and daylight."""
    coarse = rng.normal(0, 1, (height // 48 + 2, width // 48 + 2)).astype(np.float32)
    smooth = Image.fromarray(coarse, "F").resize((width, height), Image.Resampling.BICUBIC)
    return 1 + np.asarray(smooth, dtype=np.float32) * np.float32(0.006)


def _hang(
    image: Image.Image, view: _View, palette: _Palette, *, centre: float, outdoor: bool
) -> None:
    """The window's frame and sill, a print above the main piece and, indoors, a pendant
    lamp."""
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = view.window
    bar = max(3, round(view.half_width * 0.025))
    draw.rectangle((left, top, right, bottom), outline=palette.wood, width=bar)
    draw.line(((left + right) / 2, top, (left + right) / 2, bottom), fill=palette.wood, width=bar)
    rail = (top * 2 + bottom) / 3
    draw.line((left, rail, right, rail), fill=palette.wood, width=bar)
    sill = (left - bar * 2, bottom, right + bar * 2, bottom + bar * 2)
    draw.rectangle(sill, fill=_shade(palette.wall, 1.08))
    width, height = view.half_width * 0.4, view.half_height * 0.5
    _artwork(draw, (centre - width / 2, view.vy - 0.7 * view.half_height), (width, height), palette)
    if outdoor:
        return
    lamp_x, lamp_y = view.vx + view.side * 0.05 * view.width, view.vy - 0.8 * view.half_height
    draw.line((lamp_x, 0, lamp_x, lamp_y), fill=(40, 36, 34), width=max(1, bar // 3))
    shade = (lamp_x - bar * 5, lamp_y - bar * 2.5, lamp_x + bar * 5, lamp_y + bar * 2.5)
    draw.chord(shade, 180, 360, fill=palette.wood)


def _artwork(
    draw: ImageDraw.ImageDraw,
    corner: tuple[float, float],
    size: tuple[float, float],
    palette: _Palette,
) -> None:
    """A framed abstract print in the accent and textile colours."""
    (x, y), (width, height) = corner, size
    draw.rectangle((x, y, x + width, y + height), fill=palette.wood)
    mat = min(width, height) * 0.07
    draw.rectangle((x + mat, y + mat, x + width - mat, y + height - mat), fill=(236, 233, 226))
    draw.ellipse(
        (x + width * 0.2, y + height * 0.22, x + width * 0.58, y + height * 0.22 + width * 0.38),
        fill=palette.accent,
    )
    draw.rectangle(
        (x + width * 0.48, y + height * 0.45, x + width * 0.8, y + height * 0.8),
        fill=_shade(palette.textile, 0.8),
    )


def _daylight(pixels: Pixels, view: _View) -> Pixels:
    """Light falling from the window: a bright patch on the floor, the room darker away from it."""
    left, top, right, bottom = view.window
    across = np.arange(view.width, dtype=np.float32)[None, :]
    down = np.arange(view.height, dtype=np.float32)[:, None]
    window_x = (left + right) / 2
    patch_x = window_x + (window_x - view.vx) * 0.9
    patch_y = view.floor_line + 0.45 * (view.height - view.floor_line)
    spread_x, spread_y = (right - left) * 1.2, (view.height - view.floor_line) * 0.3
    patch = np.exp(-(((across - patch_x) / spread_x) ** 2) - ((down - patch_y) / spread_y) ** 2)
    distance = np.hypot((across - window_x) / view.width, (down - (top + bottom) / 2) / view.height)
    light = 1.1 - np.float32(0.45) * distance
    sunlight = np.array([1.0, 0.94, 0.8], np.float32) * np.float32(0.22)
    lit: Pixels = pixels * light[..., None] + patch[..., None] * sunlight
    return lit


def _label(image: Image.Image) -> None:
    """A small "Local preview" mark in the bottom-right corner."""
    size = max(12, image.width // 64)
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(image, "RGBA")
    text = "Local preview"
    _, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = size // 3
    x = image.width - right - size
    y = image.height - bottom - size
    draw.rounded_rectangle(
        (x - pad, y + top - pad, x + right + pad, y + bottom + pad), radius=pad, fill=(0, 0, 0, 80)
    )
    draw.text((x, y), text, font=font, fill=(255, 255, 255, 190))
