"""When two plays are the same play, which one wins, and in-upload duplicate detection.

Two plays are the same when the user matches, the track matches (same track key; or, when one
side has no Spotify id, the same name key) and the end times agree within a tolerance that
depends on how precise each end time is:

* poll vs poll (ms precision): within 1 s. Both stamps are the same recently-played value; the
  second only absorbs a re-serialisation.
* extended vs extended (s), account vs account (min): exactly equal. A re-imported row carries
  the identical stamp, and distinct rows are distinct plays (the store's unique key agrees).
* poll vs extended: within 10 s. ``ts`` is truncated to the second and comes from another
  pipeline than ``played_at``. 10 s stays far below the 30 s counting threshold, so two
  counted plays of one track (the later one lasted >= 30 s, so it ended >= 30 s later) never
  fall inside it.
* account vs anything finer: ``endTime`` is truncated to the minute, so the true end lies in
  [endTime, endTime + 60 s); with the same 10 s cross-pipeline slack the finer stamp must lie
  in [endTime - 10 s, endTime + 70 s]. This window can hold two short plays of one track; then
  the first found is taken, a risk accepted because account data is the coarse fallback format.

Scrobbles (``SCROBBLE_PRECISIONS``) stamp the START of a play, to the second (ListenBrainz's
``listened_at``, Last.fm's JSON) or to the minute (Last.fm's CSV exports); their end is only
start + the length the client sent, and a track skipped after half its length, or paused,
ends elsewhere. So whenever one side is a scrobble the two STARTS are compared, not the ends:

* the other side's start is ``ended_at - ms_played``: exact for an export row (up to pauses),
  the poller's estimate for a polled play (its error is a few seconds, ``estimate.py``);
* a stamp truncated to the minute (START_MINUTE, and account data's start, derived from a
  minute-truncated end) puts the true start in [stamp, stamp + 60 s);
* on top, the same 10 s cross-pipeline slack: a scrobbler's clock is another device's, and it
  sees the start when the player reports it. Two plays of one track that a scrobbler counted
  start at least 30 s apart (it counted the first after half the track or 4 minutes), so a
  10 s window never joins two listens; the minute-wide windows carry the same accepted risk as
  account data.
* two rows of the same minute-precision export match only when equal, as for account data.

The stored end of a scrobble may lie anywhere up to ``MAX_SPAN`` after its start, so the
aggregator's range query (``candidate_range``) widens by that much where starts are compared.
A play lasting longer than ``MAX_SPAN`` from start to end (an offline export row whose start
came from ``offline_timestamp`` hours earlier) is not matched with its scrobble: accepted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from echostats.domain.plays import SCROBBLE_PRECISIONS, TRACK_URI_PREFIX, Play, TimePrecision

_MS = TimePrecision.MILLISECOND
_S = TimePrecision.SECOND
_MIN = TimePrecision.MINUTE
_START = TimePrecision.START
_START_MIN = TimePrecision.START_MINUTE

_ZERO = timedelta(0)
_CROSS_PIPELINE = timedelta(seconds=10)
_MINUTE = timedelta(seconds=60)
# The longest a play may last from start to end and still be matched with its scrobble.
MAX_SPAN = timedelta(hours=2)

# (precision of a, precision of b) -> allowed range of b.ended_at - a.ended_at
_WINDOWS: dict[tuple[TimePrecision, TimePrecision], tuple[timedelta, timedelta]] = {
    (_MS, _MS): (-timedelta(seconds=1), timedelta(seconds=1)),
    (_S, _S): (_ZERO, _ZERO),
    (_MIN, _MIN): (_ZERO, _ZERO),
    (_MS, _S): (-_CROSS_PIPELINE, _CROSS_PIPELINE),
    (_S, _MS): (-_CROSS_PIPELINE, _CROSS_PIPELINE),
    (_MIN, _MS): (-_CROSS_PIPELINE, _MINUTE + _CROSS_PIPELINE),
    (_MIN, _S): (-_CROSS_PIPELINE, _MINUTE + _CROSS_PIPELINE),
    (_MS, _MIN): (-_MINUTE - _CROSS_PIPELINE, _CROSS_PIPELINE),
    (_S, _MIN): (-_MINUTE - _CROSS_PIPELINE, _CROSS_PIPELINE),
}


# How far after its stamped start a play may really have started: a start derived from a
# minute-truncated stamp lies in [start, start + 60 s).
_START_LATENESS: dict[TimePrecision, timedelta] = {
    _MS: _ZERO,
    _S: _ZERO,
    _MIN: _MINUTE,
    _START: _ZERO,
    _START_MIN: _MINUTE,
}


def compares_starts(a: TimePrecision, b: TimePrecision) -> bool:
    """Whether a and b are matched by their starts (one is a scrobble) or by their ends."""
    return a in SCROBBLE_PRECISIONS or b in SCROBBLE_PRECISIONS


def end_window(a: TimePrecision, b: TimePrecision) -> tuple[timedelta, timedelta]:
    """Inclusive range of ``b.ended_at - a.ended_at`` for which a and b can be one play
    (when neither is a scrobble)."""
    return _WINDOWS[(a, b)]


def start_window(a: TimePrecision, b: TimePrecision) -> tuple[timedelta, timedelta]:
    """Inclusive range of ``b.started_at - a.started_at`` for which a and b can be one play
    (when one is a scrobble)."""
    if a is b is _START_MIN:
        return _ZERO, _ZERO  # the same row of a minute-precision export carries the same stamp
    # true start = stamp + lateness, equal on both sides
    return -_START_LATENESS[b] - _CROSS_PIPELINE, _START_LATENESS[a] + _CROSS_PIPELINE


def candidate_range(play: Play) -> tuple[datetime, datetime]:
    """Inclusive ``ended_at`` range in which a stored duplicate of ``play`` could lie.

    The aggregator queries stored plays of the user in this range, then filters with
    ``same_play``. Where starts are compared, a stored play ends between its start and
    ``MAX_SPAN`` after it.
    """
    lows, highs = [], []
    for stored in TimePrecision:
        if compares_starts(stored, play.precision):
            low, high = start_window(stored, play.precision)
            lows.append(play.started_at - high)
            highs.append(play.started_at - low + MAX_SPAN)
        else:
            low, high = end_window(stored, play.precision)
            lows.append(play.ended_at - high)
            highs.append(play.ended_at - low)
    return min(lows), max(highs)


def same_track(a: Play, b: Play) -> bool:
    if a.track_key == b.track_key:
        return True
    if a.track_id is not None and b.track_id is not None:
        return False
    # An account-data row (names only) against a play with an id: compare by names.
    return a.name_key == b.name_key


def same_play(a: Play, b: Play) -> bool:
    if a.user_id != b.user_id:
        return False
    if compares_starts(a.precision, b.precision):
        low, high = start_window(a.precision, b.precision)
        gap = b.started_at - a.started_at
    else:
        low, high = end_window(a.precision, b.precision)
        gap = b.ended_at - a.ended_at
    if not low <= gap <= high:
        return False
    return same_track(a, b)


_RANKS = {_START_MIN: 0, _START: 1, _MS: 2, _MIN: 3, _S: 4}


def _rank(play: Play) -> int:
    # A scrobble carries names and another device's clock, the poller Spotify's ids and stamp;
    # an export row the real ms_played and the playback fields, the extended export more
    # precisely than account data.
    return _RANKS[play.precision]


_FILLABLE = (
    "album_name",
    "album_id",
    "duration_ms",
    "context_type",
    "context_uri",
    "platform",
    "shuffle",
    "skipped",
    "offline",
    "incognito",
    "reason_start",
    "reason_end",
    "conn_country",
)


def merge(existing: Play, incoming: Play) -> Play:
    """One play from two records of it: the preferred record's timing, gaps filled from the other.

    Preference: export over poll over scrobble, extended over account data, a scrobble's second
    over its minute; on a tie the stored play stays,
    so re-imports change nothing. The winner's ``ended_at``/``precision`` are kept, so importing
    the same file again still matches exactly. When the result differs from ``existing`` the
    aggregator replaces the stored play (the ledger follows, by the play's id).
    """
    if _rank(incoming) > _rank(existing):
        base, other = incoming, existing
    else:
        base, other = existing, incoming
    changes: dict[str, Any] = {}
    for name in _FILLABLE:
        if getattr(base, name) is None and getattr(other, name) is not None:
            changes[name] = getattr(other, name)
    if base.track_id is None and other.track_id is not None:
        changes["track_id"] = other.track_id
        changes["track_key"] = TRACK_URI_PREFIX + other.track_id
    if not base.artist_ids and other.artist_ids:
        # The poller knows every credited artist with ids; the export names only the album
        # artist. Names and ids travel together so they stay parallel.
        changes["artist_ids"] = other.artist_ids
        changes["artist_names"] = other.artist_names
    return replace(base, **changes) if changes else base


class UploadDuplicates:
    """Streaming detector of exact repeats inside one upload, in bounded memory.

    A repeat is the same ``(track_key, ended_at)`` (the store's unique key), e.g. the duplicate
    rows real exports contain. Export rows are mostly time-ordered, so only keys whose end lies
    within ``horizon`` of the newest end seen are remembered (and never more than
    ``max_entries``). A repeat that arrives later than that is not lost: the aggregator finds it
    stored and reports ``duplicate_stored``.
    """

    __slots__ = ("_horizon", "_max_entries", "_newest", "_order", "_seen")

    def __init__(self, horizon: timedelta = timedelta(hours=6), max_entries: int = 200_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1.")
        self._horizon = horizon
        self._max_entries = max_entries
        self._seen: set[tuple[str, datetime]] = set()
        self._order: deque[tuple[str, datetime]] = deque()
        self._newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._seen)

    def seen(self, play: Play) -> bool:
        """True when this key was already seen (a duplicate); otherwise remember it."""
        key = (play.track_key, play.ended_at)
        if key in self._seen:
            return True
        self._seen.add(key)
        self._order.append(key)
        if self._newest is None or play.ended_at > self._newest:
            self._newest = play.ended_at
        oldest_kept = self._newest - self._horizon
        order = self._order
        while order and (len(order) > self._max_entries or order[0][1] < oldest_kept):
            self._seen.discard(order.popleft())
        return False
