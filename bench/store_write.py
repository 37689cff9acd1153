"""Raw write rate of the embedded store for play-sized documents.

``insert_many`` in batches of 1,000 (unordered) into a plays-shaped collection, once with only the
``_id`` index and once with the plays collection's declared indexes. This is the ceiling the
import figures are compared with.

Run: ``.venv/bin/python -m bench.store_write [--docs 100000]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from bench.common import machine
from echostats.store.database import Store, make_client
from echostats.store.embedded import running_embedded_server
from echostats.store.indexes import INDEXES

BATCH = 1_000


def play_docs(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Documents shaped like stored plays (~400 bytes of BSON each)."""
    rng = random.Random(seed)
    start = datetime(2016, 1, 1, tzinfo=UTC)
    docs = []
    for i in range(count):
        ended = start + timedelta(seconds=i * 180 + rng.randint(0, 60))
        ms = rng.randint(20_000, 300_000)
        track = rng.randint(0, 20_000)
        docs.append(
            {
                "user_id": "bench-user",
                "track_key": f"spotify:track:{track:022d}",
                "track_name": f"Track {track}",
                "artist_names": [f"Artist {track % 3000}"],
                "artist_keys": [f"artist-{track % 3000}"],
                "album_name": f"Album {track % 8000}",
                "album_key": f"album-{track % 8000}",
                "ended_at": ended,
                "started_at": ended - timedelta(milliseconds=ms),
                "ms_played": ms,
                "ms_played_estimated": False,
                "source": "import",
                "platform": "android",
                "shuffle": rng.random() < 0.4,
                "skipped": rng.random() < 0.2,
                "reason_start": "trackdone",
                "reason_end": "trackdone",
                "conn_country": "DE",
            }
        )
    return docs


async def rate(store: Store, collection: str, docs: list[dict[str, Any]]) -> float:
    target = store[collection]
    started = time.perf_counter()
    for i in range(0, len(docs), BATCH):
        await target.insert_many([dict(d) for d in docs[i : i + BATCH]], ordered=False)
    return len(docs) / (time.perf_counter() - started)


async def run(count: int) -> None:
    docs = play_docs(count)
    with tempfile.TemporaryDirectory() as data_dir:
        async with running_embedded_server(Path(data_dir)) as server:
            client = make_client(server.url)
            store = Store(client=client, db=client["bench"])
            try:
                bare = await rate(store, "plays_id_only", docs)
                plays_spec = next(spec for spec in INDEXES if spec.collection == "plays")
                await store["plays"].create_indexes(list(plays_spec.indexes))
                indexed = await rate(store, "plays", docs)
            finally:
                await client.close()
    print(f"machine: {machine()}")
    print(f"insert_many x{BATCH}, {count} play docs, --sync-on-commit")
    print(f"  _id index only          : {bare:,.0f} docs/s")
    print(f"  plays' declared indexes : {indexed:,.0f} docs/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    args = parser.parse_args()
    anyio.run(run, args.docs)


if __name__ == "__main__":
    main()
