"""Rollups as plain values tests can compare: brute force from plays, and what the store holds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, tzinfo
from typing import Any

from echostats.domain.plays import Play, play_album_key, play_artist_keys
from echostats.domain.rollups import Counters, Merged, last_day, merge, pair_key
from echostats.store.rollups import decode

View = dict[str, Any]


def counters_view(counters: Counters) -> dict[str, tuple[int, int]]:
    return {
        counters.keys.key(i): (int(p), int(m))
        for i, (p, m) in enumerate(zip(counters.plays, counters.ms, strict=True))
    }


def merged_view(merged: Merged) -> View:
    """Every figure of a merged range; days only where something was played."""
    return {
        "plays": merged.plays,
        "ms": merged.ms,
        "days": {
            merged.day_of(i).isoformat(): (int(p), int(m))
            for i, (p, m) in enumerate(merged.days)
            if p or m
        },
        "heat": {c: (int(p), int(m)) for c, (p, m) in enumerate(merged.heat) if p or m},
        "t": counters_view(merged.sections["t"]),
        "a": counters_view(merged.sections["a"]),
        "al": counters_view(merged.sections["al"]),
        "at": counters_view(merged.sections["at"]),
    }


def brute_view(plays: Iterable[Play], tz: tzinfo) -> View:
    """The same figures by brute force over counted plays (no rollup code involved)."""
    out: View = {"plays": 0, "ms": 0, "days": {}, "heat": {}, "t": {}, "a": {}, "al": {}, "at": {}}

    def bump(target: dict[Any, tuple[int, int]], key: Any, ms: int) -> None:
        p, m = target.get(key, (0, 0))
        target[key] = (p + 1, m + ms)

    for play in plays:
        local = play.started_at.astimezone(tz)
        out["plays"] += 1
        out["ms"] += play.ms_played
        bump(out["days"], local.date().isoformat(), play.ms_played)
        bump(out["heat"], local.weekday() * 24 + local.hour, play.ms_played)
        bump(out["t"], play.track_key, play.ms_played)
        for key in play_artist_keys(play):
            bump(out["a"], key, play.ms_played)
            bump(out["at"], pair_key(key, play.track_key), play.ms_played)
        album = play_album_key(play)
        if album is not None:
            bump(out["al"], album, play.ms_played)
    return out


def stored_view(docs: Iterable[dict[str, Any]], level: str = "d") -> View:
    """Every stored rollup of one level merged (the whole history at that level)."""
    rollups = [decode(d) for d in docs if d["level"] == level]
    if not rollups:
        return merged_view(merge([], date(2000, 1, 1), date(2000, 1, 1)))
    first = min(r.first for r in rollups)
    last = max(last_day(r.level, r.period) for r in rollups)
    return merged_view(merge(rollups, first, last))
