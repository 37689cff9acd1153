"""Which plays a history page shows: the filters people use, as one mask over the ledger.

Every play is in the ledger, counted or not, so a page of any filter is a mask, its total a
count, and its rows the newest of the mask — never a walk of the plays collection. Filters:

* ``start``/``end`` select by when the play started (``played_at``);
* an artist or track is a Spotify id or a name, matched through canonical identity, so plays
  recorded under any spelling of that artist or track are found;
* ``q`` is what a person types: a case- and accent-insensitive substring of the track, artist
  or album name a play was recorded with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from echostats.domain.identity import Kind, key_of
from echostats.domain.ledger_view import Index, LedgerView
from echostats.domain.plays import NAME_KEY_PREFIX, normalise_name

SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}")


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    start: datetime | None = None  # played_at (the start) >= start
    end: datetime | None = None  # played_at < end
    artist: str | None = None  # Spotify id or whole name, any case
    track: str | None = None  # Spotify id or whole name, any case
    source: str | None = None
    q: str | None = None  # substring of a track, artist or album name


def _artist_tracks(view: LedgerView, artist: str) -> npt.NDArray[np.int64]:
    ident = view.identity
    key = (
        key_of(Kind.ARTIST, artist)
        if SPOTIFY_ID.fullmatch(artist)
        else NAME_KEY_PREFIX + normalise_name(artist)
    )
    entity = ident.artists.find(key)
    return ident.tracks_of_artist(entity) if entity is not None else np.zeros(0, np.int64)


def _named_tracks(view: LedgerView, track: str) -> npt.NDArray[np.int64]:
    ident = view.identity
    if SPOTIFY_ID.fullmatch(track):
        entity = ident.tracks.find(key_of(Kind.TRACK, track))
        return np.array([] if entity is None else [entity], np.int64)
    codes = np.flatnonzero(view.spellings_titled(track))
    return np.unique(ident.track_of_entry[codes]).astype(np.int64)


def select(view: LedgerView, wanted: HistoryFilter) -> Index:
    """Indices of the matching plays, in ledger order (oldest first)."""
    c = view.columns
    if wanted.start is not None or wanted.end is not None:
        sel = view.started_in(wanted.start, wanted.end, counted=False)
        mask = np.zeros(len(c), bool)
        mask[sel] = True
    else:
        mask = np.ones(len(c), bool)
    for tracks in (
        _artist_tracks(view, wanted.artist) if wanted.artist else None,
        _named_tracks(view, wanted.track) if wanted.track else None,
    ):
        if tracks is not None:
            chosen = np.zeros(len(view.identity.tracks), bool)
            chosen[tracks] = True
            mask &= chosen[view.track]
    if wanted.source is not None:
        mask &= view.source_mask(wanted.source)
    if wanted.q:
        mask &= view.spellings_matching(wanted.q)[c.entry]
    return np.flatnonzero(mask)


def newest_page(matching: Index, skip: int, limit: int) -> Index:
    """Rows ``skip .. skip + limit - 1`` of the matches, newest first."""
    stop = len(matching) - skip
    return matching[max(stop - limit, 0) : max(stop, 0)][::-1]
