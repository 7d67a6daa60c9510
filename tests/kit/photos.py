"""Test images built in memory, each the kind of file a real user or provider sends."""

import io
import struct
import zlib

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

ORIENTATION = 0x0112
GPS_IFD = 0x8825


def _scene(size: tuple[int, int]) -> Image.Image:
    """An opaque picture whose top-left quarter is red, so rotations can be seen."""
    image = Image.new("RGB", size, (40, 90, 200))
    image.paste((220, 30, 30), (0, 0, size[0] // 2, size[1] // 2))
    return image


def phone_jpeg(size: tuple[int, int] = (400, 300), *, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: stored sideways with an EXIF orientation, and GPS tags."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (52.0, 22.0, 31.5)
    gps[3] = "E"
    gps[4] = (4.0, 53.0, 42.0)
    buffer = io.BytesIO()
    _scene(size).save(buffer, format="JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (400, 300)) -> bytes:
    buffer = io.BytesIO()
    _scene(size).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def heic(size: tuple[int, int] = (320, 240)) -> bytes:
    buffer = io.BytesIO()
    _scene(size).save(buffer, format="HEIF", quality=80)
    return buffer.getvalue()


def png(size: tuple[int, int] = (300, 200), *, alpha: bool = False) -> bytes:
    image = _scene(size).convert("RGBA")
    if alpha:
        image.putalpha(Image.linear_gradient("L").resize(size))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def webp(size: tuple[int, int] = (300, 200)) -> bytes:
    buffer = io.BytesIO()
    _scene(size).save(buffer, format="WEBP", quality=80)
    return buffer.getvalue()


def gif(size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    _scene(size).save(buffer, format="GIF")
    return buffer.getvalue()


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)


def truncated_jpeg() -> bytes:
    """A real photo cut off halfway, as an interrupted transfer leaves it."""
    buffer = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(buffer, format="JPEG")
    data = buffer.getvalue()
    return data[: len(data) // 2]


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG whose header declares a huge 1-bit image (a decompression bomb).

    Written chunk by chunk, so building it costs nothing: the IDAT holds a few compressed rows.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + width // 8) * 16, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )
