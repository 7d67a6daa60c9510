"""Profiles: who the user is and which plan applies to them."""

from uuid import UUID

from roomcraft.config import Plan, Settings
from roomcraft.db.session import Conn
from roomcraft.kit.errors import NotFound
from roomcraft.users import repository
from roomcraft.users.repository import ProfileRow


def plan_of(settings: Settings, profile: ProfileRow) -> Plan:
    """The plan of a profile: its paid price while it has access, else the free plan."""
    if profile.has_access and profile.price_id:
        for plan in settings.plans:
            if plan.stripe_price_id == profile.price_id:
                return plan
    return settings.plan("free")


async def get_profile(conn: Conn, *, user_id: UUID) -> ProfileRow:
    """The caller's profile."""
    profile = await repository.get_profile(conn, user_id=user_id)
    if profile is None:
        raise NotFound("Profile not found.")
    return profile


async def grant_admin(conn: Conn, *, email: str) -> None:
    """Make the account with this email an administrator."""
    if not await repository.update_admin_by_email(conn, email=email, is_admin=True):
        raise NotFound(f"No account with the email {email}.")
