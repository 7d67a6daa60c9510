"""`/api/v1/me`."""

from fastapi import APIRouter

from roomcraft.api.deps import CurrentUser, SettingsDep, UserConn
from roomcraft.api.responses import errors
from roomcraft.kit.envelope import Envelope, ok
from roomcraft.users import service as users_service
from roomcraft.users.schemas import MeRead

router = APIRouter(tags=["users"])


@router.get("/me", responses=errors(401))
async def me(identity: CurrentUser, conn: UserConn, settings: SettingsDep) -> Envelope[MeRead]:
    """The signed-in user, their plan and whether they are an administrator."""
    profile = await users_service.get_profile(conn, user_id=identity.user_id)
    plan = users_service.plan_of(settings, profile)
    return ok(
        MeRead(
            id=profile.id,
            email=profile.email,
            name=profile.name,
            plan=plan.key,
            is_admin=profile.is_admin,
        )
    )
