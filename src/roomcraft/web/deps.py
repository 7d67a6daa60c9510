"""Dependencies of the pages."""

from typing import Annotated

from fastapi import Depends, Request

from roomcraft.web.templating import Templates


def get_templates(request: Request) -> Templates:
    templates: Templates = request.app.state.templates
    return templates


TemplatesDep = Annotated[Templates, Depends(get_templates)]


def safe_next(candidate: str | None, default: str = "/dashboard") -> str:
    """A redirect target from user input: only a path of this site, never another origin."""
    if candidate and candidate.startswith("/") and not candidate.startswith(("//", "/\\")):
        return candidate
    return default
