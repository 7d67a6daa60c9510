"""The `roomcraft` command, run for real against the test database."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from tests.factories import create_user

ROOMCRAFT = Path(sys.executable).parent / "roomcraft"


def roomcraft(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "ROOMCRAFT_ENV": "test"}
    return subprocess.run(
        [str(ROOMCRAFT), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def is_admin(database_url: str, email: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select is_admin from public.profiles where email = %s", (email,))
        result = row.fetchone()
        assert result is not None
        return bool(result[0])


class TestMigrate:
    def test_nothing_pending_on_a_migrated_database(self, database_url: str) -> None:
        result = roomcraft(database_url, "migrate")
        assert result.returncode == 0, result.stderr
        assert "none pending" in result.stdout


class TestGrantAdmin:
    async def test_makes_the_account_an_administrator(
        self, database_url: str, pool: Pool, settings: Settings
    ) -> None:
        user = await create_user(pool, settings, email="boss@example.com")
        result = roomcraft(database_url, "admin", "grant-admin", "Boss@Example.com")
        assert result.returncode == 0, result.stderr
        assert is_admin(database_url, user.email)

    async def test_unknown_email_fails_clearly(self, database_url: str, pool: Pool) -> None:
        result = roomcraft(database_url, "admin", "grant-admin", "ghost@example.com")
        assert result.returncode == 1
        assert "No account with the email ghost@example.com" in result.stderr


class TestDemo:
    @pytest.mark.parametrize("runs", [2])
    async def test_creates_the_demo_account_once(
        self, database_url: str, pool: Pool, runs: int
    ) -> None:
        for _ in range(runs):
            result = roomcraft(database_url, "demo")
            assert result.returncode == 0, result.stderr
        with psycopg.connect(database_url) as conn:
            count = conn.execute(
                "select count(*) from auth.users where email = 'demo@example.com'"
            ).fetchone()
        assert count == (1,)
