"""Google sign-in (OpenID Connect through Authlib), mounted when GOOGLE_CLIENT_ID/SECRET are set."""

from urllib.parse import urlencode

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError

from roomcraft.api.deps import ClientDep, PoolDep, SettingsDep
from roomcraft.auth import service as auth_service
from roomcraft.auth.deps import set_session_cookie
from roomcraft.auth.errors import EmailNotVerified
from roomcraft.config import Settings
from roomcraft.db.session import as_service
from roomcraft.kit.errors import AppError
from roomcraft.web.deps import safe_next

NEXT_KEY = "google_next"


def build_router(settings: Settings) -> APIRouter:
    """The two routes of the OpenID Connect flow, bound to this server's Google client."""
    assert settings.google_client_id
    assert settings.google_client_secret
    oauth = OAuth()
    google = oauth.register(
        "google",
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret.get_secret_value(),
        server_metadata_url=settings.google_metadata_url,
        client_kwargs={"scope": "openid email profile"},
    )
    router = APIRouter(include_in_schema=False)

    @router.get("/auth/google")
    async def google_start(request: Request, next: str = "/dashboard") -> Response:
        request.session[NEXT_KEY] = safe_next(next)
        redirect_uri = f"{settings.public_base_url.rstrip('/')}/auth/google/callback"
        response: Response = await google.authorize_redirect(request, redirect_uri)
        return response

    @router.get("/auth/google/callback")
    async def google_callback(
        request: Request, settings: SettingsDep, pool: PoolDep, client: ClientDep
    ) -> Response:
        try:
            metadata = await google.load_server_metadata()
            # Authlib checks the audience only through `azp`: require ours in `aud` too.
            token = await google.authorize_access_token(
                request,
                claims_options={
                    "iss": {"essential": True, "values": [metadata["issuer"]]},
                    "aud": {"essential": True, "values": [settings.google_client_id]},
                },
            )
            userinfo = token.get("userinfo") or {}
            if not userinfo.get("email") or not userinfo.get("email_verified"):
                raise EmailNotVerified
            async with as_service(pool) as conn:
                session = await auth_service.sign_in_verified_email(
                    conn, settings, email=str(userinfo["email"]).lower(), client=client
                )
        except (OAuthError, JoseError, AppError) as error:
            message = error.message if isinstance(error, AppError) else "Google sign-in failed."
            return RedirectResponse(f"/signin?{urlencode({'error': message})}", status_code=303)
        response = RedirectResponse(request.session.pop(NEXT_KEY, "/dashboard"), status_code=303)
        set_session_cookie(response, settings, session.token)
        return response

    return router
