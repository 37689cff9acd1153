"""``/api/v1/browse``: new releases, featured playlists and categories, proxied from Spotify.

Spotify withdrew all three from development-mode apps in 2024-2026. We still ask (an
extended-quota app gets real answers) and, when Spotify refuses, answer 501 with a sentence
saying so. No substitute is invented: a ``tag:new`` search would return ten unranked albums that
match a word, which is not what "new releases" promises, so the honest answer is the refusal.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from echostats.api.auth import CurrentUser
from echostats.api.passthrough import (
    AlbumOut,
    PlaylistSummaryOut,
    SpotifyDep,
    album_out,
    largest_image,
    playlist_summary_out,
)
from echostats.errors import SpotifyWithdrawn

router = APIRouter(prefix="/api/v1/browse", tags=["browse"])

Limit = Annotated[int, Query(ge=1, le=50)]
Offset = Annotated[int, Query(ge=0, le=1000)]
WITHDRAWN_501: dict[int | str, dict[str, Any]] = {
    501: {"description": "Spotify no longer offers this to development-mode apps like this one"}
}


def _withdrawn(what: str) -> SpotifyWithdrawn:
    return SpotifyWithdrawn(
        f"Spotify no longer offers {what} to development-mode apps like this EchoStats "
        "installation, so there is nothing to show; an app with extended quota gets them."
    )


class Page(BaseModel):
    total: int | None
    limit: int
    offset: int


class NewReleasesOut(Page):
    items: list[AlbumOut]


class FeaturedPlaylistsOut(Page):
    items: list[PlaylistSummaryOut]


class CategoryOut(BaseModel):
    id: str
    name: str
    icon_url: str | None


class CategoriesOut(Page):
    items: list[CategoryOut]


@router.get(
    "/new-releases",
    response_model=NewReleasesOut,
    responses=WITHDRAWN_501,
    summary="New album releases (501 where Spotify withdrew them)",
)
async def new_releases(
    user: CurrentUser, spotify: SpotifyDep, limit: Limit = 20, offset: Offset = 0
) -> NewReleasesOut:
    try:
        page = await spotify.new_releases(user.id, limit=limit, offset=offset)
    except SpotifyWithdrawn:
        raise _withdrawn("new releases") from None
    return NewReleasesOut(
        items=[album_out(a) for a in page.items], total=page.total, limit=limit, offset=offset
    )


@router.get(
    "/featured-playlists",
    response_model=FeaturedPlaylistsOut,
    responses=WITHDRAWN_501,
    summary="Spotify's featured playlists (501 where Spotify withdrew them)",
)
async def featured_playlists(
    user: CurrentUser, spotify: SpotifyDep, limit: Limit = 20, offset: Offset = 0
) -> FeaturedPlaylistsOut:
    try:
        answer = await spotify.featured_playlists(user.id, limit=limit, offset=offset)
    except SpotifyWithdrawn:
        raise _withdrawn("featured playlists") from None
    return FeaturedPlaylistsOut(
        items=[playlist_summary_out(p) for p in answer.items],
        total=answer.total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/categories",
    response_model=CategoriesOut,
    responses=WITHDRAWN_501,
    summary="Browse categories (501 where Spotify withdrew them)",
)
async def categories(
    user: CurrentUser,
    spotify: SpotifyDep,
    limit: Limit = 20,
    offset: Offset = 0,
    locale: Annotated[str | None, Query(pattern=r"^[a-z]{2}(_[A-Z]{2})?$")] = None,
) -> CategoriesOut:
    try:
        page = await spotify.categories(user.id, limit=limit, offset=offset, locale=locale)
    except SpotifyWithdrawn:
        raise _withdrawn("browse categories") from None
    return CategoriesOut(
        items=[
            CategoryOut(id=c.id, name=c.name, icon_url=largest_image(c.icons)) for c in page.items
        ],
        total=page.total,
        limit=limit,
        offset=offset,
    )
