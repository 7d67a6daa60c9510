"""All SQL of profiles."""

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from uuid import UUID

from psycopg import sql
from psycopg.rows import class_row

from roomcraft.db.session import Conn
from roomcraft.kit.pagination import Cursor


@dataclass(frozen=True)
class ProfileRow:
    id: UUID
    email: str
    name: str | None
    customer_id: str | None
    subscription_id: str | None
    price_id: str | None
    has_access: bool
    current_period_end: datetime | None
    next_price_id: str | None
    plan_changes_at: datetime | None
    is_admin: bool


@dataclass(frozen=True)
class BillingState:
    """The profile's billing columns, as a subscription's state leaves them."""

    subscription_id: str | None
    price_id: str | None
    has_access: bool
    current_period_end: datetime | None
    next_price_id: str | None
    plan_changes_at: datetime | None


def _select(row: type[ProfileRow]) -> sql.Composed:
    """`select` of the columns of a profile row class, from the profiles."""
    columns = sql.SQL(", ").join([sql.Identifier(field.name) for field in fields(row)])
    return sql.SQL("select {} from public.profiles ").format(columns)


async def _get_one(conn: Conn, condition: sql.SQL, value: object) -> ProfileRow | None:
    async with conn.cursor(row_factory=class_row(ProfileRow)) as cur:
        await cur.execute(_select(ProfileRow) + condition, (value,))
        return await cur.fetchone()


async def get_profile(conn: Conn, *, user_id: UUID) -> ProfileRow | None:
    return await _get_one(conn, sql.SQL("where id = %s"), user_id)


async def get_profile_by_email(conn: Conn, *, email: str) -> ProfileRow | None:
    return await _get_one(conn, sql.SQL("where lower(email) = lower(%s)"), email)


async def get_profile_by_customer(conn: Conn, *, customer_id: str) -> ProfileRow | None:
    return await _get_one(conn, sql.SQL("where customer_id = %s"), customer_id)


async def update_admin_by_email(conn: Conn, *, email: str, is_admin: bool) -> bool:
    cur = await conn.execute(
        "update public.profiles set is_admin = %s where lower(email) = lower(%s)",
        (is_admin, email),
    )
    return cur.rowcount == 1


async def update_customer_id(conn: Conn, *, user_id: UUID, customer_id: str) -> bool:
    """Link a billing customer to the profile unless it already has one (or another profile has
    this one); False when nothing changed."""
    cur = await conn.execute(
        """
        update public.profiles set customer_id = %(customer)s
         where id = %(user)s and customer_id is null
           and not exists (select from public.profiles where customer_id = %(customer)s)
        """,
        {"user": user_id, "customer": customer_id},
    )
    return cur.rowcount == 1


async def update_billing(conn: Conn, *, user_id: UUID, state: BillingState) -> None:
    await conn.execute(
        """
        update public.profiles
           set subscription_id = %(subscription_id)s, price_id = %(price_id)s,
               has_access = %(has_access)s, current_period_end = %(current_period_end)s,
               next_price_id = %(next_price_id)s, plan_changes_at = %(plan_changes_at)s
         where id = %(user_id)s
        """,
        asdict(state) | {"user_id": user_id},
    )


@dataclass(frozen=True)
class UserRow(ProfileRow):
    """A profile as the admins' user list shows it, with the day its account was made."""

    created_at: datetime


@dataclass(frozen=True)
class UserCounts:
    total: int
    admins: int
    joined: int


async def list_users(
    conn: Conn, *, email_contains: str | None, after: Cursor | None, limit: int
) -> list[UserRow]:
    """Every profile, newest first; those whose email contains the text (any case) when given.

    On a service-role connection: RLS shows a user only their own profile."""
    async with conn.cursor(row_factory=class_row(UserRow)) as cur:
        await cur.execute(
            _select(UserRow)
            + sql.SQL("""
             where (%(text)s::text is null or strpos(lower(email), lower(%(text)s)) > 0)
               and (%(after_at)s::timestamptz is null
                    or (created_at, id) < (%(after_at)s, %(after_id)s))
             order by created_at desc, id desc
             limit %(limit)s
            """),
            {
                "text": email_contains,
                "after_at": after.created_at if after else None,
                "after_id": after.id if after else None,
                "limit": limit,
            },
        )
        return await cur.fetchall()


async def get_user(conn: Conn, *, user_id: UUID) -> UserRow | None:
    async with conn.cursor(row_factory=class_row(UserRow)) as cur:
        await cur.execute(_select(UserRow) + sql.SQL("where id = %s"), (user_id,))
        return await cur.fetchone()


async def count_users(conn: Conn, *, joined_since: datetime) -> UserCounts:
    """How many accounts there are, how many are administrators and how many joined since."""
    async with conn.cursor(row_factory=class_row(UserCounts)) as cur:
        await cur.execute(
            """
            select count(*) as total,
                   count(*) filter (where is_admin) as admins,
                   count(*) filter (where created_at >= %s) as joined
              from public.profiles
            """,
            (joined_since,),
        )
        counts = await cur.fetchone()
        assert counts is not None
        return counts
