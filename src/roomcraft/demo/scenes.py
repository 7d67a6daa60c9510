"""What the demo makes: one render per scene, across the modes, room types and styles, and where
each one goes afterwards (favorites, the demo user's collection, the community gallery)."""

import uuid
from dataclasses import dataclass
from typing import Literal

from roomcraft.generations.schemas import GenerationSubmit, Mode

# Seeds each scene's idempotency key: a scene is submitted once, whatever the number of runs.
SCENES_NAMESPACE = uuid.UUID("0c5d4d3e-7b1f-4f0e-9a56-2f4c8e1d7a90")
Photo = Literal["empty_room", "armchair"]
USER_COLLECTION = "Living room ideas"


@dataclass(frozen=True)
class GalleryCollection:
    title: str
    description: str
    featured: bool = False


EDITORS_PICKS = GalleryCollection(
    "Editor's picks",
    "Looks we keep coming back to. Press \u201cTry this look\u201d to start from one.",
    featured=True,
)
BEFORE_AND_AFTER = GalleryCollection(
    "One room, four ways",
    "The same empty room redesigned, restyled, staged and furnished with a new armchair.",
)
IMAGINED = GalleryCollection(
    "Imagined from a sentence", "Rooms described in a few words, no photo needed."
)
GALLERY = (EDITORS_PICKS, BEFORE_AND_AFTER, IMAGINED)


@dataclass(frozen=True)
class Scene:
    key: str
    title: str
    mode: Mode
    room_type: str
    style: str
    gallery: GalleryCollection
    prompt: str | None = None
    aspect_ratio: str = "4:3"
    variants: int = 1
    inputs: tuple[Photo, ...] = ()
    favorite: bool = False
    in_collection: bool = False

    @property
    def idempotency_key(self) -> uuid.UUID:
        return uuid.uuid5(SCENES_NAMESPACE, self.key)

    def submission(self, uploads: dict[Photo, uuid.UUID]) -> GenerationSubmit:
        """The scene as the generator's form submits it, with its photos uploaded."""
        inputs = [uploads[photo] for photo in self.inputs]
        return GenerationSubmit(
            mode=self.mode,
            room_type=self.room_type,
            style=self.style,
            prompt=self.prompt,
            input1=inputs[0] if inputs else None,
            input2=inputs[1] if len(inputs) > 1 else None,
            aspect_ratio=self.aspect_ratio,
            quality="medium",
            variants=self.variants,
            idempotency_key=self.idempotency_key,
        )


SCENES = (
    Scene(
        "scandinavian-living-room",
        "Sunlit Scandinavian living room",
        "imagine",
        "living_room",
        "scandinavian",
        EDITORS_PICKS,
        prompt="A sunlit living room with a linen sofa, a wool rug and pale oak floors",
        aspect_ratio="3:2",
        variants=2,
        favorite=True,
        in_collection=True,
    ),
    Scene(
        "industrial-redesign",
        "Industrial loft makeover",
        "redesign",
        "living_room",
        "industrial",
        BEFORE_AND_AFTER,
        variants=2,
        inputs=("empty_room",),
        in_collection=True,
    ),
    Scene(
        "japandi-bedroom",
        "Quiet Japandi bedroom",
        "imagine",
        "bedroom",
        "japandi",
        IMAGINED,
        prompt="A calm bedroom with a low oak bed, paper lanterns and soft linen",
        favorite=True,
    ),
    Scene(
        "coastal-redesign",
        "Coastal and airy",
        "redesign",
        "living_room",
        "coastal",
        BEFORE_AND_AFTER,
        prompt="Keep the window, make the walls brighter",
        inputs=("empty_room",),
    ),
    Scene(
        "mid-century-staging",
        "Staged in mid-century modern",
        "staging",
        "living_room",
        "mid_century_modern",
        EDITORS_PICKS,
        inputs=("empty_room",),
        favorite=True,
        in_collection=True,
    ),
    Scene(
        "bohemian-armchair",
        "A teal armchair by the window",
        "compose",
        "living_room",
        "bohemian",
        BEFORE_AND_AFTER,
        prompt="Place the armchair near the window",
        inputs=("empty_room", "armchair"),
        in_collection=True,
    ),
    Scene(
        "minimalist-office",
        "Minimalist home office",
        "imagine",
        "home_office",
        "minimalist",
        IMAGINED,
        prompt="A quiet home office with a long desk under the window",
        aspect_ratio="16:9",
    ),
    Scene(
        "mediterranean-dining",
        "Mediterranean dining room",
        "imagine",
        "dining_room",
        "mediterranean",
        EDITORS_PICKS,
        prompt="A dining room with a terracotta floor and a long wooden table",
        aspect_ratio="3:2",
    ),
)
