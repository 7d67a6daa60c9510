from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from roomcraft.generations.schemas import Mode, PresetKey, Prompt
from roomcraft.kit.envelope import CamelModel

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
ImageUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ApplySettings(CamelModel):
    """What "Try this look" puts into the generator; the limits are `GenerationSubmit`'s."""

    mode: Mode
    room_type: PresetKey | None = None
    style: PresetKey | None = None
    prompt: Prompt | None = None
    aspect_ratio: str | None = None
    quality: Literal["low", "medium", "high"] | None = None
    variants: int | None = Field(default=None, ge=1, le=4)


class CommunityItemRead(CamelModel):
    id: UUID
    title: str | None
    image_url: str | None
    thumb_url: str | None
    apply_settings: ApplySettings
    try_url: str


class CommunityCollectionRead(CamelModel):
    id: UUID
    title: str
    description: str | None
    is_featured: bool
    order_index: int
    items: list[CommunityItemRead]


class CommunityRead(CamelModel):
    collections: list[CommunityCollectionRead]


class CommunityCollectionCreate(CamelModel):
    title: Title
    description: Description | None = None
    is_featured: bool = False
    order_index: int = 0


class CommunityCollectionUpdate(CamelModel):
    title: Title | None = None
    description: Description | None = None
    is_featured: bool | None = None
    order_index: int | None = None


class CommunityCollectionReorder(CamelModel):
    ids: list[UUID] = Field(min_length=1, max_length=500)


class CommunityItemCreate(CamelModel):
    collection_id: UUID
    render_id: UUID | None = None
    external_image_url: ImageUrl | None = None
    title: Title | None = None
    apply_settings: ApplySettings
    order_index: int = 0

    @model_validator(mode="after")
    def one_image_source(self) -> Self:
        if (self.render_id is None) == (self.external_image_url is None):
            raise ValueError("Give either renderId or externalImageUrl, not both or neither.")
        return self


class CommunityItemUpdate(CamelModel):
    title: Title | None = None
    apply_settings: ApplySettings | None = None
    order_index: int | None = None
