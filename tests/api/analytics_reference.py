"""Brute-force reference analytics: every figure straight from a list of raw plays.

Deliberately written without the ledger code (no columns, no numpy): one loop over the plays
per figure, local times from ``astimezone``, entities from the brute-force identity
(``tests/identity_reference.py``). The routes must equal it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from echostats.domain.counters import key_id
from echostats.domain.counting import decide
from echostats.domain.plays import Play
from tests.identity_reference import Identity


@dataclass
class Ref:
    plays: list[Play]  # counted plays that started in the range
    identity: Identity  # of every stored play

    def total_ms(self) -> int:
        return sum(p.ms_played for p in self.plays)

    def ranking(self, section: str) -> list[tuple[str, int, int]]:
        plays: Counter[str] = Counter()
        ms: Counter[str] = Counter()
        for p in self.plays:
            canon = self.identity.of(p)
            keys: Sequence[str]
            if section == "t":
                keys = [canon.track]
            elif section == "a":
                keys = list(canon.artists)
            else:
                keys = [canon.album] if canon.album else []
            for k in keys:
                plays[k] += 1
                ms[k] += p.ms_played
        # Ties go by the key's hash: entities are numbered in that order.
        return sorted(
            ((k, plays[k], ms[k]) for k in plays), key=lambda r: (-r[1], -r[2], key_id(r[0]))
        )

    def hours(self, tz: ZoneInfo) -> list[tuple[int, int]]:
        out = [[0, 0] for _ in range(24)]
        for p in self.plays:
            h = p.started_at.astimezone(tz).hour
            out[h][0] += 1
            out[h][1] += p.ms_played
        return [(a, b) for a, b in out]

    def weekdays(self, tz: ZoneInfo) -> list[tuple[int, int]]:
        out = [[0, 0] for _ in range(7)]
        for p in self.plays:
            d = p.started_at.astimezone(tz).weekday()
            out[d][0] += 1
            out[d][1] += p.ms_played
        return [(a, b) for a, b in out]

    def heat(self, tz: ZoneInfo) -> dict[tuple[int, int], tuple[int, int]]:
        cells: dict[tuple[int, int], list[int]] = {}
        for p in self.plays:
            local = p.started_at.astimezone(tz)
            c = cells.setdefault((local.weekday(), local.hour), [0, 0])
            c[0] += 1
            c[1] += p.ms_played
        return {k: (v[0], v[1]) for k, v in cells.items()}

    def by_day(self, tz: ZoneInfo) -> dict[date, tuple[int, int]]:
        out: dict[date, list[int]] = {}
        for p in self.plays:
            d = out.setdefault(p.started_at.astimezone(tz).date(), [0, 0])
            d[0] += 1
            d[1] += p.ms_played
        return {k: (v[0], v[1]) for k, v in out.items()}

    def streaks(self, tz: ZoneInfo, today: date) -> tuple[int, int]:
        days = sorted({p.started_at.astimezone(tz).date() for p in self.plays})
        longest = 0
        for i in range(len(days)):
            j = i
            while j + 1 < len(days) and days[j + 1] - days[j] == timedelta(days=1):
                j += 1
            longest = max(longest, j - i + 1)
        current = 0
        day = today if today in days else today - timedelta(days=1)
        while day in days:
            current += 1
            day -= timedelta(days=1)
        return current, longest


def reference(
    plays: Sequence[Play], start: datetime | None, end: datetime, identity: Identity | None = None
) -> Ref:
    """The counted plays of ``plays`` that started in the range; entities are canonical over
    all of ``plays`` unless ``identity`` says otherwise."""
    return Ref(
        [
            p
            for p in plays
            if decide(p) is None and (start is None or p.started_at >= start) and p.started_at < end
        ],
        identity or Identity(plays),
    )


def public(key: str) -> str:
    return key.rsplit(":", 1)[1] if key.startswith("spotify:") else key


def top_shape(ranking: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
    return [
        {"rank": i + 1, "spotify_id": public(k), "play_count": p, "total_ms": m}
        for i, (k, p, m) in enumerate(ranking)
    ]
