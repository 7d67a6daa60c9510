"""All SQL of billing: the Stripe events already applied, and the locks that order the work."""

from uuid import UUID

from roomcraft.db.session import Conn


async def insert_billing_event(conn: Conn, *, event_id: str, type: str) -> bool:
    """Record a Stripe event as applied; False when it already was (a redelivery). A concurrent
    delivery of the same event waits here until the first one's transaction ends."""
    cur = await conn.execute(
        """
        insert into public.billing_events (event_id, type, processed_at) values (%s, %s, now())
        on conflict (event_id) do nothing
        """,
        (event_id, type),
    )
    return cur.rowcount == 1


async def lock_customer(conn: Conn, *, customer_id: str) -> None:
    """Serialize the work on one Stripe customer until the end of the transaction."""
    await conn.execute(
        "select pg_advisory_xact_lock(hashtextextended('billing.customer:' || %s, 0))",
        (customer_id,),
    )


async def lock_user(conn: Conn, *, user_id: UUID) -> None:
    """Serialize a user's checkouts, so only one Stripe customer is ever made for them."""
    await conn.execute(
        "select pg_advisory_xact_lock(hashtextextended('billing.user:' || %s::text, 0))",
        (user_id,),
    )
