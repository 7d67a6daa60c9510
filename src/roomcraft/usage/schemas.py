from datetime import datetime
from uuid import UUID

from roomcraft.kit.envelope import CamelModel


class UsageRead(CamelModel):
    plan: str
    plan_name: str
    monthly_limit: int
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
