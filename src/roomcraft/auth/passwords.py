"""Argon2id password hashing, off the event loop (a hash costs tens of milliseconds of CPU)."""

import asyncio
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from roomcraft.config import Settings


class Passwords:
    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Passwords":
        return cls(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)

    @cached_property
    def _decoy(self) -> str:
        # Verified against when the account does not exist, so timing reveals nothing.
        return self._hasher.hash("decoy password that never matches")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False
