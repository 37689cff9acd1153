"""Health routes: liveness, readiness (503 when not ready) and the update check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from echostats import __version__
from echostats.api.timestamps import Timestamp
from echostats.releases import ReleaseFeed, is_newer

SERVICE_NAME = "echostats-api"
NOT_READY_RETRY_AFTER = "5"


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str


ReadinessCheck = Callable[[], Awaitable[CheckResult]]


class HealthOut(BaseModel):
    status: Literal["healthy"]
    service: str
    version: str


class CheckOut(BaseModel):
    ok: bool
    detail: str


class ReadyOut(BaseModel):
    status: Literal["ready", "not_ready"]
    reason: str | None = None
    checks: dict[str, CheckOut]


class UpdateOut(BaseModel):
    current_version: str
    latest_version: str | None
    update_available: bool
    release_url: str | None
    release_notes: str | None
    published_at: Timestamp | None


router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("", response_model=HealthOut, summary="Liveness")
async def health() -> HealthOut:
    return HealthOut(status="healthy", service=SERVICE_NAME, version=__version__)


@router.get(
    "/ready",
    response_model=ReadyOut,
    summary="Readiness: database, actors and Spotify credentials",
    responses={503: {"model": ReadyOut, "description": "Not ready"}},
)
async def ready(request: Request, response: Response) -> ReadyOut:
    checks: Mapping[str, ReadinessCheck] = request.app.state.readiness_checks
    results = {name: await check() for name, check in checks.items()}
    failing = [f"{name}: {result.detail}" for name, result in results.items() if not result.ok]
    out = {name: CheckOut(ok=r.ok, detail=r.detail) for name, r in results.items()}
    if failing:
        response.status_code = 503
        response.headers["Retry-After"] = NOT_READY_RETRY_AFTER
        return ReadyOut(status="not_ready", reason="; ".join(failing), checks=out)
    return ReadyOut(status="ready", checks=out)


@router.get("/update", response_model=UpdateOut, summary="Is a newer release available?")
async def update(request: Request) -> UpdateOut:
    feed: ReleaseFeed = request.app.state.release_feed
    release = await feed.latest()
    if release is None:
        return UpdateOut(
            current_version=__version__,
            latest_version=None,
            update_available=False,
            release_url=None,
            release_notes=None,
            published_at=None,
        )
    return UpdateOut(
        current_version=__version__,
        latest_version=release.version,
        update_available=is_newer(release.version, __version__),
        release_url=release.url,
        release_notes=release.notes,
        published_at=release.published_at,
    )
