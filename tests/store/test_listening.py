"""The recommendation and play-count reads: right answers, and plans that use the plays indexes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from echostats.domain.plays import to_document
from echostats.store import Store
from echostats.store.listening import (
    Listening,
    counts_pipeline,
    window_filter,
)
from tests.domain.factories import make_play

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 10, 1, tzinfo=UTC)


async def fill(store: Store) -> None:
    docs = []
    for i in range(120):
        play = make_play(
            user_id=f"u{i % 2}",
            track_id=f"{i % 6:022d}",
            artist_ids=("a" * 22,),
            ended_at=NOW - timedelta(days=i),
        )
        docs.append({**to_document(play), "counted": i % 10 != 1})
    await store["plays"].insert_many(docs)


def stages(plan: Any) -> list[str]:
    found: list[str] = []
    while isinstance(plan, dict):
        found.append(str(plan.get("stage")))
        if plan.get("stage") == "IXSCAN":
            found.append(str(plan.get("indexName")))
        plan = plan.get("inputStage")
    return found


async def test_listens_since_is_the_newest_counted_plays_in_range(store: Store) -> None:
    await fill(store)
    listens = await Listening(store).listens_since("u1", NOW - timedelta(days=30), 100)
    ended = sorted((listen.ended_at for listen in listens), reverse=True)
    expected = [NOW - timedelta(days=d) for d in range(1, 31, 2) if d % 10 != 1]
    assert ended == expected
    assert listens[0].artist_keys == ("spotify:artist:" + "a" * 22,)
    capped = await Listening(store).listens_since("u1", NOW - timedelta(days=365), 5)
    assert sorted(listen.ended_at for listen in capped)[0] == NOW - timedelta(days=13)


async def test_play_counts_in_one_aggregation(store: Store) -> None:
    await fill(store)
    keys = {f"spotify:track:{i:022d}" for i in (1, 3, 5)} | {"spotify:track:never"}
    counts = await Listening(store).play_counts("u1", keys)
    # u1 has the odd days, so every track key it played is 1, 3 or 5.
    assert set(counts) == {f"spotify:track:{i:022d}" for i in (1, 3, 5)}
    assert sum(n for n, _ in counts.values()) == 60 - 12  # days 1, 11, ... 111 do not count
    assert counts[f"spotify:track:{1:022d}"][1] == NOW - timedelta(days=7)
    assert await Listening(store).play_counts("u1", set()) == {}


async def test_plans_use_the_plays_indexes(store: Store) -> None:
    await fill(store)
    find = await store.db.command(
        "explain",
        {
            "find": "plays",
            "filter": window_filter("u1", NOW - timedelta(days=30)),
            "sort": {"user_id": 1, "ended_at": -1},
            "limit": 10,
        },
    )
    plan = stages(find["queryPlanner"]["winningPlan"])
    assert "COLLSCAN" not in plan
    assert plan[-2:] == ["IXSCAN", "user_ended"]
    aggregate = await store.db.command(
        "explain",
        {
            "aggregate": "plays",
            "pipeline": counts_pipeline("u1", ["spotify:track:x", "spotify:track:y"]),
            "cursor": {},
        },
    )
    plan = stages(aggregate["queryPlanner"]["winningPlan"])
    assert "COLLSCAN" not in plan
    assert plan[-2:] == ["IXSCAN", "user_track_ended_unique"]
