"""All SQL of profiles."""

from dataclasses import dataclass
from uuid import UUID

from psycopg.rows import class_row

from roomcraft.db.session import Conn


@dataclass(frozen=True)
class ProfileRow:
    id: UUID
    email: str
    name: str | None
    price_id: str | None
    has_access: bool
    is_admin: bool


async def get_profile(conn: Conn, *, user_id: UUID) -> ProfileRow | None:
    async with conn.cursor(row_factory=class_row(ProfileRow)) as cur:
        await cur.execute(
            "select id, email, name, price_id, has_access, is_admin from public.profiles"
            " where id = %s",
            (user_id,),
        )
        return await cur.fetchone()


async def update_admin_by_email(conn: Conn, *, email: str, is_admin: bool) -> bool:
    cur = await conn.execute(
        "update public.profiles set is_admin = %s where lower(email) = lower(%s)",
        (is_admin, email),
    )
    return cur.rowcount == 1
