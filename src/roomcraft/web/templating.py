"""Jinja2 pages with the context every page shares: who is signed in, the CSRF token, the theme."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from roomcraft.auth.secrets import csrf_token
from roomcraft.auth.service import Identity
from roomcraft.config import Settings

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


class Templates:
    def __init__(self, settings: Settings, *, asset_version: str) -> None:
        self._settings = settings
        self._jinja = Jinja2Templates(directory=TEMPLATES_DIR)
        self._jinja.env.globals.update(
            dev_mode=settings.is_development, asset_version=asset_version
        )

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
        nav: str | None = None,
    ) -> Response:
        identity: Identity | None = getattr(request.state, "identity", None)
        shared: dict[str, Any] = {
            "user": identity,
            "csrf_token": (
                csrf_token(self._settings.signing_key, identity.session_id)
                if identity and identity.session_id
                else None
            ),
            "nav": nav,
        }
        response = self._jinja.TemplateResponse(
            request, name, {**shared, **(context or {})}, status_code=status_code
        )
        if identity is not None:
            response.headers["Cache-Control"] = "private, no-store"
        return response
