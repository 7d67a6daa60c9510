"""`roomcraft admin credit EMAIL N --reason …`, run for real against the test database."""

import os
import subprocess
import sys
from pathlib import Path

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_user
from roomcraft.kit.time import utcnow
from roomcraft.usage import service as usage_service
from tests.factories import Account, create_user

ROOMCRAFT = Path(sys.executable).parent / "roomcraft"


def roomcraft(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    assert settings.database_url is not None
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "ROOMCRAFT_ENV": "test",
        "ROOMCRAFT_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [str(ROOMCRAFT), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def remaining(pool: Pool, settings: Settings, user: Account) -> int:
    async with as_user(pool, user.id) as conn:
        found = await usage_service.get_usage(conn, settings, user_id=user.id, now=utcnow())
    return found.remaining


class TestAdminCredit:
    async def test_credits_the_account_with_a_reason_it_reads(
        self, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings, email="paula@example.com")
        result = roomcraft(
            settings, "admin", "credit", "Paula@Example.com", "25", "--reason", "Contest prize"
        )
        assert result.returncode == 0, result.stderr
        assert "paula@example.com" in result.stdout.lower()
        assert "35 generations left" in result.stdout
        assert await remaining(pool, settings, user) == 35
        async with as_user(pool, user.id) as conn:
            [entry] = await usage_service.list_history(conn, user_id=user.id, after=None, limit=5)
        assert usage_service.describe(entry) == "Added by support: Contest prize"

    async def test_a_negative_amount_after_a_double_dash_takes_back(
        self, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings)
        result = roomcraft(
            settings, "admin", "credit", "--reason", "Refunded twice", user.email, "--", "-4"
        )
        assert result.returncode == 0, result.stderr
        assert await remaining(pool, settings, user) == 6

    async def test_an_unknown_email_fails_clearly(self, pool: Pool, settings: Settings) -> None:
        result = roomcraft(settings, "admin", "credit", "ghost@example.com", "5", "--reason", "x")
        assert result.returncode == 1
        assert "No account with the email ghost@example.com" in result.stderr

    async def test_a_zero_amount_or_no_reason_is_refused(
        self, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings)
        zero = roomcraft(settings, "admin", "credit", user.email, "0", "--reason", "Nothing")
        assert zero.returncode == 1
        assert "not 0" in zero.stderr
        missing = roomcraft(settings, "admin", "credit", user.email, "5")
        assert missing.returncode == 2
        assert "--reason" in missing.stderr
        assert await remaining(pool, settings, user) == 10
