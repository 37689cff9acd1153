"""Podcasts and audiobooks by id, their episodes and chapters, and the saved ones.

Development-mode apps lost the batch ``?ids=`` forms in February 2026 (``extended.py``) but
kept these single-item endpoints and ``GET /me/audiobooks`` (SPOTIFY.md 1.4).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from echostats.simulator.clock import iso_s
from echostats.simulator.webapi.catalog import valid_id
from echostats.simulator.webapi.common import ApiError, Ctx, endpoint, json_response


def _one(ctx: Ctx, found: dict[str, Any]) -> Any:
    item = found.get(valid_id(ctx.path_param("id")))
    if item is None:
        raise ApiError(404, "Resource not found")
    return item


def _page(ctx: Ctx, rows: list[Any], path: str) -> Response:
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    base = f"{ctx.shapes.api_base}{path}"
    return json_response(
        ctx.shapes.paging(rows[offset : offset + limit], base, limit, offset, len(rows))
    )


@endpoint(app_token=True)
async def show(ctx: Ctx) -> Response:
    return json_response(ctx.shapes.show(_one(ctx, ctx.sim.catalog.spoken.shows)))


@endpoint(app_token=True)
async def show_episodes(ctx: Ctx) -> Response:
    found = _one(ctx, ctx.sim.catalog.spoken.shows)
    episodes = ctx.sim.catalog.spoken.episodes
    rows = [ctx.shapes.episode(episodes[e], full=False) for e in found.episode_ids]
    return _page(ctx, rows, f"/shows/{found.id}/episodes")


@endpoint(app_token=True)
async def episode(ctx: Ctx) -> Response:
    return json_response(ctx.shapes.episode(_one(ctx, ctx.sim.catalog.spoken.episodes)))


@endpoint(app_token=True)
async def audiobook(ctx: Ctx) -> Response:
    return json_response(ctx.shapes.audiobook(_one(ctx, ctx.sim.catalog.spoken.audiobooks)))


@endpoint(app_token=True)
async def audiobook_chapters(ctx: Ctx) -> Response:
    found = _one(ctx, ctx.sim.catalog.spoken.audiobooks)
    chapters = ctx.sim.catalog.spoken.chapters
    rows = [ctx.shapes.chapter(chapters[c], full=False) for c in found.chapter_ids]
    return _page(ctx, rows, f"/audiobooks/{found.id}/chapters")


@endpoint(app_token=True)
async def chapter(ctx: Ctx) -> Response:
    return json_response(ctx.shapes.chapter(_one(ctx, ctx.sim.catalog.spoken.chapters)))


def _saved(
    ctx: Ctx, key: str, saved: list[tuple[str, datetime]], shape: Callable[[str], Any]
) -> Response:
    """A page of the user's saved items, newest first, each ``{added_at, <key>}``."""
    rows = [{"added_at": iso_s(added), key: shape(ident)} for ident, added in saved]
    return _page(ctx, rows, f"/me/{key}s")


@endpoint("user-library-read")
async def saved_shows(ctx: Ctx) -> Response:
    shows = ctx.sim.catalog.spoken.shows
    return _saved(ctx, "show", ctx.user.saved_shows, lambda i: ctx.shapes.simplified_show(shows[i]))


@endpoint("user-library-read", "user-read-playback-position")
async def saved_episodes(ctx: Ctx) -> Response:
    episodes = ctx.sim.catalog.spoken.episodes
    return _saved(
        ctx, "episode", ctx.user.saved_episodes, lambda i: ctx.shapes.episode(episodes[i])
    )


@endpoint("user-library-read")
async def saved_audiobooks(ctx: Ctx) -> Response:
    books = ctx.sim.catalog.spoken.audiobooks
    return _saved(
        ctx, "audiobook", ctx.user.saved_audiobooks, lambda i: ctx.shapes.audiobook(books[i])
    )


ROUTES = [
    Route("/v1/shows/{id}", show, methods=["GET"]),
    Route("/v1/shows/{id}/episodes", show_episodes, methods=["GET"]),
    Route("/v1/episodes/{id}", episode, methods=["GET"]),
    Route("/v1/audiobooks/{id}", audiobook, methods=["GET"]),
    Route("/v1/audiobooks/{id}/chapters", audiobook_chapters, methods=["GET"]),
    Route("/v1/chapters/{id}", chapter, methods=["GET"]),
    Route("/v1/me/shows", saved_shows, methods=["GET"]),
    Route("/v1/me/episodes", saved_episodes, methods=["GET"]),
    Route("/v1/me/audiobooks", saved_audiobooks, methods=["GET"]),
]
