"""The dashboard: one HTML shell at ``/`` and its ES modules and stylesheet under ``/static``.

No build step and no CDN: the files in ``static/`` are what the browser runs. Every number on a
page comes from the API; pages talk to it with the session cookie like any other client.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    # The shell is tiny and changes with each release; never let a browser keep a stale one.
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def mount_dashboard(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
