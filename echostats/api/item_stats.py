"""A track's, artist's or album's stats for its detail page, over the ledger, in any zone.

The entity's counted plays are one mask over the ledger (its canonical tracks), so an artist
with 10,000 plays costs the same few milliseconds as a track with ten, whichever spelling the
plays were recorded under.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

import numpy as np
from pydantic import BaseModel

from echostats.api.timestamps import Timestamp
from echostats.domain import zones
from echostats.domain.counters import Counters
from echostats.domain.identity import Identity, Kind, public_id
from echostats.domain.ledger import instant_of
from echostats.domain.ledger_view import LedgerView
from echostats.domain.ranking import Ranked, Ranking
from echostats.store.identity_merges import MergeRecord


class MonthCount(BaseModel):
    month: str  # "2024-03", in the user's time zone
    plays: int
    ms: int


class UserStats(BaseModel):
    plays: int
    total_ms: int
    first_played: Timestamp | None
    last_played: Timestamp | None
    plays_per_month: list[MonthCount]


class MergeOut(BaseModel):
    id: str  # DELETE /api/v1/catalog/merges/{id} undoes it
    kind: Kind
    source: str  # public id of what was merged away
    source_name: str  # its name when it was merged
    target: str
    target_name: str
    created_at: Timestamp


def merge_out(record: MergeRecord) -> MergeOut:
    m = record.merge
    return MergeOut(
        id=m.id,
        kind=m.kind,
        source=public_id(m.source),
        source_name=record.source_name,
        target=public_id(m.target),
        target_name=record.target_name,
        created_at=record.created_at,
    )


def stats_of(view: LedgerView, tracks: np.ndarray, tz: tzinfo) -> UserStats:
    """Counted plays of these canonical tracks: totals, first and last start, per local month."""
    sel = view.plays_of_tracks(tracks, counted=True)
    started, ms = view.columns.started[sel], view.columns.ms[sel]
    if not len(sel):
        return UserStats(
            plays=0, total_ms=0, first_played=None, last_played=None, plays_per_month=[]
        )
    months = zones.local_ms(tz, started).astype("datetime64[ms]").astype("datetime64[M]")
    labels, inverse = np.unique(months, return_inverse=True)
    plays = np.bincount(inverse)
    totals = np.bincount(inverse, weights=ms).round().astype(np.int64)
    return UserStats(
        plays=len(sel),
        total_ms=int(ms.sum()),
        first_played=instant_of(int(started.min())),
        last_played=instant_of(int(started.max())),
        plays_per_month=[
            MonthCount(month=str(m), plays=int(p), ms=int(t))
            for m, p, t in zip(labels, plays, totals, strict=True)
        ],
    )


def ranked_tracks(view: LedgerView, tracks: np.ndarray, limit: int) -> list[Ranked]:
    """These canonical tracks by their counted plays, most first (unplayed ones left out)."""
    counts = view.counts(view.plays_of_tracks(tracks, counted=True), Kind.TRACK)
    ordered = np.sort(tracks).astype(np.int64)
    played = ordered[counts.plays[ordered] > 0]
    return Ranking(Counters(played, counts.plays[played], counts.ms[played])).top(limit)


def merges_into(
    identity: Identity, records: Sequence[MergeRecord], kind: Kind, entity: int
) -> list[MergeOut]:
    """The person's merges that folded something into this entity (each can be undone)."""
    entities = identity.entities(kind)
    took_effect = {m.id for m in identity.merges}
    return [
        merge_out(r)
        for r in records
        if r.merge.id in took_effect
        and r.merge.kind is kind
        and entities.find(r.merge.target) == entity
    ]
