"""Plain HTML forms read into the API's schemas, with a readable message for each bad field.

A page that rejects a form shows it again as it was typed, with the messages beside the fields
(`FormState`), so forms work without JavaScript.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from roomcraft.kit.errors import AppError, ValidationFailed

M = TypeVar("M", bound=BaseModel)

CORRECT_THE_FIELDS = "Please correct the fields marked below."


@dataclass(frozen=True)
class FormState:
    """A rejected form: which one (`target`), what was typed, and the messages to show."""

    target: str
    values: Mapping[str, str] = field(default_factory=dict)
    message: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)


def text(form: FormData, name: str) -> str:
    """A text field, trimmed; missing (or a file) is empty."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse(model: type[M], values: dict[str, Any], messages: Mapping[str, str]) -> M:
    """The model, or `ValidationFailed` whose details map each bad field to its message in
    `messages` (the first field named in the error's location that has one)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            name = next((str(part) for part in error["loc"] if str(part) in messages), "form")
            fields.setdefault(
                name, messages.get(name) or str(error["msg"]).removeprefix("Value error, ")
            )
        raise ValidationFailed(CORRECT_THE_FIELDS, details=fields) from exc


def field_error(name: str, message: str) -> ValidationFailed:
    """A rejection of one field."""
    return ValidationFailed(CORRECT_THE_FIELDS, details={name: message})


def rejected(target: str, form: FormData, error: AppError) -> FormState:
    """The form `target` as typed, with the error's message and its per-field messages."""
    fields = error.details if isinstance(error.details, dict) else {}
    return FormState(
        target=target,
        values={key: value for key, value in form.items() if isinstance(value, str)},
        message=error.message,
        fields=fields,
    )
