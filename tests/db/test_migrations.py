"""The migrations: idempotent, and leaving every table behind row-level security with policies
in Supabase's initPlan form, for roles that are what they claim to be."""

import re
from typing import Any

from yoyo import read_migrations

from roomcraft.db.migrate import MIGRATIONS_DIR, apply_migrations
from roomcraft.db.pool import Pool

APP_ROLES = ("anon", "authenticated", "service_role")

EXPECTED_TABLES = {
    "auth.users",
    "auth.sessions",
    "auth.one_time_tokens",
    "auth.api_tokens",
    "auth.rate_limits",
    "auth.email_outbox",
    "public.profiles",
    "public.uploads",
    "public.generation_jobs",
    "public.generation_predictions",
    "public.renders",
    "public.render_variants",
    "public.webhook_deliveries",
    "public.collections",
    "public.collection_items",
    "public.community_collections",
    "public.community_items",
    "public.usage_ledger",
    "public.billing_events",
}

_TABLES = """
select n.nspname || '.' || c.relname as name, c.relrowsecurity
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname in ('public', 'auth') and c.relkind in ('r', 'p')
"""

# Tables and sequences the libraries (yoyo, procrastinate) own: reachable by none of the app roles.
_LIBRARY_RELATIONS = """
select n.nspname || '.' || c.relname as name
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and c.relkind in ('r', 'p', 'S')
   and (c.relname like '%yoyo%' or starts_with(c.relname, 'procrastinate_'))
"""


async def fetch(pool: Pool, query: str) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        cur = await conn.execute(query)  # type: ignore[arg-type]
        return await cur.fetchall()


def is_library_table(table: str) -> bool:
    """yoyo's bookkeeping, which no app role can reach (tested below)."""
    return "yoyo" in table


class TestApplyMigrations:
    def test_applying_migrations_again_is_a_no_op(self, database_url: str) -> None:
        assert apply_migrations(database_url) == []

    async def test_every_migration_file_is_recorded_as_applied(self, pool: Pool) -> None:
        rows = await fetch(pool, "select migration_id from public._yoyo_migration")
        migrations = {migration.id for migration in read_migrations(str(MIGRATIONS_DIR))}
        assert {row["migration_id"] for row in rows} == migrations
        assert len(migrations) >= 6


class TestRowLevelSecurity:
    async def test_every_table_has_row_level_security_enabled(self, pool: Pool) -> None:
        tables = [row for row in await fetch(pool, _TABLES) if not is_library_table(row["name"])]
        assert {row["name"] for row in tables} >= EXPECTED_TABLES
        assert [row["name"] for row in tables if not row["relrowsecurity"]] == []

    async def test_every_table_an_app_role_can_touch_has_row_level_security(
        self, pool: Pool
    ) -> None:
        rows = await fetch(
            pool,
            """
            select n.nspname || '.' || c.relname as name, role
              from pg_class c
              join pg_namespace n on n.oid = c.relnamespace
             cross join unnest(array['anon', 'authenticated']) role
             where n.nspname in ('public', 'auth') and c.relkind in ('r', 'p')
               and not c.relrowsecurity
               and (has_any_column_privilege(role, c.oid, 'select, insert, update, references')
                    or has_table_privilege(role, c.oid, 'delete, truncate'))
            """,
        )
        assert rows == []

    async def test_library_tables_are_out_of_reach_of_the_app_roles(self, pool: Pool) -> None:
        relations = [row["name"] for row in await fetch(pool, _LIBRARY_RELATIONS)]
        assert any("yoyo" in name for name in relations)
        async with pool.connection() as conn:
            cur = await conn.execute(
                """
                select role, r as relation
                  from unnest(%s::text[]) r, unnest(%s::text[]) role
                 where case when (select relkind from pg_class where oid = r::regclass) = 'S'
                            then has_sequence_privilege(role, r, 'usage, select, update')
                            else has_any_column_privilege(role, r, 'select, insert, update')
                                 or has_table_privilege(role, r, 'delete, truncate')
                       end
                """,
                (relations, ["anon", "authenticated"]),
            )
            reachable = await cur.fetchall()
        assert reachable == []

    async def test_policies_call_auth_uid_in_initplan_form(self, pool: Pool) -> None:
        policies = await fetch(
            pool,
            "select tablename, policyname, qual, with_check from pg_policies "
            "where schemaname in ('public', 'auth')",
        )
        calls = 0
        per_row_calls = []
        for policy in policies:
            for expression in (policy["qual"], policy["with_check"]):
                if expression is None:
                    continue
                total = len(re.findall(r"auth\.uid\(\)", expression))
                wrapped = len(re.findall(r"\( SELECT auth\.uid\(\)", expression))
                calls += total
                if total != wrapped:
                    per_row_calls.append((policy["tablename"], policy["policyname"], expression))
        assert calls >= 20
        assert per_row_calls == []

    async def test_policies_name_app_roles_never_public(self, pool: Pool) -> None:
        policies = await fetch(
            pool,
            "select policyname, roles::text[] as roles from pg_policies "
            "where schemaname in ('public', 'auth')",
        )
        assert policies
        assert [p["policyname"] for p in policies if not set(p["roles"]) <= set(APP_ROLES)] == []


class TestRoles:
    async def test_app_roles_exist_and_only_service_role_bypasses_rls(self, pool: Pool) -> None:
        rows = await fetch(
            pool,
            "select rolname, rolbypassrls, rolsuper, rolcanlogin from pg_roles "
            "where rolname in ('anon', 'authenticated', 'service_role')",
        )
        assert {row["rolname"]: row for row in rows} == {
            "anon": {
                "rolname": "anon",
                "rolbypassrls": False,
                "rolsuper": False,
                "rolcanlogin": False,
            },
            "authenticated": {
                "rolname": "authenticated",
                "rolbypassrls": False,
                "rolsuper": False,
                "rolcanlogin": False,
            },
            "service_role": {
                "rolname": "service_role",
                "rolbypassrls": True,
                "rolsuper": False,
                "rolcanlogin": False,
            },
        }

    async def test_app_roles_cannot_create_objects_in_app_schemas(self, pool: Pool) -> None:
        rows = await fetch(
            pool,
            """
            select role, schema
              from unnest(array['anon', 'authenticated', 'service_role']) role,
                   unnest(array['public', 'auth']) schema
             where has_schema_privilege(role, schema, 'create')
            """,
        )
        assert rows == []

    async def test_the_connecting_role_may_switch_to_each_app_role(self, pool: Pool) -> None:
        rows = await fetch(
            pool,
            """
            select role, pg_has_role(current_user, role, 'member') as member
              from unnest(array['anon', 'authenticated', 'service_role']) role
            """,
        )
        assert {row["role"]: row["member"] for row in rows} == dict.fromkeys(APP_ROLES, True)


class TestFunctions:
    async def test_security_definer_functions_pin_their_search_path(self, pool: Pool) -> None:
        rows = await fetch(
            pool,
            """
            select n.nspname || '.' || p.proname as name, coalesce(p.proconfig, '{}') as config
              from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname in ('public', 'auth') and p.prosecdef
            """,
        )
        assert {row["name"] for row in rows} >= {
            "auth.create_profile_for_user",
            "public.create_default_favorites",
        }
        unpinned = [
            row["name"]
            for row in rows
            if not any(setting.startswith("search_path=") for setting in row["config"])
        ]
        assert unpinned == []
