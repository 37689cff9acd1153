"""Endpoints Spotify withdrew from development-mode apps (403, or 404 for recommendations).

With ``dev_mode=False`` the simulator behaves like an extended-quota app for the ones a stats
service might use: batch lookups, new releases, categories, recommendations, related artists and
artist top tracks. The rest stay 403 in both modes (the simulator does not model them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.routing import Route

from echostats.simulator.catalog import GENRES
from echostats.simulator.webapi.catalog import valid_id
from echostats.simulator.webapi.common import ApiError, Ctx, endpoint, json_response

Handler = Callable[[Ctx], Awaitable[Response]]


def _gate(status: int) -> Callable[[Handler], Handler]:
    """Answer ``status`` in development mode, else run the extended-quota implementation."""

    def wrap(handler: Handler) -> Handler:
        async def run(ctx: Ctx) -> Response:
            if ctx.sim.config.dev_mode:
                raise ApiError(status, "Forbidden" if status == 403 else "Not found.")
            return await handler(ctx)

        run.__name__ = handler.__name__
        return run

    return wrap


def _ids(ctx: Ctx, maximum: int) -> list[str]:
    raw = ctx.query("ids")
    if not raw:
        raise ApiError(400, "Missing required parameter: ids")
    ids = raw.split(",")
    if len(ids) > maximum:
        raise ApiError(400, "Too many ids requested")
    return [valid_id(i) for i in ids]


@endpoint(app_token=True)
@_gate(403)
async def several_tracks(ctx: Ctx) -> Response:
    tracks = ctx.sim.catalog.tracks
    rows = [ctx.shapes.track(tracks[i]) if i in tracks else None for i in _ids(ctx, 50)]
    return json_response({"tracks": rows})


@endpoint(app_token=True)
@_gate(403)
async def several_albums(ctx: Ctx) -> Response:
    albums = ctx.sim.catalog.albums
    rows = [ctx.shapes.album(albums[i]) if i in albums else None for i in _ids(ctx, 20)]
    return json_response({"albums": rows})


@endpoint(app_token=True)
@_gate(403)
async def several_artists(ctx: Ctx) -> Response:
    artists = ctx.sim.catalog.artists
    rows = [ctx.shapes.artist(artists[i]) if i in artists else None for i in _ids(ctx, 50)]
    return json_response({"artists": rows})


@endpoint(app_token=True)
@_gate(403)
async def new_releases(ctx: Ctx) -> Response:
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    albums = sorted(
        ctx.sim.catalog.albums.values(), key=lambda a: (a.release_date, a.id), reverse=True
    )
    items = [ctx.shapes.simplified_album(a) for a in albums[offset : offset + limit]]
    base = f"{ctx.shapes.api_base}/browse/new-releases"
    return json_response({"albums": ctx.shapes.paging(items, base, limit, offset, len(albums))})


@endpoint(app_token=True)
@_gate(403)
async def categories(ctx: Ctx) -> Response:
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    base = f"{ctx.shapes.api_base}/browse/categories"
    rows = [
        {
            "href": f"{base}/{g.replace(' ', '')}",
            "icons": [
                {
                    "url": ctx.shapes.image(f"category-{g.replace(' ', '')}"),
                    "height": 274,
                    "width": 274,
                }
            ],
            "id": g.replace(" ", ""),
            "name": g.title(),
        }
        for g in GENRES
    ]
    page = ctx.shapes.paging(rows[offset : offset + limit], base, limit, offset, len(rows))
    return json_response({"categories": page})


@endpoint(app_token=True)
@_gate(404)
async def recommendations(ctx: Ctx) -> Response:
    limit = ctx.int_query("limit", 20, 1, 100)
    catalog = ctx.sim.catalog
    seeds = [("artist", s) for s in (ctx.query("seed_artists") or "").split(",") if s]
    seeds += [("track", s) for s in (ctx.query("seed_tracks") or "").split(",") if s]
    seeds += [("genre", s) for s in (ctx.query("seed_genres") or "").split(",") if s]
    if not 1 <= len(seeds) <= 5:
        raise ApiError(400, "At least one and at most five seeds are required")
    pool: list[str] = []
    for kind, ident in seeds:
        if kind == "artist" and ident in catalog.artists:
            pool += catalog.artist_tracks(ident)
        elif kind == "track" and ident in catalog.tracks:
            pool += catalog.artist_tracks(catalog.tracks[ident].artist_ids[0])
        elif kind == "genre":
            pool += [
                t
                for a in catalog.artists.values()
                if ident in a.genres
                for t in catalog.artist_tracks(a.id)
            ]
    chosen = list(dict.fromkeys(pool))[:limit]
    seed_rows = [
        {
            "afterFilteringSize": len(pool),
            "afterRelinkingSize": len(pool),
            "href": f"{ctx.shapes.api_base}/{kind}s/{ident}" if kind != "genre" else None,
            "id": ident,
            "initialPoolSize": len(pool),
            "type": kind.upper(),
        }
        for kind, ident in seeds
    ]
    tracks = [ctx.shapes.track(catalog.tracks[t]) for t in chosen]
    return json_response({"seeds": seed_rows, "tracks": tracks})


@endpoint(app_token=True)
@_gate(404)
async def genre_seeds(ctx: Ctx) -> Response:
    return json_response({"genres": sorted(g.replace(" ", "-") for g in GENRES)})


@endpoint(app_token=True)
@_gate(403)
async def related_artists(ctx: Ctx) -> Response:
    catalog = ctx.sim.catalog
    ident = valid_id(ctx.path_param("id"))
    if ident not in catalog.artists:
        raise ApiError(404, "Resource not found")
    genres = set(catalog.artists[ident].genres)
    related = [a for a in catalog.artists.values() if a.id != ident and genres & set(a.genres)]
    return json_response({"artists": [ctx.shapes.artist(a) for a in related[:20]]})


@endpoint(app_token=True)
@_gate(403)
async def artist_top_tracks(ctx: Ctx) -> Response:
    catalog = ctx.sim.catalog
    ident = valid_id(ctx.path_param("id"))
    if ident not in catalog.artists:
        raise ApiError(404, "Resource not found")
    tracks = sorted(
        (catalog.tracks[t] for t in catalog.artist_tracks(ident)),
        key=lambda t: (-t.popularity, t.id),
    )
    return json_response({"tracks": [ctx.shapes.track(t) for t in tracks[:10]]})


@endpoint(app_token=True)
async def always_forbidden(ctx: Ctx) -> Response:
    raise ApiError(403, "Forbidden")


# Withdrawn in February 2026 and not modelled in extended mode either.
FORBIDDEN = [
    ("/v1/episodes", ["GET"]),
    ("/v1/shows", ["GET"]),
    ("/v1/audiobooks", ["GET"]),
    ("/v1/chapters", ["GET"]),
    ("/v1/markets", ["GET"]),
    ("/v1/audio-features", ["GET"]),
    ("/v1/audio-features/{id}", ["GET"]),
    ("/v1/audio-analysis/{id}", ["GET"]),
    ("/v1/browse/categories/{category_id}", ["GET"]),
    ("/v1/browse/categories/{category_id}/playlists", ["GET"]),
    ("/v1/browse/featured-playlists", ["GET"]),
    ("/v1/users/{user_id}", ["GET"]),
    ("/v1/users/{user_id}/playlists", ["GET", "POST"]),
    ("/v1/me/tracks", ["PUT", "DELETE"]),
    ("/v1/me/albums", ["PUT", "DELETE"]),
    ("/v1/me/episodes", ["PUT", "DELETE"]),
    ("/v1/me/shows", ["PUT", "DELETE"]),
    ("/v1/me/audiobooks", ["PUT", "DELETE"]),
    ("/v1/me/following", ["PUT", "DELETE"]),
    ("/v1/me/{kind}/contains", ["GET"]),
    ("/v1/playlists/{playlist_id}/followers/contains", ["GET"]),
    ("/v1/playlists/{playlist_id}/tracks", ["GET", "POST", "PUT", "DELETE"]),
]

ROUTES = [
    Route("/v1/tracks", several_tracks, methods=["GET"]),
    Route("/v1/albums", several_albums, methods=["GET"]),
    Route("/v1/artists", several_artists, methods=["GET"]),
    Route("/v1/browse/new-releases", new_releases, methods=["GET"]),
    Route("/v1/browse/categories", categories, methods=["GET"]),
    Route("/v1/recommendations", recommendations, methods=["GET"]),
    Route("/v1/recommendations/available-genre-seeds", genre_seeds, methods=["GET"]),
    Route("/v1/artists/{id}/related-artists", related_artists, methods=["GET"]),
    Route("/v1/artists/{id}/top-tracks", artist_top_tracks, methods=["GET"]),
    *(Route(path, always_forbidden, methods=methods) for path, methods in FORBIDDEN),
]
