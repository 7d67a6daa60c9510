"""Accounts, sessions, magic links, API tokens and sign-in rate limits."""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode
from uuid import UUID

from roomcraft.auth import mail, repository, secrets
from roomcraft.auth.errors import EmailUnavailable, InvalidCredentials, InvalidMagicLink
from roomcraft.auth.passwords import Passwords
from roomcraft.auth.repository import ApiTokenRow, OutboxRow
from roomcraft.config import RateLimit, Settings
from roomcraft.db.session import Conn
from roomcraft.kit.errors import NotFound, RateLimited

MAGIC_LINK = "magic_link"
# A session's last-seen time (and sliding expiry) is written at most this often.
SEEN_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class Identity:
    """Who a request acts for; `session_id` is None when it came with an API token."""

    user_id: UUID
    email: str
    is_admin: bool
    session_id: UUID | None


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class NewSession:
    """A session just opened: `token` goes to the cookie and is never stored."""

    token: str
    session_id: UUID
    user_id: UUID
    email: str


async def _open_session(
    conn: Conn, settings: Settings, *, user: repository.UserRow, client: Client, confirmed: bool
) -> NewSession:
    token = secrets.new_token()
    session_id = await repository.insert_session(
        conn,
        user_id=user.id,
        token_hash=secrets.digest(token),
        ttl=timedelta(days=settings.session_days),
        user_agent=(client.user_agent or "")[:300] or None,
        ip=client.ip,
    )
    await repository.update_user_signed_in(conn, user_id=user.id, confirmed=confirmed)
    return NewSession(token=token, session_id=session_id, user_id=user.id, email=user.email)


async def sign_up(
    conn: Conn,
    settings: Settings,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    client: Client,
) -> NewSession:
    """Create an account with a password and sign it in."""
    password_hash = await passwords.hash(password)
    user = await repository.insert_user(
        conn, email=email, password_hash=password_hash, confirmed=False
    )
    if user is None:
        raise EmailUnavailable
    return await _open_session(conn, settings, user=user, client=client, confirmed=False)


async def sign_in(
    conn: Conn,
    settings: Settings,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    client: Client,
) -> NewSession:
    """Check the password and open a session."""
    user = await repository.get_user_by_email(conn, email=email)
    valid = await passwords.verify(user.password_hash if user else None, password)
    if user is None or not valid:
        raise InvalidCredentials
    return await _open_session(conn, settings, user=user, client=client, confirmed=False)


async def request_magic_link(
    conn: Conn, settings: Settings, *, email: str, next_path: str = "/dashboard"
) -> None:
    """Mail a single-use sign-in link; the account is created when the link is first used."""
    token = secrets.new_token()
    await repository.insert_one_time_token(
        conn,
        token_hash=secrets.digest(token),
        email=email,
        purpose=MAGIC_LINK,
        ttl=timedelta(minutes=settings.magic_link_minutes),
    )
    query = urlencode({"token": token, "next": next_path})
    link = f"{settings.public_base_url.rstrip('/')}/auth/callback?{query}"
    await mail.send_magic_link(conn, settings, to=email, link=link)


async def complete_magic_link(
    conn: Conn, settings: Settings, *, token: str, client: Client
) -> NewSession:
    """Use a magic link once: sign in its account, creating it on first use."""
    email = await repository.consume_one_time_token(
        conn, token_hash=secrets.digest(token), purpose=MAGIC_LINK
    )
    if email is None:
        raise InvalidMagicLink
    return await sign_in_verified_email(conn, settings, email=email, client=client)


async def sign_in_verified_email(
    conn: Conn, settings: Settings, *, email: str, client: Client
) -> NewSession:
    """Open a session for an email whose ownership was just proven (magic link, Google)."""
    user = await repository.get_user_by_email(conn, email=email)
    if user is None:
        user = await repository.insert_user(conn, email=email, password_hash=None, confirmed=True)
        if user is None:  # created concurrently by another request
            user = await repository.get_user_by_email(conn, email=email)
    assert user is not None
    if not user.confirmed and user.password_hash is not None:
        # Whoever signed up with this address never proved it: they must not keep a way in.
        await repository.update_user_claimed(conn, user_id=user.id)
    return await _open_session(conn, settings, user=user, client=client, confirmed=True)


async def resolve_session(conn: Conn, settings: Settings, *, token: str) -> Identity | None:
    """The identity behind a session cookie, extending the session while it is used."""
    row = await repository.get_session_identity(
        conn, token_hash=secrets.digest(token), seen_resolution=SEEN_RESOLUTION
    )
    if row is None:
        return None
    if row.seen_stale:
        await repository.update_session_seen(
            conn, session_id=row.session_id, ttl=timedelta(days=settings.session_days)
        )
    return Identity(
        user_id=row.user_id, email=row.email, is_admin=row.is_admin, session_id=row.session_id
    )


async def resolve_api_token(conn: Conn, *, token: str) -> Identity | None:
    """The identity behind a bearer token, if the token is live."""
    if not token.startswith(secrets.API_TOKEN_PREFIX):
        return None
    row = await repository.get_token_identity(conn, token_hash=secrets.digest(token))
    if row is None:
        return None
    return Identity(user_id=row.user_id, email=row.email, is_admin=row.is_admin, session_id=None)


async def sign_out(conn: Conn, *, session_id: UUID) -> None:
    """End one session."""
    await repository.delete_session(conn, session_id=session_id)


async def sign_out_everywhere(conn: Conn, *, user_id: UUID) -> int:
    """End every session of the user; returns how many ended."""
    return await repository.delete_user_sessions(conn, user_id=user_id)


async def create_api_token(conn: Conn, *, user_id: UUID, name: str) -> tuple[ApiTokenRow, str]:
    """Create an API token; the token itself is returned this once and never again."""
    token = secrets.new_api_token()
    prefix = token[len(secrets.API_TOKEN_PREFIX) :][:8]
    row = await repository.insert_api_token(
        conn, user_id=user_id, name=name, prefix=prefix, token_hash=secrets.digest(token)
    )
    return row, token


async def list_api_tokens(conn: Conn, *, user_id: UUID) -> list[ApiTokenRow]:
    """The user's live API tokens, newest first."""
    return await repository.list_api_tokens(conn, user_id=user_id)


async def revoke_api_token(conn: Conn, *, user_id: UUID, token_id: UUID) -> None:
    """Revoke one of the user's tokens; another user's token is not found."""
    if not await repository.update_api_token_revoked(conn, user_id=user_id, token_id=token_id):
        raise NotFound("API token not found.")


async def limit_attempts(
    conn: Conn, settings: Settings, *, action: str, ip: str | None, email: str
) -> None:
    """Count an attempt of `action` per client IP and per email; raise once over the limit."""
    buckets: list[tuple[str, RateLimit]] = [
        (f"{action}:email:{email}", settings.auth_rate_per_email),
    ]
    if ip:
        buckets.append((f"{action}:ip:{ip}", settings.auth_rate_per_ip))
    for bucket, rule in buckets:
        hits, seconds_left = await repository.hit_rate_limit(
            conn, bucket=bucket, window_seconds=rule.window_seconds
        )
        if hits > rule.limit:
            raise RateLimited(retry_after=int(seconds_left) + 1)


async def list_outbox(conn: Conn, *, limit: int = 50) -> list[OutboxRow]:
    """The development outbox, newest first."""
    return await repository.list_outbox_messages(conn, limit=limit)


async def ensure_password_account(
    conn: Conn, passwords: Passwords, *, email: str, password: str
) -> None:
    """Create a confirmed account with this password unless the email already has one."""
    if await repository.get_user_by_email(conn, email=email) is None:
        password_hash = await passwords.hash(password)
        await repository.insert_user(conn, email=email, password_hash=password_hash, confirmed=True)
