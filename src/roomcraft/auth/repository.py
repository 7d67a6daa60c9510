"""All SQL of accounts, sessions, tokens, rate limits and the development outbox."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from psycopg.rows import class_row

from roomcraft.db.session import Conn


@dataclass(frozen=True)
class UserRow:
    id: UUID
    email: str
    password_hash: str | None
    confirmed: bool


@dataclass(frozen=True)
class SessionIdentityRow:
    session_id: UUID
    user_id: UUID
    email: str
    is_admin: bool
    seen_stale: bool


@dataclass(frozen=True)
class TokenIdentityRow:
    token_id: UUID
    user_id: UUID
    email: str
    is_admin: bool


@dataclass(frozen=True)
class ApiTokenRow:
    id: UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class OutboxRow:
    id: UUID
    to: str
    subject: str
    body: str
    link: str | None
    sent_at: datetime


async def get_user_by_email(conn: Conn, *, email: str) -> UserRow | None:
    async with conn.cursor(row_factory=class_row(UserRow)) as cur:
        await cur.execute(
            "select id, email, password_hash, email_confirmed_at is not null as confirmed"
            " from auth.users where lower(email) = lower(%s)",
            (email,),
        )
        return await cur.fetchone()


async def insert_user(
    conn: Conn, *, email: str, password_hash: str | None, confirmed: bool
) -> UserRow | None:
    """Create the account; `None` when the email is already taken."""
    async with conn.cursor(row_factory=class_row(UserRow)) as cur:
        await cur.execute(
            """
            insert into auth.users (email, password_hash, email_confirmed_at)
            values (%s, %s, case when %s then now() end)
            on conflict ((lower(email))) do nothing
            returning id, email, password_hash, email_confirmed_at is not null as confirmed
            """,
            (email, password_hash, confirmed),
        )
        return await cur.fetchone()


async def update_user_signed_in(conn: Conn, *, user_id: UUID, confirmed: bool) -> None:
    await conn.execute(
        """
        update auth.users
           set last_sign_in_at = now(),
               email_confirmed_at = case when %s then coalesce(email_confirmed_at, now())
                                         else email_confirmed_at end
         where id = %s
        """,
        (confirmed, user_id),
    )


async def update_user_claimed(conn: Conn, *, user_id: UUID) -> None:
    """The email's owner proved it: drop a password set by whoever registered it unconfirmed,
    and every session opened with it."""
    await conn.execute("update auth.users set password_hash = null where id = %s", (user_id,))
    await conn.execute("delete from auth.sessions where user_id = %s", (user_id,))


async def insert_session(
    conn: Conn,
    *,
    user_id: UUID,
    token_hash: bytes,
    ttl: timedelta,
    user_agent: str | None,
    ip: str | None,
) -> UUID:
    cur = await conn.execute(
        """
        insert into auth.sessions (user_id, token_hash, expires_at, user_agent, ip)
        values (%s, %s, now() + %s, %s, %s)
        returning id
        """,
        (user_id, token_hash, ttl, user_agent, ip),
    )
    row = await cur.fetchone()
    assert row is not None
    session_id: UUID = row["id"]
    return session_id


async def get_session_identity(
    conn: Conn, *, token_hash: bytes, seen_resolution: timedelta
) -> SessionIdentityRow | None:
    """A live session's user; `seen_stale` when its last-seen time is older than the resolution."""
    async with conn.cursor(row_factory=class_row(SessionIdentityRow)) as cur:
        await cur.execute(
            """
            select s.id as session_id, s.user_id, u.email, p.is_admin,
                   s.last_seen_at < now() - %s as seen_stale
              from auth.sessions s
              join auth.users u on u.id = s.user_id
              join public.profiles p on p.id = s.user_id
             where s.token_hash = %s and s.expires_at > now()
            """,
            (seen_resolution, token_hash),
        )
        return await cur.fetchone()


async def update_session_seen(conn: Conn, *, session_id: UUID, ttl: timedelta) -> None:
    await conn.execute(
        "update auth.sessions set last_seen_at = now(), expires_at = now() + %s where id = %s",
        (ttl, session_id),
    )


async def delete_session(conn: Conn, *, session_id: UUID) -> None:
    await conn.execute("delete from auth.sessions where id = %s", (session_id,))


async def delete_user_sessions(conn: Conn, *, user_id: UUID) -> int:
    cur = await conn.execute("delete from auth.sessions where user_id = %s", (user_id,))
    return cur.rowcount


async def insert_one_time_token(
    conn: Conn, *, token_hash: bytes, email: str, purpose: str, ttl: timedelta
) -> None:
    await conn.execute(
        """
        insert into auth.one_time_tokens (token_hash, email, purpose, expires_at)
        values (%s, %s, %s, now() + %s)
        """,
        (token_hash, email, purpose, ttl),
    )


async def consume_one_time_token(conn: Conn, *, token_hash: bytes, purpose: str) -> str | None:
    """Mark the token used and return its email; `None` if unknown, used or expired."""
    cur = await conn.execute(
        """
        update auth.one_time_tokens
           set used_at = now()
         where token_hash = %s and purpose = %s and used_at is null and expires_at > now()
        returning email
        """,
        (token_hash, purpose),
    )
    row = await cur.fetchone()
    return None if row is None else str(row["email"])


async def insert_api_token(
    conn: Conn, *, user_id: UUID, name: str, prefix: str, token_hash: bytes
) -> ApiTokenRow:
    async with conn.cursor(row_factory=class_row(ApiTokenRow)) as cur:
        await cur.execute(
            """
            insert into auth.api_tokens (user_id, name, prefix, token_hash)
            values (%s, %s, %s, %s)
            returning id, name, prefix, created_at, last_used_at
            """,
            (user_id, name, prefix, token_hash),
        )
        row = await cur.fetchone()
        assert row is not None
        return row


async def list_api_tokens(conn: Conn, *, user_id: UUID) -> list[ApiTokenRow]:
    async with conn.cursor(row_factory=class_row(ApiTokenRow)) as cur:
        await cur.execute(
            """
            select id, name, prefix, created_at, last_used_at
              from auth.api_tokens
             where user_id = %s and revoked_at is null
             order by created_at desc, id desc
            """,
            (user_id,),
        )
        return await cur.fetchall()


async def update_api_token_revoked(conn: Conn, *, user_id: UUID, token_id: UUID) -> bool:
    cur = await conn.execute(
        """
        update auth.api_tokens set revoked_at = now()
         where id = %s and user_id = %s and revoked_at is null
        """,
        (token_id, user_id),
    )
    return cur.rowcount == 1


async def get_token_identity(conn: Conn, *, token_hash: bytes) -> TokenIdentityRow | None:
    """Resolve a live API token, recording its use."""
    async with conn.cursor(row_factory=class_row(TokenIdentityRow)) as cur:
        await cur.execute(
            """
            update auth.api_tokens t
               set last_used_at = now()
              from auth.users u, public.profiles p
             where t.token_hash = %s and t.revoked_at is null
               and u.id = t.user_id and p.id = t.user_id
            returning t.id as token_id, t.user_id, u.email, p.is_admin
            """,
            (token_hash,),
        )
        return await cur.fetchone()


async def hit_rate_limit(conn: Conn, *, bucket: str, window_seconds: int) -> tuple[int, float]:
    """Count one attempt in the bucket's current window: (hits so far, seconds left in window)."""
    cur = await conn.execute(
        """
        insert into auth.rate_limits as r (bucket, window_start, hits)
        values (%(bucket)s,
                to_timestamp(floor(extract(epoch from now()) / %(window)s) * %(window)s),
                1)
        on conflict (bucket, window_start) do update set hits = r.hits + 1
        returning hits,
                  extract(epoch from r.window_start + make_interval(secs => %(window)s) - now())
                    as seconds_left
        """,
        {"bucket": bucket, "window": window_seconds},
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["hits"]), float(row["seconds_left"])


async def insert_outbox_message(
    conn: Conn, *, to: str, subject: str, body: str, link: str | None
) -> None:
    await conn.execute(
        "insert into auth.email_outbox (to_email, subject, body, link) values (%s, %s, %s, %s)",
        (to, subject, body, link),
    )


async def list_outbox_messages(conn: Conn, *, limit: int) -> list[OutboxRow]:
    async with conn.cursor(row_factory=class_row(OutboxRow)) as cur:
        await cur.execute(
            """
            select id, to_email as "to", subject, body, link, created_at as sent_at
              from auth.email_outbox
             order by created_at desc, id desc
             limit %s
            """,
            (limit,),
        )
        return await cur.fetchall()
