"""The enricher: fills catalog data lazily, one item per request, within an hourly budget.

It never sits in the way of ingestion: instead of being fed by the aggregator it scans, every
``interval`` seconds, each user's newest plays (``scan_plays`` of them, through the plays
index), counts which track, album and artist ids are shown most, drops the ids the catalog
already has, and looks the rest up one at a time (Spotify withdrew batch lookups for
development-mode apps), most-shown first, spending at most ``budget_per_hour`` requests in any
rolling hour. A 429 makes it wait ``Retry-After`` (or the many hours of ``QUOTA_EXCEEDED``)
before the same item is tried again; Spotify's "no such item" is remembered so it is not asked
twice.

Collections (``_id`` = Spotify id; ``state`` is ``enriched`` or ``not_found``; ``genres`` is
None when Spotify gave none, which it no longer does for development-mode apps):

- ``catalog_tracks``: ``name, duration_ms, artist_ids, artist_names, album_id, album_name,
  image_url, external_url, state, enriched_at``
- ``catalog_artists``: ``name, image_url, genres, external_url, state, enriched_at``
- ``catalog_albums``: ``name, image_url, artist_ids, artist_names, release_date,
  total_tracks, genres, external_url, state, enriched_at``
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
from anyio.abc import TaskStatus

from echostats.domain.ledger import Spelling
from echostats.domain.library import (
    RequestBudget,
    Wanted,
    catalog_album,
    catalog_artist,
    catalog_track,
    rank_wanted,
    track_spelling,
)
from echostats.errors import (
    SpotifyError,
    SpotifyNotFound,
    SpotifyRateLimited,
    SpotifyReauthRequired,
)
from echostats.spotify import SpotifyClient
from echostats.store.catalog import KINDS, Catalog, Kind, RecentPlays
from echostats.store.database import skipped_while_unavailable
from echostats.store.users import Users

log = logging.getLogger(__name__)

SCAN_PLAYS = 2_000
MAX_WAITS_PER_ITEM = 3


@dataclass
class EnricherStats:
    looked_up: int = 0
    not_found: int = 0
    failed: int = 0
    waited_seconds: float = 0.0
    waits: list[float] = field(default_factory=list)


class Enricher:
    def __init__(
        self,
        spotify: SpotifyClient,
        catalog: Catalog,
        plays: RecentPlays,
        users: Users,
        *,
        learn: Callable[[str, Sequence[Spelling]], Awaitable[None]],
        budget: RequestBudget,
        now: Callable[[], datetime],
        scan_plays: int = SCAN_PLAYS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.spotify = spotify
        self.catalog = catalog
        self.plays = plays
        self.users = users
        self.learn = learn
        self.budget = budget  # may outlive this enricher: a restart keeps spending the same one
        self.now = now
        self.scan_plays = scan_plays
        self.clock = clock
        self.sleep = sleep
        self.stats = EnricherStats()

    async def wanted(self, user_id: str, limit: int) -> list[Wanted]:
        plays = await self.plays.newest(user_id, self.scan_plays)
        ids: dict[Kind, set[str]] = {kind: set() for kind in KINDS}
        for play in plays:
            if play.get("track_id"):
                ids["tracks"].add(play["track_id"])
            if play.get("album_id"):
                ids["albums"].add(play["album_id"])
            ids["artists"].update(a for a in play.get("artist_ids") or () if a)
        known = {kind: await self.catalog.known(kind, found) for kind, found in ids.items()}
        return rank_wanted(plays, {k: set(v) for k, v in known.items()}, limit)

    async def _fetch(self, user_id: str, item: Wanted) -> dict[str, Any]:
        if item.kind == "tracks":
            raw = (await self.spotify.track(user_id, item.spotify_id)).model_dump(mode="json")
            spelling = track_spelling(raw)
            if spelling is not None:  # the lookup teaches identity the track's names and ids
                await self.learn(user_id, [spelling])
            return catalog_track(raw)
        if item.kind == "albums":
            album = await self.spotify.album(user_id, item.spotify_id)
            return catalog_album(album.model_dump(mode="json"))
        artist = await self.spotify.artist(user_id, item.spotify_id)
        return catalog_artist(artist.model_dump(mode="json"))

    async def _wait(self, seconds: float) -> None:
        self.stats.waits.append(seconds)
        self.stats.waited_seconds += seconds
        await self.sleep(seconds)

    async def enrich_one(self, user_id: str, item: Wanted) -> bool:
        """Look one item up (waiting out rate limits); False when it must wait for later."""
        kind: Kind = item.kind  # type: ignore[assignment]
        for _ in range(MAX_WAITS_PER_ITEM):
            self.budget.spend(self.clock())
            try:
                fields = await self._fetch(user_id, item)
            except SpotifyNotFound:
                await self.catalog.save(kind, item.spotify_id, {}, self.now(), "not_found")
                self.stats.not_found += 1
                return True
            except SpotifyRateLimited as exc:  # quota waits included: hours, but only here
                log.info("enricher rate limited", extra={"wait": exc.retry_after})
                await self._wait(exc.retry_after)
                if self.budget.remaining(self.clock()) == 0:
                    return False
                continue
            await self.catalog.save(kind, item.spotify_id, fields, self.now())
            self.stats.looked_up += 1
            return True
        return False

    async def round(self) -> int:
        """One pass over every user within the remaining budget; returns lookups done."""
        done = 0
        for user_id in await self.users.spotify_user_ids():
            remaining = self.budget.remaining(self.clock())
            if remaining == 0:
                break
            for item in await self.wanted(user_id, remaining):
                if self.budget.remaining(self.clock()) == 0:
                    return done
                try:
                    if not await self.enrich_one(user_id, item):
                        return done
                except SpotifyReauthRequired:
                    break  # this user's token is gone; the others may still work
                except SpotifyError as exc:
                    # One bad item (or a Spotify outage) must not stop the loop for good.
                    self.stats.failed += 1
                    log.info("enrichment failed", extra={"kind": item.kind, "error": exc.detail})
                    continue
                done += 1
        return done


async def run(
    enricher: Enricher,
    interval: float,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    task_status.started()
    while True:
        with skipped_while_unavailable(log, "enrichment round"):
            await enricher.round()
        # When the budget is spent, wait until it has room again (not before the next scan).
        await enricher.sleep(max(interval, enricher.budget.wait(enricher.clock())))
