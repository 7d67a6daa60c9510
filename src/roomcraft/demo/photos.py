"""The demo's input photos, drawn here so that no binary image has to ship with the app: an empty
room seen from its doorway (what redesign, staging and compose start from) and an armchair on a
plain background, as a shop's product shot shows it (what compose sets into the room)."""

import io

from PIL import Image, ImageDraw, ImageFilter

ROOM_SIZE = (1600, 1200)
_WALL = (234, 228, 218)
_FLOOR = (178, 136, 96)
# The back wall (left, top, right, bottom); walls, floor and ceiling run from its corners.
_BACK = (420, 260, 1180, 760)
_VANISHING = (800, 510)


def empty_room() -> bytes:
    """A JPEG of an empty room: plain walls, an oak floor in perspective and one window."""
    width, height = ROOM_SIZE
    image = Image.new("RGB", ROOM_SIZE, (216, 209, 198))
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 2, 0, width, height), fill=(206, 199, 188))
    left, top, right, bottom = _BACK
    draw.polygon(
        [_edge(left, top, 0), _edge(right, top, 0), (right, top), (left, top)], (244, 241, 235)
    )
    draw.rectangle(_BACK, fill=_WALL)
    floor = [
        (left, bottom),
        (right, bottom),
        _edge(right, bottom, height),
        _edge(left, bottom, height),
    ]
    mask = Image.new("L", ROOM_SIZE, 0)
    ImageDraw.Draw(mask).polygon(floor, fill=255)
    image.paste(_floorboards(), mask=mask)
    draw.line((left, bottom, right, bottom), fill=(250, 248, 244), width=10)
    _window(draw, (560, 330, 900, 620))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    light = Image.radial_gradient("L").resize(ROOM_SIZE).point(lambda v: 255 - v // 3)
    shaded = Image.composite(image, Image.new("RGB", ROOM_SIZE, (60, 52, 44)), light)
    grain = Image.effect_noise(ROOM_SIZE, 18).convert("RGB")
    return _jpeg(Image.blend(shaded, grain, 0.04))


def _edge(x: float, y: float, to_y: float) -> tuple[float, float]:
    """Where the line from the vanishing point through (x, y) reaches the height `to_y`."""
    vx, vy = _VANISHING
    return vx + (x - vx) * (to_y - vy) / (y - vy), to_y


def _floorboards() -> Image.Image:
    """Oak boards running to the vanishing point, with their ends staggered across them."""
    image = Image.new("RGB", ROOM_SIZE, _FLOOR)
    draw = ImageDraw.Draw(image)
    bottom, height, seam = _BACK[3], ROOM_SIZE[1], (150, 112, 78)
    for board in range(-30, 31):
        x = _VANISHING[0] + board * 42
        draw.line((x, bottom, _edge(x, bottom, height)[0], height), fill=seam, width=3)
        for row, y in enumerate((790, 840, 920, 1040, 1190)):
            if (board + row) % 3 == 0:
                start, end = _edge(x, bottom, y)[0], _edge(x + 42, bottom, y)[0]
                draw.line((start, y, end, y), fill=seam, width=2)
    return image


def _window(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    """A window of blue sky, paler toward the horizon, with its frame, bars and sill."""
    left, top, right, bottom = box
    for y in range(top, bottom):
        pale = (y - top) / (bottom - top)
        sky = (round(150 + 76 * pale), round(196 + 42 * pale), round(235 + 9 * pale))
        draw.line((left, y, right, y), fill=sky)
    frame = (248, 246, 242)
    draw.rectangle(box, outline=frame, width=14)
    draw.line(((left + right) / 2, top, (left + right) / 2, bottom), fill=frame, width=10)
    draw.line((left, (top + bottom) / 2, right, (top + bottom) / 2), fill=frame, width=10)
    draw.rectangle((left - 24, bottom, right + 24, bottom + 16), fill=(252, 250, 247))


def armchair() -> bytes:
    """A PNG of a teal armchair with oak legs on a white background."""
    image = Image.new("RGB", (800, 800), (252, 252, 252))
    draw = ImageDraw.Draw(image)
    oak, fabric, shade = (120, 84, 52), (47, 111, 115), (38, 92, 96)
    draw.polygon([(205, 600), (231, 600), (212, 700), (198, 700)], fill=oak)
    draw.polygon([(569, 600), (595, 600), (602, 700), (588, 700)], fill=oak)
    draw.rounded_rectangle((210, 190, 590, 500), radius=70, fill=shade)
    draw.rounded_rectangle((170, 460, 630, 610), radius=40, fill=fabric)
    draw.rounded_rectangle((240, 430, 560, 520), radius=36, fill=(64, 132, 136))
    draw.rounded_rectangle((130, 370, 250, 610), radius=50, fill=fabric)
    draw.rounded_rectangle((550, 370, 670, 610), radius=50, fill=fabric)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()
