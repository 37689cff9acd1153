"""``GET /account/privacy/export``: the listener's privacy export (simulator only; see
``export``). Authenticated with the listener's access token, as a logged-in browser would be."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
from starlette.responses import Response
from starlette.routing import Route

from echostats.simulator.export import PLATFORMS, Listening, export_zip
from echostats.simulator.webapi.common import Ctx, endpoint


@endpoint()
async def privacy_export(ctx: Ctx) -> Response:
    user = ctx.user
    plays = list(user.played)  # a snapshot: the listener keeps playing while it renders
    listening = Listening(
        country=user.country,
        platforms={d.id: PLATFORMS.get(d.type, "unknown") for d in user.devices},
        year=datetime.fromtimestamp(ctx.now_ms / 1000, UTC).year,
    )
    body = await anyio.to_thread.run_sync(export_zip, plays, ctx.sim.catalog, listening)
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="my_spotify_data.zip"'},
    )


ROUTES = [Route("/account/privacy/export", privacy_export, methods=["GET"])]
