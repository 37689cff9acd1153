"""The dashboard's entry point. Until the dashboard pages land, ``/`` leads to the API docs."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> RedirectResponse:
    return RedirectResponse("/api/docs", status_code=307)
