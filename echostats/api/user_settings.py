"""``PATCH /api/v1/me/settings``: the user's settings (for now the IANA time zone).

Day rollups are kept in the saved zone, so changing it starts a rollup rebuild job; until the
job finishes, analytics in the new zone are computed from raw plays where rollups disagree.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from actors.facade import Pipeline
from echostats.api.auth import CurrentUser
from echostats.domain.periods import PeriodError, parse_tz
from echostats.errors import Unprocessable
from echostats.store.user_settings import set_time_zone

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class SettingsIn(BaseModel):
    time_zone: str | None = Field(None, max_length=64, description="IANA zone, e.g. Europe/Berlin")


class SettingsOut(BaseModel):
    time_zone: str
    rollup_job_id: str | None  # the rebuild started by a zone change


@router.patch("/settings", response_model=SettingsOut, summary="Change your settings")
async def update_settings(request: Request, user: CurrentUser, body: SettingsIn) -> SettingsOut:
    zone = user.time_zone
    job_id = None
    if body.time_zone is not None:
        try:
            zone = parse_tz(body.time_zone).key
        except PeriodError as exc:
            raise Unprocessable(str(exc)) from None
        if zone != user.time_zone:
            await set_time_zone(request.app.state.store, user.id, zone)
            pipeline: Pipeline = request.app.state.pipeline
            job_id, _ = await pipeline.rebuild_rollups(user.id)
    return SettingsOut(time_zone=zone, rollup_job_id=job_id)
