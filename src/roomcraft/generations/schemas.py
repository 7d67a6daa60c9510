from datetime import datetime
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from roomcraft.kit.envelope import CamelModel

Mode = Literal["redesign", "staging", "compose", "imagine"]
JobStatus = Literal["starting", "processing", "succeeded", "failed", "canceled"]
Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=800)]
PresetKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class GenerationSubmit(CamelModel):
    mode: Mode
    room_type: PresetKey | None = None
    style: PresetKey | None = None
    prompt: Prompt | None = None
    input1: UUID | None = None
    input2: UUID | None = None
    aspect_ratio: str | None = None
    quality: Literal["low", "medium", "high"] | None = None
    variants: int | None = Field(default=None, ge=1, le=4)
    idempotency_key: UUID | None = None

    @model_validator(mode="after")
    def inputs_match_the_mode(self) -> Self:
        needs = {"redesign": 1, "staging": 1, "compose": 2, "imagine": 0}[self.mode]
        given = [image for image in (self.input1, self.input2) if image is not None]
        if needs >= 1 and self.input1 is None:
            raise ValueError(f"{self.mode.capitalize()} needs a photo of the room (input1).")
        if needs == 2 and self.input2 is None:
            raise ValueError("Compose needs a second image (input2): the piece or the look.")
        if len(given) > needs:
            raise ValueError(f"{self.mode.capitalize()} takes {needs} image(s), not {len(given)}.")
        if self.mode == "imagine" and not self.prompt:
            raise ValueError("Imagine needs a prompt describing the room.")
        return self


class GenerationCreated(CamelModel):
    id: UUID


class VariantRead(CamelModel):
    idx: int
    url: str
    thumb_url: str
    width: int
    height: int


class GenerationRead(CamelModel):
    id: UUID
    status: JobStatus
    mode: Mode
    room_type: str | None
    style: str | None
    prompt: str | None
    provider: str
    created_at: datetime
    completed_at: datetime | None
    url: str | None = None
    render_id: UUID | None = None
    variants: list[VariantRead] | None = None
    error: str | None = None
