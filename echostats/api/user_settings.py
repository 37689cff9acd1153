"""``PATCH /api/v1/me/settings``: the user's settings (for now the IANA time zone).

Analytics are computed in the requested zone from the play ledger, which keeps plays in UTC,
so a new zone applies to every figure at once, with nothing to rebuild.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from echostats.api.auth import CurrentUser
from echostats.domain.periods import PeriodError, parse_tz
from echostats.errors import Unprocessable
from echostats.store.user_settings import set_time_zone

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class SettingsIn(BaseModel):
    time_zone: str | None = Field(None, max_length=64, description="IANA zone, e.g. Europe/Berlin")


class SettingsOut(BaseModel):
    time_zone: str


@router.patch("/settings", response_model=SettingsOut, summary="Change your settings")
async def update_settings(request: Request, user: CurrentUser, body: SettingsIn) -> SettingsOut:
    zone = user.time_zone
    if body.time_zone is not None:
        try:
            zone = parse_tz(body.time_zone).key
        except PeriodError as exc:
            raise Unprocessable(str(exc)) from None
        if zone != user.time_zone:
            await set_time_zone(request.app.state.store, user.id, zone)
    return SettingsOut(time_zone=zone)
