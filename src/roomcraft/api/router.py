"""`/api/v1`: every domain's API routes under one prefix."""

from fastapi import APIRouter

from roomcraft.auth.routes import router as auth_router
from roomcraft.billing.routes import router as billing_router
from roomcraft.collections.routes import router as collections_router
from roomcraft.community.routes import router as community_router
from roomcraft.generations.routes import router as generations_router
from roomcraft.renders.routes import router as renders_router
from roomcraft.uploads.routes import router as uploads_router
from roomcraft.usage.routes import router as usage_router
from roomcraft.users.routes import router as users_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth_router)
api_router.include_router(users_router)
api_router.include_router(uploads_router)
api_router.include_router(generations_router)
api_router.include_router(usage_router)
api_router.include_router(billing_router)
api_router.include_router(community_router)
api_router.include_router(renders_router)
api_router.include_router(collections_router)
