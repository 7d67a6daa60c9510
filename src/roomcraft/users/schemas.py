from uuid import UUID

from roomcraft.kit.envelope import CamelModel


class MeRead(CamelModel):
    id: UUID
    email: str
    name: str | None
    plan: str
    is_admin: bool
