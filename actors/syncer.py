"""One sync job for one user: the steps, what they store, and how Spotify's failures end them.

Steps, in order (each recorded on the job with status, items and error):

1. ``recently_played``: the last 50 plays, sent to the aggregator as one ``PlayBatch`` (the
   poller's message; the aggregator deduplicates, so overlap with polled plays is harmless).
2. ``top_items``: top artists and tracks for each Spotify time range, one ``top_items`` document
   per user, kind and range::

       {_id: "<user>:<artists|tracks>:<short_term|medium_term|long_term>", user_id, kind,
        time_range, fetched_at, items: [{rank, spotify_id, name, artists: [{id, name}],
        image_url}]}

3. ``playlists``: every playlist Spotify lists for the user, in ``playlists``::

       {_id: "<user>:<playlist id>", user_id, playlist_id, name, name_key (lower-case),
        description, owner_id, owner_name, owned, collaborative, public, snapshot_id,
        image_url, tracks_total, with_items (owned or collaborative), items_snapshot_id,
        items: [{position, type, spotify_id, name, artists: [{id, name}], album: {id, name},
                 duration_ms, added_at, added_by, is_local}],
        items_error, items_synced_at, synced_at, created_at}

   Items are read (``/playlists/{id}/items``) only for owned and collaborative playlists, and
   only when the playlist's ``snapshot_id`` differs from ``items_snapshot_id``; others keep
   metadata only (Spotify refuses their items to development-mode apps). Playlists Spotify no
   longer lists are deleted.
4. ``saved_albums``: the saved albums, in ``saved_albums``
   (``{_id: "<user>:<album id>", user_id, album_id, name, artists, image_url, release_date,
   total_tracks, added_at, synced_at}``); albums no longer saved are removed.

A failing step fails the job with a sentence; what earlier steps stored stays. A rate limit
whose ``Retry-After`` is short is sat out and the step retried; a long one (or the daily quota)
fails the step with the wait in the sentence. A withdrawn endpoint skips its step.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import anyio

from actors.job_events import JobReporter
from actors.messages import BatchOutcome
from echostats.domain.ledger import Spelling
from echostats.domain.library import (
    playlist_document,
    playlist_entry,
    plays_from_recent,
    saved_album_document,
    top_entries,
    track_spelling,
)
from echostats.domain.plays import Play
from echostats.errors import (
    SpotifyError,
    SpotifyForbidden,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyReauthRequired,
    SpotifyUnavailable,
    SpotifyWithdrawn,
)
from echostats.spotify import SpotifyClient
from echostats.spotify.client import TimeRange
from echostats.store.library import Playlists, SavedAlbums, TopItems
from echostats.store.users import Users

log = logging.getLogger(__name__)

T = TypeVar("T")
TIME_RANGES: tuple[TimeRange, ...] = ("short_term", "medium_term", "long_term")
TOP_LIMIT = 50
RATE_RETRIES = 2


class StepFailed(Exception):
    """A step could not finish; ``sentence`` says why, for a person."""

    def __init__(self, sentence: str, *, forbidden: bool = False) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.forbidden = forbidden


class StepSkipped(Exception):
    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@dataclass
class SyncDeps:
    spotify: SpotifyClient
    users: Users
    playlists: Playlists
    top_items: TopItems
    saved_albums: SavedAlbums
    submit_plays: Callable[[str, Sequence[Play]], Awaitable[BatchOutcome]]
    # Tracks with ids and names teach identity (``echostats.domain.identity``) what a name is.
    learn: Callable[[str, Sequence[Spelling]], Awaitable[None]]
    now: Callable[[], datetime]
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    # Longest Retry-After a sync step sits out (the client itself sits out ~10 s waits).
    max_rate_wait: float = 60.0


def failure_sentence(step: str, exc: SpotifyError) -> str:
    """What a person reads when ``exc`` stopped ``step``."""
    if isinstance(exc, SpotifyQuotaExceeded):
        hours = max(1, math.ceil(exc.retry_after / 3600))
        return (
            f"Spotify's daily request quota for this app is spent (about {hours} h to wait); "
            f"the {step} step stopped and the next sync will try again."
        )
    if isinstance(exc, SpotifyRateLimited):
        return (
            f"Spotify asked us to wait {math.ceil(exc.retry_after)} s before the next request; "
            f"the {step} step stopped and the next sync will try again."
        )
    if isinstance(exc, SpotifyReauthRequired):
        return "Spotify no longer accepts this account's sign-in; sign in again to resume syncing."
    if isinstance(exc, SpotifyUnavailable):
        return f"Spotify was unavailable during the {step} step: {exc.detail}"
    return f"Spotify refused the {step} step: {exc.detail}"


async def _patiently(deps: SyncDeps, step: str, call: Callable[[], Awaitable[T]]) -> T:
    """``call()`` with short rate-limit waits sat out; other Spotify errors end the step."""
    for attempt in range(RATE_RETRIES + 1):
        try:
            return await call()
        except SpotifyQuotaExceeded as exc:
            raise StepFailed(failure_sentence(step, exc)) from None
        except SpotifyRateLimited as exc:
            if exc.retry_after > deps.max_rate_wait or attempt == RATE_RETRIES:
                raise StepFailed(failure_sentence(step, exc)) from None
            log.info("sync rate limited; waiting", extra={"step": step, "wait": exc.retry_after})
            await deps.sleep(exc.retry_after)
        except SpotifyWithdrawn as exc:
            raise StepSkipped(f"Spotify no longer offers this to the app: {exc.detail}") from None
        except SpotifyError as exc:
            forbidden = isinstance(exc, SpotifyForbidden)
            raise StepFailed(failure_sentence(step, exc), forbidden=forbidden) from None
    raise AssertionError("unreachable")


async def _recently_played(deps: SyncDeps, reporter: JobReporter, step: dict[str, object]) -> int:
    user_id = reporter.user_id
    page = await _patiently(
        deps, "recently played", lambda: deps.spotify.recently_played(user_id, limit=50)
    )
    raw = [item.model_dump(mode="json") for item in page.items]
    plays = plays_from_recent(raw, user_id)
    if not plays:
        return 0
    outcome = await deps.submit_plays(user_id, plays)
    await reporter.add_items(len(plays), "recently_played")
    # The poller usually stored most of them already; the aggregator tells new from known.
    step["detail"] = f"{len(plays)} plays read, {outcome.stored + outcome.merged} new or improved"
    return len(plays)


async def _top_items(deps: SyncDeps, reporter: JobReporter) -> int:
    user_id = reporter.user_id
    count = 0
    for time_range in TIME_RANGES:
        artists = await _patiently(
            deps,
            "top items",
            functools.partial(
                deps.spotify.top_artists, user_id, time_range=time_range, limit=TOP_LIMIT
            ),
        )
        tracks = await _patiently(
            deps,
            "top items",
            functools.partial(
                deps.spotify.top_tracks, user_id, time_range=time_range, limit=TOP_LIMIT
            ),
        )
        for kind, page in (("artists", artists.items), ("tracks", tracks.items)):
            raw = [item.model_dump(mode="json") for item in page]
            await deps.top_items.save(user_id, kind, time_range, top_entries(kind, raw), deps.now())
            if kind == "tracks":
                await _learn(deps, user_id, raw)
            count += len(raw)
        await reporter.add_items(len(artists.items) + len(tracks.items), "top_items")
    return count


async def _learn(deps: SyncDeps, user_id: str, tracks: Sequence[Mapping[str, Any]]) -> None:
    spellings = [s for t in tracks if (s := track_spelling(t)) is not None]
    if spellings:
        await deps.learn(user_id, spellings)


async def _playlist_rows(deps: SyncDeps, user_id: str, playlist_id: str) -> list[dict[str, object]]:
    async def read() -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        async for raw in deps.spotify.iter_playlist_items(user_id, playlist_id):
            entry = playlist_entry(raw.model_dump(mode="json"), len(rows))
            if entry is not None:
                rows.append(entry)
        return rows

    return await _patiently(deps, "playlists", read)


async def _playlists(deps: SyncDeps, reporter: JobReporter, step: dict[str, object]) -> int:
    user_id = reporter.user_id
    user = await deps.users.get(user_id)
    spotify_id = (user.spotify_id if user else None) or ""  # a local user has none

    async def listing() -> list[dict[str, object]]:
        return [p.model_dump(mode="json") async for p in deps.spotify.iter_my_playlists(user_id)]

    listed = await _patiently(deps, "playlists", listing)
    stored = await deps.playlists.snapshots(user_id)
    refreshed = 0
    for raw in listed:
        meta = playlist_document(raw, user_spotify_id=spotify_id)
        playlist_id = str(meta["playlist_id"])
        if not meta["with_items"]:
            await deps.playlists.save(user_id, meta, deps.now())
        elif stored.get(playlist_id) is not None and stored[playlist_id] == meta["snapshot_id"]:
            await deps.playlists.save(user_id, meta, deps.now())  # unchanged: rows kept
        else:
            try:
                rows = await _playlist_rows(deps, user_id, playlist_id)
            except StepFailed as failed:
                # A collaborative playlist the owner locked again: keep metadata, say why.
                if not failed.forbidden:
                    raise
                await deps.playlists.save(user_id, meta, deps.now(), items_error=failed.sentence)
            else:
                await deps.playlists.save(user_id, meta, deps.now(), items=rows)
                await _learn(deps, user_id, rows)
                refreshed += 1
        await reporter.add_items(1, "playlists")
    removed = await deps.playlists.remove_missing(user_id, [str(p["id"]) for p in listed])
    step["detail"] = f"{len(listed)} playlists, {refreshed} with items re-read, {removed} removed"
    return len(listed)


async def _saved_albums(deps: SyncDeps, reporter: JobReporter, step: dict[str, object]) -> int:
    user_id = reporter.user_id
    albums: list[dict[str, object]] = []
    offset = 0
    while True:
        page = await _patiently(
            deps,
            "saved albums",
            functools.partial(deps.spotify.saved_albums, user_id, limit=50, offset=offset),
        )
        for item in page.items:
            doc = saved_album_document(item.model_dump(mode="json"))
            if doc is not None:
                albums.append(doc)
        await reporter.progress(reporter.items_processed + len(page.items), None, "saved_albums")
        offset += page.limit or len(page.items)
        if not page.next or not page.items:
            break
    removed = await deps.saved_albums.replace_all(user_id, albums, deps.now())
    step["detail"] = f"{len(albums)} saved albums, {removed} removed"
    return len(albums)


async def run_sync(deps: SyncDeps, reporter: JobReporter) -> str | None:
    """Run every step; returns None on success or the sentence that failed the job."""
    steps: tuple[tuple[str, Callable[[dict[str, object]], Awaitable[int]]], ...] = (
        ("recently_played", lambda s: _recently_played(deps, reporter, s)),
        ("top_items", lambda s: _top_items(deps, reporter)),
        ("playlists", lambda s: _playlists(deps, reporter, s)),
        ("saved_albums", lambda s: _saved_albums(deps, reporter, s)),
    )
    for action, work in steps:
        await reporter.step_started(action)
        record = reporter.steps[-1]
        try:
            items = await work(record)
        except StepSkipped as skipped:
            await reporter.step_finished(action, "skipped", detail=skipped.sentence)
            continue
        except StepFailed as failed:
            await reporter.step_finished(action, "failed", error=failed.sentence)
            return failed.sentence
        except BaseException:
            with anyio.CancelScope(shield=True):
                await reporter.step_finished(action, "failed", error="The job was stopped.")
            raise
        detail = record.get("detail")
        await reporter.step_finished(
            action, items=items, detail=str(detail) if detail is not None else None
        )
    return None
