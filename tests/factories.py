"""Small async factories: each makes one thing the way the app would, and returns it."""

import itertools
from dataclasses import dataclass
from uuid import UUID

import httpx

from roomcraft.auth import repository as auth_repository
from roomcraft.auth.passwords import Passwords
from roomcraft.config import Settings
from roomcraft.db.pool import Pool
from roomcraft.db.session import as_service

_sequence = itertools.count(1)
DEFAULT_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    id: UUID
    email: str
    password: str


async def create_user(
    pool: Pool,
    settings: Settings,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_admin: bool = False,
) -> Account:
    """An account with a password (and its profile and "My Favorites", made by the triggers)."""
    email = email or f"user{next(_sequence)}@example.com"
    password_hash = await Passwords.from_settings(settings).hash(password)
    async with as_service(pool) as conn:
        row = await auth_repository.insert_user(
            conn, email=email, password_hash=password_hash, confirmed=True
        )
        assert row is not None
        if is_admin:
            await conn.execute(
                "update public.profiles set is_admin = true where id = %s", (row.id,)
            )
    return Account(id=row.id, email=email, password=password)


async def sign_in(client: httpx.AsyncClient, user: Account) -> str:
    """Sign the client in through the API; later requests carry the CSRF header. Returns it."""
    response = await client.post(
        "/api/v1/auth/signin", json={"email": user.email, "password": user.password}
    )
    assert response.status_code == 200, response.text
    csrf = str(response.json()["data"]["csrfToken"])
    client.headers["X-CSRF-Token"] = csrf
    return csrf
