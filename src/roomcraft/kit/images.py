"""Image normalization: untrusted bytes in, clean JPEG/PNG/WebP out.

Pure functions, no I/O, CPU-bound: callers run them in a thread (`asyncio.to_thread`).

- The format is decided by the content, never by a file name or a header; only the JPEG, PNG, WebP
  and HEIF parsers ever see the bytes (`Image.open(..., formats=...)`).
- Decompression bombs are refused from the header alone, before a pixel is decoded: an image with
  more than `max_pixels` pixels is a `ValidationFailed` (400). A 413 is kept for bodies that are
  too many bytes; a bomb is small in bytes and too large in content, which is a validation error.
  Pillow's own guard (`Image.MAX_IMAGE_PIXELS`, a process-wide global we leave at its default)
  stays as a backstop and, when it fires first, maps to the same error.
- The result carries no metadata at all: EXIF orientation is applied to the pixels, colours are
  converted to sRGB, and the image is re-encoded from pixels alone (no EXIF, GPS, XMP, ICC).
"""

import io
import math
import struct
import zlib
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from roomcraft.kit.errors import UnsupportedMediaType, ValidationFailed

pillow_heif.register_heif_opener()

# The only parsers untrusted bytes reach. MPO is what Pillow calls a JPEG with extra frames (many
# phone cameras); it is opened by the JPEG parser and its first frame is a plain JPEG.
OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
ACCEPTED_FORMATS = frozenset({*OPEN_FORMATS, "MPO"})
JPEG_QUALITY = 90
THUMB_QUALITY = 80
DEFAULT_MAX_PIXELS = 50_000_000

# What decoding broken or hostile data raises (pillow-heif reports libheif failures as
# RuntimeError); anything else is a bug and must surface as one.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    RuntimeError,
)
_SRGB = ImageCms.createProfile("sRGB")
_HIGH_BIT_DEPTH = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


class ImageUnsupported(UnsupportedMediaType):
    """This file is not a supported image. Upload a JPEG, PNG, WebP or HEIC photo."""


class ImageDamaged(ValidationFailed):
    """The image is damaged or incomplete."""


class ImageTooLarge(ValidationFailed):
    """The image has too many pixels."""


@dataclass(frozen=True)
class NormalizedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def normalize_upload(data: bytes, *, max_pixels: int, max_side: int) -> NormalizedImage:
    """A user's photo made safe: upright, sRGB, long side at most `max_side`, no metadata.

    JPEG out, or PNG when the image has real transparency. HEIC is decoded, never re-encoded as
    HEIC. Raises `ImageUnsupported` (415), `ImageTooLarge` or `ImageDamaged` (400).
    """
    image = _open(data, max_pixels=max_pixels)
    try:
        picture = _decode(image, max_side=max_side)
        if _has_alpha(picture):
            picture = _shrink(picture.convert("RGBA"), max_side)
            return _encode(picture, "PNG")
        return _encode(_shrink(picture.convert("RGB"), max_side), "JPEG")
    except _DECODE_ERRORS as exc:
        raise ImageDamaged from exc


def reencode_output(data: bytes, *, max_pixels: int) -> NormalizedImage:
    """A provider's output checked like an upload and re-encoded as a metadata-free JPEG.

    The size is kept; transparency, if any, is flattened onto white.
    """
    image = _open(data, max_pixels=max_pixels)
    try:
        picture = _decode(image, max_side=None)
        if _has_alpha(picture):
            picture = _flatten(picture)
        return _encode(picture.convert("RGB"), "JPEG")
    except _DECODE_ERRORS as exc:
        raise ImageDamaged from exc


def thumbnail_webp(
    data: bytes, *, max_side: int = 512, max_pixels: int = DEFAULT_MAX_PIXELS
) -> bytes:
    """A WebP thumbnail whose long side is at most `max_side`."""
    image = _open(data, max_pixels=max_pixels)
    try:
        picture = _decode(image, max_side=max_side)
        picture = picture.convert("RGBA" if _has_alpha(picture) else "RGB")
        picture = _shrink(picture, max_side)
        picture.info = {}
        buffer = io.BytesIO()
        picture.save(buffer, format="WEBP", quality=THUMB_QUALITY, method=4)
    except _DECODE_ERRORS as exc:
        raise ImageDamaged from exc
    return buffer.getvalue()


def dimensions(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """(width, height) read from the header alone, as stored (normalized images are upright)."""
    width, height = _open(data, max_pixels=max_pixels).size
    return width, height


def _open(data: bytes, *, max_pixels: int) -> Image.Image:
    """Identify the image from its header; refuse other formats and bombs before decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning arrives as an exception only where warnings are errors (the tests).
        raise ImageTooLarge(_too_large_message(max_pixels)) from exc
    except UnidentifiedImageError as exc:
        raise ImageUnsupported from exc
    except _DECODE_ERRORS as exc:
        raise ImageDamaged from exc
    if image.format not in ACCEPTED_FORMATS:
        raise ImageUnsupported
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageDamaged
    if width * height > max_pixels:
        raise ImageTooLarge(_too_large_message(max_pixels, width, height))
    return image


def _too_large_message(max_pixels: int, width: int = 0, height: int = 0) -> str:
    limit = f"at most {max_pixels / 1_000_000:g} megapixels are allowed"
    if width and height:
        return f"The image is {width}×{height} pixels; {limit}."
    return f"The image has too many pixels; {limit}."


def _decode(image: Image.Image, *, max_side: int | None) -> Image.Image:
    """The pixels, upright and in sRGB; big JPEGs are decoded at a reduced scale (draft)."""
    width, height = image.size
    if max_side is not None and image.format in {"JPEG", "MPO"} and max(width, height) > max_side:
        # The decoder scales by 1/2, 1/4 or 1/8 while staying at least this size: fast and sharp.
        scale = max_side / max(width, height)
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
    image.load()
    upright = ImageOps.exif_transpose(image)
    if upright.mode in _HIGH_BIT_DEPTH:
        # 16-bit grayscale would otherwise clip to white when made 8-bit.
        upright = upright.convert("I").point(lambda value: value / 256).convert("L")
    return _to_srgb(upright)


def _to_srgb(image: Image.Image) -> Image.Image:
    """Apply the embedded colour profile (Display P3, Adobe RGB, CMYK…), so none is needed."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in {"RGB", "RGBA", "CMYK"}:
        return image
    output_mode = "RGB" if image.mode == "CMYK" else image.mode
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: the pixels are still usable as they are
    return converted if converted is not None else image


def _has_alpha(image: Image.Image) -> bool:
    """Whether any pixel is actually transparent (an all-opaque alpha channel is not alpha)."""
    if not image.has_transparency_data:
        return False
    lowest, _ = image.convert("RGBA").getchannel("A").getextrema()
    assert isinstance(lowest, int)  # one band: a (min, max) pair of ints
    return lowest < 255


def _flatten(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _encode(image: Image.Image, image_format: str) -> NormalizedImage:
    """Encode from pixels alone: nothing of the source's metadata travels."""
    image.info = {}
    buffer = io.BytesIO()
    if image_format == "PNG":
        image.save(buffer, format="PNG", compress_level=6)
        content_type, extension = "image/png", "png"
    else:
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        content_type, extension = "image/jpeg", "jpg"
    width, height = image.size
    return NormalizedImage(
        data=buffer.getvalue(),
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
    )
