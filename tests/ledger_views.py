"""The stored ledger against the stored plays: the invariant every write must keep.

A fresh ``Ledger`` reads only what is stored (no cache of the writer's), and must hold exactly
the plays collection: the same ids, times, listened ms, counting and names.
"""

from __future__ import annotations

from typing import Any

from echostats.domain.ledger import ms_of
from echostats.store import Store
from echostats.store.ledger_cache import Ledger

Row = tuple[Any, ...]


def _doc_row(doc: dict[str, Any]) -> Row:
    return (
        str(doc["_id"]),
        ms_of(doc["started_at"]),
        ms_of(doc["ended_at"]),
        int(doc["ms_played"]),
        bool(doc["counted"]),
        doc["source"],
        doc["track_key"],
        doc["track_name"],
        tuple(doc.get("artist_names") or ()),
        doc.get("album_name"),
        doc.get("platform"),
        doc.get("skipped"),
    )


async def ledger_rows(store: Store, user_id: str) -> list[Row]:
    view = await Ledger(store).view(user_id)
    rows = []
    for index in range(len(view)):
        r = view.row(index)
        rows.append(
            (
                r.id,
                int(view.columns.started[index]),
                int(view.columns.ended[index]),
                r.ms_played,
                r.counted,
                r.source,
                r.spelling.track_key,
                r.spelling.track_name,
                r.spelling.artist_names,
                r.spelling.album_name,
                r.strings["platform"],
                r.skipped,
            )
        )
    return rows


async def assert_ledger_matches_plays(store: Store, user_id: str) -> None:
    docs = await store["plays"].find({"user_id": user_id}).to_list()
    stored = await ledger_rows(store, user_id)
    assert sorted(stored) == sorted(_doc_row(d) for d in docs)
    assert [r[2] for r in stored] == sorted(r[2] for r in stored)  # in ledger (end) order
