"""The month's credits at the UTC boundary, and the ledger closed to users even in raw SQL."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from psycopg import errors

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service, as_user
from roomcraft.usage import service as usage_service
from tests.factories import Account

EAST = timezone(timedelta(hours=2))


async def remaining_at(pool: Pool, settings: Settings, user: Account, when: datetime) -> int:
    async with as_user(pool, user.id) as conn:
        found = await usage_service.get_usage(conn, settings, user_id=user.id, now=when)
    return found.remaining


async def use_up(pool: Pool, user: Account, amount: int, *, at: datetime) -> None:
    """Debit `amount` generations at a given instant (the ledger's time moved, as a job's is)."""
    async with as_service(pool) as conn:
        await conn.execute(
            "insert into public.usage_ledger (owner_id, kind, amount, meta, created_at)"
            " values (%s, 'generation_debit', %s, '{\"mode\": \"imagine\"}', %s)",
            (user.id, amount, at),
        )


class TestMonthBoundary:
    async def test_the_first_instant_of_a_utc_month_starts_afresh(
        self, pool: Pool, settings: Settings, user: Account
    ) -> None:
        last_instant = datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
        await use_up(pool, user, 10, at=last_instant)
        assert await remaining_at(pool, settings, user, last_instant) == 0
        assert await remaining_at(pool, settings, user, datetime(2026, 2, 1, tzinfo=UTC)) == 10

    async def test_the_boundary_is_utc_whatever_the_clocks_zone(
        self, pool: Pool, settings: Settings, user: Account
    ) -> None:
        await use_up(pool, user, 4, at=datetime(2026, 1, 31, 21, tzinfo=UTC))
        # Already February in UTC+2, still January in UTC.
        local_february = datetime(2026, 2, 1, 0, 30, tzinfo=EAST)
        assert await remaining_at(pool, settings, user, local_february) == 6

    async def test_it_resets_at_the_first_instant_of_next_month(
        self, pool: Pool, settings: Settings, user: Account
    ) -> None:
        async with as_user(pool, user.id) as conn:
            december = await usage_service.get_usage(
                conn, settings, user_id=user.id, now=datetime(2026, 12, 31, 22, tzinfo=EAST)
            )
        assert december.resets_at == datetime(2027, 1, 1, tzinfo=UTC)


class TestLedgerIsClosedToUsers:
    @pytest.mark.parametrize(
        "statement",
        [
            "insert into public.usage_ledger (owner_id, kind, amount)"
            " values (%(me)s, 'credit_adjustment', 1000)",
            "update public.usage_ledger set amount = 1 where owner_id = %(me)s",
            "delete from public.usage_ledger where owner_id = %(me)s",
            "update public.profiles set has_access = true, price_id = 'price_pro'"
            " where id = %(me)s",
            "update public.profiles set plan_changes_at = null where id = %(me)s",
        ],
    )
    async def test_raw_sql_as_the_user_cannot_write_credits_or_plans(
        self, pool: Pool, settings: Settings, user: Account, statement: str
    ) -> None:
        await use_up(pool, user, 5, at=datetime.now(UTC))
        with pytest.raises(errors.InsufficientPrivilege):
            async with as_user(pool, user.id) as conn:
                await conn.execute(statement, {"me": user.id})
        assert await remaining_at(pool, settings, user, datetime.now(UTC)) == 5
