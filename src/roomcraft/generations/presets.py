"""Room types, styles and generation defaults, and the provider prompt built from them.

The built-in presets apply unless `ROOMCRAFT_PRESETS_FILE` names a YAML file; each top-level key
of that file (`room_types`, `styles`, `aspect_ratios`, `qualities`, `default_aspect_ratio`,
`default_quality`, `default_variants`) replaces the built-in value of the same name.
"""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


@dataclass(frozen=True)
class RoomType:
    key: str
    name: str


@dataclass(frozen=True)
class Style:
    """A design style. `palette` holds wall, floor, accent, textile and wood/metal colours (the
    fifth is optional); `warmth` runs from cool (-1) to warm (1); `contrast` and `saturation`
    are factors around 1."""

    key: str
    name: str
    description: str
    palette: tuple[str, ...]
    warmth: float
    contrast: float
    saturation: float


@dataclass(frozen=True)
class Presets:
    room_types: tuple[RoomType, ...]
    styles: tuple[Style, ...]
    aspect_ratios: tuple[str, ...]
    qualities: tuple[str, ...]
    default_aspect_ratio: str
    default_quality: str
    default_variants: int

    def room_type(self, key: str) -> RoomType | None:
        """The room type of this key, if there is one."""
        return next((room for room in self.room_types if room.key == key), None)

    def style(self, key: str) -> Style | None:
        """The style of this key, if there is one."""
        return next((style for style in self.styles if style.key == key), None)


class InvalidPresets(ValueError):
    """The presets file cannot be read or does not have the expected shape."""


MODES = ("redesign", "staging", "compose", "imagine")

DEFAULT_ROOM_TYPES = (
    RoomType("living_room", "Living room"),
    RoomType("bedroom", "Bedroom"),
    RoomType("kitchen", "Kitchen"),
    RoomType("dining_room", "Dining room"),
    RoomType("bathroom", "Bathroom"),
    RoomType("home_office", "Home office"),
    RoomType("kids_room", "Kids room"),
    RoomType("nursery", "Nursery"),
    RoomType("entryway", "Entryway"),
    RoomType("laundry_room", "Laundry room"),
    RoomType("walk_in_closet", "Walk-in closet"),
    RoomType("outdoor_patio", "Outdoor patio"),
    RoomType("guest_room", "Guest room"),
    RoomType("studio_apartment", "Studio apartment"),
    RoomType("attic", "Attic"),
    RoomType("basement", "Basement"),
)


def _style(
    key: str, name: str, description: str, palette: str, tone: tuple[float, float, float]
) -> Style:
    """A built-in style; `palette` is five hex colours separated by spaces, `tone` is
    (warmth, contrast, saturation)."""
    warmth, contrast, saturation = tone
    return Style(key, name, description, tuple(palette.split()), warmth, contrast, saturation)


# Palettes list wall, floor, accent, textile and wood/metal colours.
DEFAULT_STYLES = (
    _style(
        "scandinavian",
        "Scandinavian",
        "Bright white walls, pale oak, wool and linen: calm, light and practical.",
        "#F2EFEA #D8C3A0 #8FA3A8 #E4DED3 #C4A070",
        (0.1, 0.95, 0.85),
    ),
    _style(
        "japandi",
        "Japandi",
        "Japanese restraint meets Scandinavian comfort: low furniture, natural wood, earthy tones.",
        "#E6DED1 #B5987A #5E6B5A #D1C5B3 #6B4F3A",
        (0.2, 0.95, 0.8),
    ),
    _style(
        "mid_century_modern",
        "Mid-century modern",
        "Clean 1950s lines, tapered legs, warm teak and mustard and teal accents.",
        "#EDE3D3 #A0673D #D9A13B #2F6F73 #7A4A2A",
        (0.35, 1.05, 1.1),
    ),
    _style(
        "industrial",
        "Industrial",
        "Exposed brick, raw concrete and black steel with worn leather: a loft look.",
        "#8C8883 #55514D #B5562F #6B4A3A #2B2B2B",
        (-0.1, 1.2, 0.8),
    ),
    _style(
        "bohemian",
        "Bohemian",
        "Layered patterned rugs, rattan, plants and rich jewel colours: relaxed and collected.",
        "#E8D6BC #B07A4F #B5473A #D98E3F #8A5A33",
        (0.4, 1.05, 1.2),
    ),
    _style(
        "coastal",
        "Coastal",
        "Airy whites, sandy naturals and sea blues: a breezy home by the sea.",
        "#F1F5F6 #D8C7A8 #3E7CA6 #BFD6E0 #C9B28C",
        (-0.25, 0.95, 1.0),
    ),
    _style(
        "farmhouse",
        "Farmhouse",
        "Shiplap walls, reclaimed wood, vintage metal and cosy neutrals: homely country charm.",
        "#EFE9DE #9C7A56 #5C6B4E #DAD0BE #3D3A36",
        (0.25, 1.0, 0.9),
    ),
    _style(
        "minimalist",
        "Minimalist",
        "Only what is needed: clean surfaces, hidden storage and a quiet neutral palette.",
        "#F5F5F3 #D3CFC8 #9A9A96 #E6E4DF #3A3A3A",
        (0.0, 0.9, 0.6),
    ),
    _style(
        "art_deco",
        "Art Deco",
        "1920s glamour: geometric patterns, velvet, lacquer and polished brass.",
        "#1F3B3A #2A2A2A #C9A24B #6B1E3A #B08D57",
        (0.1, 1.2, 1.15),
    ),
    _style(
        "mediterranean",
        "Mediterranean",
        "Sun-washed plaster, terracotta floors, wrought iron and deep blue accents.",
        "#F1E6D4 #B8623B #2C5E8C #E6D3B0 #3A2E26",
        (0.4, 1.05, 1.1),
    ),
    _style(
        "wabi_sabi",
        "Wabi-sabi",
        "Beauty in imperfection: limewashed walls, raw clay, linen and weathered wood.",
        "#D9D0C2 #A89580 #7D6E5C #CDC2B0 #5E4E3E",
        (0.2, 0.85, 0.6),
    ),
    _style(
        "maximalist",
        "Maximalist",
        "More is more: saturated colour, bold patterns, gallery walls and layered treasures.",
        "#7A2E4A #3B2A4A #E0A02A #1F6B5C #B5472E",
        (0.2, 1.2, 1.35),
    ),
    _style(
        "traditional",
        "Traditional",
        "Classic comfort: rich woods, symmetry, rolled-arm sofas and refined fabrics.",
        "#E8DDC8 #6E4A2E #7A2E2E #C9B38A #4A2F1E",
        (0.35, 1.05, 1.0),
    ),
    _style(
        "contemporary",
        "Contemporary",
        "Current, clean and comfortable: soft neutrals, smooth surfaces and sculptural lighting.",
        "#EAE8E4 #B3ADA5 #4A5A6A #D3CEC6 #2E2E2E",
        (0.0, 1.05, 0.9),
    ),
    _style(
        "rustic",
        "Rustic",
        "Rough-hewn timber, stone and warm wool: a cosy cabin in the woods.",
        "#D6C4A8 #7A5233 #9C3F25 #B59A76 #4A3222",
        (0.45, 1.1, 0.95),
    ),
    _style(
        "french_country",
        "French country",
        "Provençal warmth: soft creams, toile fabrics, painted wood and touches of lavender.",
        "#F0E7D6 #C9A77C #8E8DB8 #E1D3BB #A88B6A",
        (0.25, 0.95, 0.9),
    ),
    _style(
        "hollywood_regency",
        "Hollywood regency",
        "Old-Hollywood glamour: lacquer, mirrored furniture, gold and bold jewel tones.",
        "#EFE6EA #1E1E24 #C9A24B #1F5E5B #D4AF37",
        (0.05, 1.2, 1.15),
    ),
    _style(
        "tropical",
        "Tropical",
        "Lush palms, rattan and bright botanical greens: the feel of a holiday villa.",
        "#F0ECDE #C8A477 #2F7A4A #8FBF7A #9A6B3E",
        (0.25, 1.05, 1.2),
    ),
    _style(
        "zen",
        "Zen",
        "Serene and uncluttered: tatami tones, paper screens, stone and soft indirect light.",
        "#EBE5D8 #C2B08F #6E7F5E #D8CFBC #4E4236",
        (0.1, 0.85, 0.7),
    ),
    _style(
        "biophilic",
        "Biophilic",
        "Nature brought indoors: abundant plants, living greens, natural wood and daylight.",
        "#ECEFE3 #A88A64 #3F7A45 #C6D4AC #7A5A3A",
        (0.1, 1.0, 1.1),
    ),
    _style(
        "neoclassical",
        "Neoclassical",
        "Greek and Roman order: columns, mouldings, marble and pale, elegant hues.",
        "#EFECE6 #D6CFC1 #7E9AA6 #E6DDCC #B59B6B",
        (0.0, 1.0, 0.8),
    ),
    _style(
        "cyberpunk",
        "Cyberpunk",
        "A dark, futuristic city interior lit by neon magenta and cyan.",
        "#1A1630 #14121F #FF2E9A #00D1E0 #3A3A4A",
        (-0.3, 1.3, 1.4),
    ),
    _style(
        "vintage",
        "Vintage",
        "Flea-market finds and faded florals: the warm, lived-in charm of past decades.",
        "#E8D9BE #A0714A #B0605A #C9B48A #6A4A32",
        (0.4, 0.95, 0.85),
    ),
    _style(
        "eclectic",
        "Eclectic",
        "A confident mix of eras, patterns and colours held together by a shared palette.",
        "#E7DDCB #8A5A3A #2E6F8E #D08A3A #5A3A2A",
        (0.2, 1.05, 1.15),
    ),
    _style(
        "transitional",
        "Transitional",
        "Traditional warmth with contemporary lines, in calm greige and soft texture.",
        "#E4DFD7 #9E8B76 #6F7F86 #CFC6B8 #4B4540",
        (0.1, 1.0, 0.85),
    ),
    _style(
        "luxury",
        "Luxury",
        "Marble, velvet, brass and deep tones: the refinement of a five-star hotel.",
        "#E9E4DC #2F2A28 #8C6A2F #1E3A4C #B8934A",
        (0.15, 1.15, 1.05),
    ),
    _style(
        "southwestern",
        "Southwestern",
        "Desert hues, terracotta, woven textiles and cactus greens of the American Southwest.",
        "#EAD7BD #B5653F #2F8A7E #D9925A #7A4B2E",
        (0.45, 1.05, 1.1),
    ),
    _style(
        "shabby_chic",
        "Shabby chic",
        "Soft pastels, white-painted distressed furniture and romantic florals.",
        "#F4EFEA #DCCFC2 #D8A3A8 #EFE2E0 #BFB2A3",
        (0.15, 0.9, 0.8),
    ),
)

DEFAULT_PRESETS = Presets(
    room_types=DEFAULT_ROOM_TYPES,
    styles=DEFAULT_STYLES,
    aspect_ratios=("1:1", "3:2", "2:3", "4:3", "3:4", "16:9", "9:16"),
    qualities=("low", "medium", "high"),
    default_aspect_ratio="1:1",
    default_quality="medium",
    default_variants=2,
)

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Name = Annotated[str, Field(min_length=1, max_length=60)]
HexColour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
AspectRatio = Annotated[str, Field(pattern=r"^[1-9][0-9]?:[1-9][0-9]?$")]
Quality = Literal["low", "medium", "high"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _RoomTypeEntry(_Entry):
    key: Key
    name: Name


class _StyleEntry(_Entry):
    key: Key
    name: Name
    description: Annotated[str, Field(min_length=1, max_length=300)]
    palette: Annotated[tuple[HexColour, ...], Field(min_length=4, max_length=5)]
    warmth: Annotated[float, Field(ge=-1, le=1)]
    contrast: Annotated[float, Field(ge=0.5, le=1.5)]
    saturation: Annotated[float, Field(ge=0, le=2)]


class _PresetsFile(_Entry):
    room_types: Annotated[tuple[_RoomTypeEntry, ...], Field(min_length=1)]
    styles: Annotated[tuple[_StyleEntry, ...], Field(min_length=1)]
    aspect_ratios: Annotated[tuple[AspectRatio, ...], Field(min_length=1)]
    qualities: Annotated[tuple[Quality, ...], Field(min_length=1)]
    default_aspect_ratio: AspectRatio
    default_quality: Quality
    default_variants: Annotated[int, Field(ge=1, le=4)]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for section, entries in (("room_types", self.room_types), ("styles", self.styles)):
            keys = [entry.key for entry in entries]
            if duplicates := sorted({key for key in keys if keys.count(key) > 1}):
                raise ValueError(f"{section} repeats the keys {', '.join(duplicates)}")
        if self.default_aspect_ratio not in self.aspect_ratios:
            raise ValueError("default_aspect_ratio must be one of aspect_ratios")
        if self.default_quality not in self.qualities:
            raise ValueError("default_quality must be one of qualities")
        return self


def presets_document(presets: Presets) -> dict[str, Any]:
    """The presets as plain data, in the shape of a presets file."""
    document = asdict(presets)
    for style in document["styles"]:
        style["palette"] = list(style["palette"])
    return {
        name: list(value) if isinstance(value, tuple) else value for name, value in document.items()
    }


def presets_to_yaml(presets: Presets) -> str:
    """The presets as a YAML presets file, e.g. the built-in ones as a starting point."""
    return yaml.safe_dump(presets_document(presets), sort_keys=False, allow_unicode=True)


def load_presets(path: Path | None) -> Presets:
    """The built-in presets, or those of the YAML file at `path` (its keys replace the built-in
    ones). Raises `InvalidPresets` with the reason when the file is unreadable or invalid."""
    if path is None:
        return DEFAULT_PRESETS
    overrides = _read_yaml(path)
    try:
        parsed = _PresetsFile.model_validate(presets_document(DEFAULT_PRESETS) | overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'file'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise InvalidPresets(f"The presets file {path} is invalid: {problems}") from None
    return _presets_from_file(parsed)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidPresets(f"The presets file {path} cannot be read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise InvalidPresets(f"The presets file {path} is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise InvalidPresets(
            f"The presets file {path} must be a mapping with keys such as room_types and styles."
        )
    unknown = sorted(set(document) - set(presets_document(DEFAULT_PRESETS)))
    if unknown:
        raise InvalidPresets(f"The presets file {path} has unknown keys: {', '.join(unknown)}")
    return document


def _presets_from_file(parsed: _PresetsFile) -> Presets:
    return Presets(
        room_types=tuple(RoomType(**entry.model_dump()) for entry in parsed.room_types),
        styles=tuple(Style(**entry.model_dump()) for entry in parsed.styles),
        aspect_ratios=parsed.aspect_ratios,
        qualities=parsed.qualities,
        default_aspect_ratio=parsed.default_aspect_ratio,
        default_quality=parsed.default_quality,
        default_variants=parsed.default_variants,
    )


_INSTRUCTIONS = {
    "redesign": (
        "Redesign this {room}{in_style}. Keep the room's layout, walls, windows, doors, ceiling "
        "and camera angle exactly as in the photo; change the furniture, materials, colours, "
        "lighting and decor."
    ),
    "staging": (
        "Virtually stage this empty {room}{in_style}. Furnish and decorate it as a {room}, "
        "keeping the architecture, walls, floor, windows and perspective of the photo unchanged."
    ),
    "compose": (
        "Place the piece of furniture or the look shown in the second image into the {room} of "
        "the first image{in_style}. Keep the first image's room, layout and perspective; match "
        "scale, lighting and shadows so it belongs naturally in the room."
    ),
    "imagine": "A photograph of a {room} interior{in_style}.",
}


def build_prompt(
    presets: Presets,
    *,
    mode: str,
    room_type: str | None,
    style: str | None,
    user_prompt: str | None,
) -> str:
    """The English prompt a provider receives for a job: what to do in this mode, the room type,
    the style and its description, then the user's own words."""
    if mode not in _INSTRUCTIONS:
        raise ValueError(f"Unknown generation mode {mode!r}; expected one of {', '.join(MODES)}")
    room = presets.room_type(room_type) if room_type else None
    chosen = presets.style(style) if style else None
    # A job may outlive its preset (the file changed since it was submitted): use the key then.
    room_words = room.name.lower() if room else _key_words(room_type) or "room"
    style_name = chosen.name if chosen else _key_words(style)
    parts = [
        _INSTRUCTIONS[mode].format(
            room=room_words, in_style=f" in the {style_name} style" if style_name else ""
        )
    ]
    if chosen:
        parts.append(f"{chosen.name}: {chosen.description}")
    parts.append("Photorealistic, natural light, high detail, professional interior photography.")
    if words := " ".join((user_prompt or "").split()):
        parts.append(f"{'Description' if mode == 'imagine' else 'Additional wishes'}: {words}")
    return " ".join(parts)


def _key_words(key: str | None) -> str:
    return (key or "").replace("_", " ")
