"""Outbound Spotify calls: ``GET /api/v1/api-logs`` (filtered, newest first) and ``/stats``.

A person sees the calls made for them, plus the calls made before any user existed (the sign-in
code exchange carries no user id). Records never hold a token or secret (``spotify/records``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from echostats.api.auth import CurrentUser
from echostats.api.timestamps import Timestamp
from echostats.errors import Unprocessable
from echostats.store.api_logs import ApiLogFilter, ApiLogs
from echostats.store.database import Store

router = APIRouter(prefix="/api/v1/api-logs", tags=["api logs"])

TOP_ENDPOINTS = 10


class ApiLogOut(BaseModel):
    id: str
    service: str
    method: str
    endpoint: str
    status_code: int
    latency_ms: float
    error: str | None
    request_id: str
    timestamp: Timestamp


class ApiLogPage(BaseModel):
    items: list[ApiLogOut]
    total: int
    page: int
    limit: int
    pages: int


class EndpointCount(BaseModel):
    endpoint: str
    count: int
    avg_latency_ms: float


class ApiLogStats(BaseModel):
    total_calls: int
    error_count: int
    rate_limit_count: int
    success_rate: float  # percent of calls answered 2xx/3xx, 100 when there were none
    avg_latency_ms: float | None
    p95_latency_ms: float | None
    status_distribution: dict[str, int]  # status code (as text, "0" = no answer) → calls
    top_endpoints: list[EndpointCount]


def _logs(request: Request) -> ApiLogs:
    store: Store = request.app.state.store
    return ApiLogs(store)


Service = Annotated[str | None, Query(max_length=40)]
Status = Annotated[int | None, Query(ge=0, le=599)]
Method = Annotated[str | None, Query(max_length=10, pattern=r"^[A-Za-z]+$")]
Contains = Annotated[str | None, Query(max_length=200)]


async def _filter(
    user: CurrentUser,
    *,
    service: Service = None,
    status_min: Status = None,
    status_max: Status = None,
    method: Method = None,
    endpoint_contains: Contains = None,
) -> ApiLogFilter:
    """The filters both routes share, as one dependency."""
    if status_min is not None and status_max is not None and status_min > status_max:
        raise Unprocessable(
            f"status_min ({status_min}) is above status_max ({status_max}); nothing could match."
        )
    return ApiLogFilter(
        user_id=user.id,
        service=service or None,
        status_min=status_min,
        status_max=status_max,
        method=method or None,
        endpoint_contains=endpoint_contains or None,
    )


LogFilter = Annotated[ApiLogFilter, Depends(_filter)]


def _item(doc: dict[str, Any]) -> ApiLogOut:
    return ApiLogOut(
        id=str(doc["_id"]),
        service=doc.get("service", "spotify"),
        method=doc["method"],
        endpoint=doc["endpoint"],
        status_code=doc["status_code"],
        latency_ms=float(doc.get("latency_ms") or 0.0),
        error=doc.get("error"),
        request_id=doc.get("request_id") or "",
        timestamp=doc["timestamp"],
    )


@router.get("", response_model=ApiLogPage, summary="Spotify calls made for you, newest first")
async def list_logs(
    request: Request,
    where: LogFilter,
    # Bounded: the skip goes to MongoDB, which takes no integer past 8 bytes.
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ApiLogPage:
    docs, total = await _logs(request).page(where, (page - 1) * limit, limit)
    return ApiLogPage(
        items=[_item(d) for d in docs],
        total=total,
        page=page,
        limit=limit,
        pages=math.ceil(total / limit),
    )


@router.get("/stats", response_model=ApiLogStats, summary="Totals, errors and latency")
async def log_stats(request: Request, where: LogFilter) -> ApiLogStats:
    raw = await _logs(request).stats(where)
    return ApiLogStats.model_validate(raw)
