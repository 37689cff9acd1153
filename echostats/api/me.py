"""The signed-in person: ``GET /api/v1/me``."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from echostats.api.auth import CurrentUser
from echostats.api.timestamps import Timestamp

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class MeOut(BaseModel):
    id: str
    spotify_id: str | None
    display_name: str | None
    image_url: str | None
    product: str | None
    time_zone: str
    created_at: Timestamp


@router.get("", response_model=MeOut, summary="The signed-in user and their settings")
async def me(user: CurrentUser) -> MeOut:
    return MeOut(
        id=user.id,
        spotify_id=user.spotify_id,
        display_name=user.display_name,
        image_url=user.image_url,
        product=user.product,
        time_zone=user.time_zone,
        created_at=user.created_at,
    )
