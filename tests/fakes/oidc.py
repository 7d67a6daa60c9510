"""A loopback OpenID Connect provider: the part of Google that the "Continue with Google" flow uses.

A real HTTP server on 127.0.0.1 (a free port), in a background thread, serving the endpoints of
OpenID Connect Core and Discovery that an authorization-code client calls:

- `GET /.well-known/openid-configuration`: the provider metadata.
- `GET /authorize`: the authorization endpoint. The test, playing the browser, is sent here; the
  person signing in is whoever `sign_in_as` named, and the browser is redirected back to the
  client's `redirect_uri` with a single-use `code` and the client's `state` (or, when nobody was
  named, with `error=access_denied`, as when someone declines Google's consent screen).
- `POST /token`: exchanges the code (client authenticated by `client_secret_basic` or
  `client_secret_post`; `redirect_uri`, and PKCE when the authorization request used it, checked)
  for an access token and an RS256 ID token carrying the nonce of the authorization request.
- `GET /jwks`: the public half of the RSA signing key generated at start.
- `GET /userinfo`: the claims of the person, for a bearer access token.

Claims of the next ID token can be overridden, or its signature forged (`sign_in_as(...,
id_token_claims=..., forge_signature=True)`), to play a misbehaving provider or an attacker: a
wrong nonce, another audience, an expired token, a key the provider never published.
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

HOST = "127.0.0.1"
TOKEN_LIFETIME = 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _half_hash(value: str) -> str:
    """`at_hash` for RS256: the left half of the SHA-256 of the value, base64url-encoded."""
    digest = hashlib.sha256(value.encode()).digest()
    return _b64url(digest[: len(digest) // 2])


@dataclass(frozen=True)
class Identity:
    """A person with an account at the provider."""

    email: str
    email_verified: bool = True
    name: str | None = None
    sub: str = field(default_factory=lambda: str(secrets.randbelow(10**21)).zfill(21))

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "sub": self.sub,
            "email": self.email,
            "email_verified": self.email_verified,
        }
        if self.name is not None:
            claims["name"] = self.name
        return claims


@dataclass(frozen=True)
class AuthorizationRequest:
    """The query of an authorization URL, as a client built it."""

    client_id: str
    redirect_uri: str
    response_type: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None

    @classmethod
    def from_url(cls, url: str) -> Self:
        query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        return cls(
            client_id=query.get("client_id", ""),
            redirect_uri=query.get("redirect_uri", ""),
            response_type=query.get("response_type", ""),
            scope=query.get("scope", ""),
            state=query.get("state"),
            nonce=query.get("nonce"),
            code_challenge=query.get("code_challenge"),
            code_challenge_method=query.get("code_challenge_method"),
        )


@dataclass(frozen=True)
class _Login:
    identity: Identity
    id_token_claims: Mapping[str, Any]
    forge_signature: bool


@dataclass(frozen=True)
class _Grant:
    request: AuthorizationRequest
    login: _Login


@dataclass(frozen=True)
class TokenRequest:
    """What a client sent to the token endpoint (kept for assertions)."""

    auth_method: str
    form: Mapping[str, str]


class _OAuthFailure(Exception):
    def __init__(self, status: HTTPStatus, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class FakeOIDCProvider:
    """One provider with one registered client; start it with `with` or `start()`/`stop()`."""

    def __init__(self, *, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key_id = secrets.token_hex(8)
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._key = RSAKey.import_key(
            private_key, parameters={"kid": self.key_id, "use": "sig", "alg": "RS256"}
        )
        self._lock = threading.Lock()
        self._logins: list[_Login] = []
        self._grants: dict[str, _Grant] = {}
        self._access_tokens: dict[str, Identity] = {}
        self.authorization_requests: list[AuthorizationRequest] = []
        self.token_requests: list[TokenRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> Self:
        assert self._server is None, "already started"
        self._server = _Server((HOST, 0), _Handler, provider=self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-oidc",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Where it is

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return int(self._server.server_address[1])

    @property
    def issuer(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "claims_supported": [
                "aud",
                "email",
                "email_verified",
                "exp",
                "iat",
                "iss",
                "name",
                "nonce",
                "sub",
            ],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._key.as_dict(private=False)]}

    # What the test controls

    def sign_in_as(
        self,
        identity: Identity,
        *,
        id_token_claims: Mapping[str, Any] | None = None,
        forge_signature: bool = False,
    ) -> None:
        """Let `identity` be who signs in at the next authorization request.

        `id_token_claims` are set on (or, with a value of None, removed from) that ID token after
        the honest claims are made: `{"nonce": "forged"}` plays a replayed or tampered token.
        `forge_signature` signs it with another RSA key under the published key's `kid`.
        """
        with self._lock:
            self._logins.append(_Login(identity, dict(id_token_claims or {}), forge_signature))

    # The endpoints' logic (called from the server thread)

    def authorization_response(self, url: str) -> tuple[HTTPStatus, str]:
        """The redirect back to the client: (302, Location), or (400, why) when there is none."""
        request = AuthorizationRequest.from_url(url)
        with self._lock:
            self.authorization_requests.append(request)
        if request.client_id != self.client_id:
            return HTTPStatus.BAD_REQUEST, "unknown client_id"
        if not request.redirect_uri.startswith(("http://", "https://")):
            return HTTPStatus.BAD_REQUEST, "redirect_uri must be an absolute http(s) URL"
        if request.response_type != "code":
            return HTTPStatus.BAD_REQUEST, "only response_type=code is supported"
        if "openid" not in request.scope.split():
            return HTTPStatus.BAD_REQUEST, "scope must include openid"
        if request.code_challenge_method not in (None, "plain", "S256"):
            return HTTPStatus.BAD_REQUEST, "unsupported code_challenge_method"
        with self._lock:
            login = self._logins.pop(0) if self._logins else None
            code = secrets.token_urlsafe(24)
            if login is not None:
                self._grants[code] = _Grant(request, login)
        if login is None:
            params = {"error": "access_denied", "error_description": "The user said no."}
        else:
            params = {"code": code}
        if request.state is not None:
            params["state"] = request.state
        separator = "&" if urlsplit(request.redirect_uri).query else "?"
        return HTTPStatus.FOUND, f"{request.redirect_uri}{separator}{urlencode(params)}"

    def _authenticate_client(self, authorization: str | None, form: dict[str, str]) -> str:
        """The client authentication method used, after checking the credentials."""
        scheme, _, credentials = (authorization or "").partition(" ")
        in_body = "client_secret" in form
        if scheme.lower() == "basic":
            if in_body:
                raise _OAuthFailure(
                    HTTPStatus.BAD_REQUEST, "invalid_request", "more than one client auth method"
                )
            try:
                decoded = base64.b64decode(credentials, validate=True).decode()
            except ValueError as error:
                raise _OAuthFailure(
                    HTTPStatus.UNAUTHORIZED, "invalid_client", "malformed basic credentials"
                ) from error
            client_id, _, client_secret = decoded.partition(":")
            method = "client_secret_basic"
            client_id, client_secret = unquote(client_id), unquote(client_secret)
        elif in_body:
            client_id, client_secret = form.get("client_id", ""), form["client_secret"]
            method = "client_secret_post"
        else:
            raise _OAuthFailure(HTTPStatus.UNAUTHORIZED, "invalid_client", "no client auth")
        if not (
            hmac.compare_digest(client_id.encode(), self.client_id.encode())
            and hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        ):
            raise _OAuthFailure(HTTPStatus.UNAUTHORIZED, "invalid_client", "bad client credentials")
        return method

    def token_response(self, authorization: str | None, form: dict[str, str]) -> dict[str, Any]:
        method = self._authenticate_client(authorization, form)
        with self._lock:
            self.token_requests.append(TokenRequest(method, dict(form)))
        if form.get("grant_type") != "authorization_code":
            raise _OAuthFailure(
                HTTPStatus.BAD_REQUEST, "unsupported_grant_type", "only authorization_code"
            )
        with self._lock:  # a code is good once, whatever happens next
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None:
            raise _OAuthFailure(HTTPStatus.BAD_REQUEST, "invalid_grant", "unknown or used code")
        request = grant.request
        if request.client_id != self.client_id:
            raise _OAuthFailure(HTTPStatus.BAD_REQUEST, "invalid_grant", "code of another client")
        if form.get("redirect_uri") != request.redirect_uri:
            raise _OAuthFailure(HTTPStatus.BAD_REQUEST, "invalid_grant", "redirect_uri mismatch")
        if request.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            if request.code_challenge_method == "S256":
                verifier = _b64url(hashlib.sha256(verifier.encode()).digest())
            if not hmac.compare_digest(verifier.encode(), request.code_challenge.encode()):
                raise _OAuthFailure(HTTPStatus.BAD_REQUEST, "invalid_grant", "PKCE check failed")

        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._access_tokens[access_token] = grant.login.identity
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "at_hash": _half_hash(access_token),
            **grant.login.identity.claims(),
        }
        if request.nonce is not None:
            claims["nonce"] = request.nonce
        for name, value in grant.login.id_token_claims.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self._key
        if grant.login.forge_signature:
            key = RSAKey.generate_key(2048, parameters={"kid": self.key_id}, private=True)
        id_token = jwt.encode({"alg": "RS256", "kid": self.key_id, "typ": "JWT"}, claims, key)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": request.scope,
            "id_token": id_token,
        }

    def userinfo_response(self, authorization: str | None) -> dict[str, Any] | None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        with self._lock:
            identity = self._access_tokens.get(token)
        return identity.claims() if identity is not None else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        provider: FakeOIDCProvider,
    ) -> None:
        self.provider = provider
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests assert instead
        pass

    def _send_json(
        self, status: HTTPStatus, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_text(self, status: HTTPStatus, text: str) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        provider = self.server.provider
        path = urlsplit(self.path).path
        if path == "/.well-known/openid-configuration":
            self._send_json(HTTPStatus.OK, provider.metadata())
        elif path == "/jwks":
            self._send_json(HTTPStatus.OK, provider.jwks())
        elif path == "/authorize":
            status, location = provider.authorization_response(self.path)
            if status is HTTPStatus.FOUND:
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._send_text(status, location)
        elif path == "/userinfo":
            claims = provider.userinfo_response(self.headers.get("Authorization"))
            if claims is None:
                self._send_json(
                    HTTPStatus.UNAUTHORIZED,
                    {"error": "invalid_token"},
                    {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            else:
                self._send_json(HTTPStatus.OK, claims)
        else:
            self._send_text(HTTPStatus.NOT_FOUND, "not found")

    def do_POST(self) -> None:
        provider = self.server.provider
        if urlsplit(self.path).path != "/token":
            self._send_text(HTTPStatus.NOT_FOUND, "not found")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            self._send_json(
                HTTPStatus.BAD_REQUEST,
                {"error": "invalid_request", "error_description": "expected a form body"},
            )
            return
        form = dict(parse_qsl(body, keep_blank_values=True))
        try:
            token = provider.token_response(self.headers.get("Authorization"), form)
        except _OAuthFailure as failure:
            headers = (
                {"WWW-Authenticate": 'Basic realm="fake-oidc"'}
                if failure.status is HTTPStatus.UNAUTHORIZED
                else None
            )
            self._send_json(
                failure.status,
                {"error": failure.error, "error_description": failure.description},
                headers,
            )
            return
        self._send_json(HTTPStatus.OK, token)
