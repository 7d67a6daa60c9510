"""The shape of a gallery file (`roomcraft admin import-community FILE.yaml`)."""

from typing import Self

from pydantic import Field, model_validator

from roomcraft.community.schemas import ApplySettings, Description, ImageUrl, Title
from roomcraft.kit.envelope import CamelModel


class GalleryItem(CamelModel):
    title: Title | None = None
    external_image_url: ImageUrl | None = None
    image_path: str | None = Field(default=None, min_length=1, max_length=1000)
    apply_settings: ApplySettings

    @model_validator(mode="after")
    def one_image_source(self) -> Self:
        if (self.external_image_url is None) == (self.image_path is None):
            raise ValueError("An item needs either externalImageUrl or imagePath.")
        return self


class GalleryCollection(CamelModel):
    title: Title
    description: Description | None = None
    featured: bool = False
    items: list[GalleryItem] = Field(default_factory=list)


class GalleryDocument(CamelModel):
    collections: list[GalleryCollection]
