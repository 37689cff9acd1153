"""``/me``, ``/me/top/*`` and ``/me/player/recently-played``: who the user is and what they play."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from echostats.simulator.clock import iso_ms
from echostats.simulator.webapi.common import ApiError, Ctx, endpoint, json_response

RECENT_MAX = 50  # Spotify keeps only the last 50 plays


@endpoint()
async def me(ctx: Ctx) -> Response:
    user = ctx.user
    body = ctx.shapes.user_ref(user.id, user.display_name)
    body.update(
        account_id=user.account_id,
        images=[
            {
                "url": ctx.shapes.image(f"ab6775700000ee85{user.image_key}"),
                "height": 300,
                "width": 300,
            },
            {
                "url": ctx.shapes.image(f"ab67757000003b82{user.image_key}"),
                "height": 64,
                "width": 64,
            },
        ],
        # Removed per the February 2026 guide but still returned in October 2026 (SPOTIFY.md 1.6).
        followers={"href": None, "total": 3},
    )
    # Private details only with the scopes that grant them (the spec's field notes).
    if "user-read-private" in ctx.scopes:
        body.update(
            country=user.country,
            explicit_content={"filter_enabled": False, "filter_locked": False},
            product=user.product,
        )
    if "user-read-email" in ctx.scopes:
        body["email"] = user.email
    return json_response(body)


def _time_range(ctx: Ctx) -> str:
    value = ctx.query("time_range") or "medium_term"
    if value not in ("short_term", "medium_term", "long_term"):
        raise ApiError(400, "Invalid time range")
    return value


@endpoint("user-top-read")
async def top_artists(ctx: Ctx) -> Response:
    time_range = _time_range(ctx)
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    ids = ctx.sim.world.top_artists(ctx.user, time_range, ctx.now_ms)
    artists = ctx.sim.catalog.artists
    items = [ctx.shapes.artist(artists[a]) for a in ids[offset : offset + limit]]
    return json_response(
        ctx.shapes.paging(items, _base(ctx, "artists", time_range), limit, offset, len(ids))
    )


@endpoint("user-top-read")
async def top_tracks(ctx: Ctx) -> Response:
    time_range = _time_range(ctx)
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    ids = ctx.sim.world.top_tracks(ctx.user, time_range, ctx.now_ms)
    tracks = ctx.sim.catalog.tracks
    items = [ctx.shapes.track(tracks[t]) for t in ids[offset : offset + limit]]
    return json_response(
        ctx.shapes.paging(items, _base(ctx, "tracks", time_range), limit, offset, len(ids))
    )


def _base(ctx: Ctx, kind: str, time_range: str) -> str:
    return f"{ctx.shapes.api_base}/me/top/{kind}?time_range={time_range}"


@endpoint("user-read-recently-played")
async def recently_played(ctx: Ctx) -> Response:
    limit = ctx.int_query("limit", 20, 1, 50)
    after = ctx.int_query("after", -1, 0, 2**63 - 1)
    before = ctx.int_query("before", -1, 0, 2**63 - 1)
    if after >= 0 and before >= 0:
        raise ApiError(400, "Only one of after or before may be specified")
    lag_ms = int(ctx.sim.config.history_lag_s * 1000)
    # Oldest first; only plays old enough to have surfaced, and only the newest 50 of those.
    visible = [p for p in ctx.user.history if p.ended_ms + lag_ms <= ctx.now_ms][-RECENT_MAX:]
    if after >= 0:
        # ``after`` returns the plays just after the cursor (the oldest ones first).
        chosen = [p for p in visible if p.ended_ms > after][:limit]
    else:
        older = [p for p in visible if before < 0 or p.ended_ms < before]
        chosen = older[-limit:]
    chosen.reverse()  # newest first on the wire
    catalog = ctx.sim.catalog
    items = [
        {
            "track": ctx.shapes.track(catalog.tracks[p.track_id]),
            "played_at": iso_ms(p.ended_at),
            "context": ctx.shapes.context(p.context_uri),
        }
        for p in chosen
    ]
    base = f"{ctx.shapes.api_base}/me/player/recently-played"
    cursors = None
    next_url = None
    if chosen:
        cursors = {"after": str(chosen[0].ended_ms), "before": str(chosen[-1].ended_ms)}
        next_url = f"{base}?{urlencode({'before': chosen[-1].ended_ms, 'limit': limit})}"
    body = {
        "items": items,
        "next": next_url,
        "cursors": cursors,
        "limit": limit,
        "href": ctx.href(),
    }
    return json_response(body)


ROUTES = [
    Route("/v1/me", me, methods=["GET"]),
    Route("/v1/me/top/artists", top_artists, methods=["GET"]),
    Route("/v1/me/top/tracks", top_tracks, methods=["GET"]),
    Route("/v1/me/player/recently-played", recently_played, methods=["GET"]),
]
