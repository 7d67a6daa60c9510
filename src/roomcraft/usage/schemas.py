from datetime import datetime
from uuid import UUID

from pydantic import Field, field_validator

from roomcraft.kit.envelope import CamelModel

# An administrator's adjustment: at most this many generations either way, and a reason.
MAX_ADJUSTMENT = 1000
MAX_REASON_LENGTH = 200


class UsageRead(CamelModel):
    plan: str
    plan_name: str
    limit: int
    used: int
    remaining: int
    resets_at: datetime


class LedgerEntryRead(CamelModel):
    id: UUID
    kind: str
    amount: int
    job_id: UUID | None
    description: str
    created_at: datetime


class CreditAdjustmentCreate(CamelModel):
    """Generations given to a user this month (negative: taken back), with a reason they read."""

    amount: int = Field(ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT)
    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH)

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, amount: int) -> int:
        if amount == 0:
            raise ValueError("The amount cannot be 0.")
        return amount

    @field_validator("reason")
    @classmethod
    def _has_words(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("A reason is required.")
        return reason.strip()


class CreditAdjustmentRead(CamelModel):
    user_id: UUID
    amount: int
    reason: str
    usage: UsageRead
