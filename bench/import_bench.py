"""End-to-end import rate of a generated export, against the store's raw insert rate.

Generates an extended-history export (``--rows`` at ~275 plays a day, Spotify's file split),
starts the embedded store, and runs the real pipeline in-process (hub, importer, aggregator):
upload check, parse, dedup, journalled writes, rollups, job report. The rate is rows/s from submit
to the job's ``finished`` (rollups written by then); the store's raw ``insert_many`` rate with the
plays collection's indexes is measured in the same run (``bench.store_write``). Peak RSS is
this process's; Spotify calls are counted from the api_logs collection (there is no client).

Run: ``.venv/bin/python -m bench.import_bench --rows 200000``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

from actors import topics
from actors.hub import Hub
from actors.import_source import inspect_upload
from actors.pipeline import start_pipeline
from bench.common import machine, rss_mb
from bench.export_generator import write_export
from bench.store_write import play_docs, rate
from echostats.domain.rollups import Level
from echostats.store.database import Store, make_client
from echostats.store.embedded import running_embedded_server
from echostats.store.indexes import INDEXES
from echostats.store.rollups import RollupStore
from echostats.store.users import Profile, Users


def _now() -> datetime:
    return datetime.now(UTC)


async def run(rows: int, raw_docs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        # A heavy listener's density (~275 plays a day: 1M rows = ten years), so a batch touches
        # a week of rollup days, as a real export's does.
        span = timedelta(days=max(1, rows // 275))
        files, truth = write_export(root / "export", rows, "extended", span=span)
        generated = time.perf_counter() - started
        async with running_embedded_server(root / "db") as server:
            client = make_client(server.url)
            store = Store(client=client, db=client["bench"])
            try:
                await store.prepare()
                user, _ = await Users(store).upsert_from_profile(
                    Profile("bench", "Bench", None, "premium"), _now()
                )
                upload = inspect_upload([(f.name, f) for f in files])
                workdir = root / "work"
                workdir.mkdir()
                rss_before = rss_mb(server.pid) if server.pid else 0.0
                async with Hub() as hub:
                    pipeline = await start_pipeline(hub, store, _now)
                    async with pipeline.subscribe([topics.sync_jobs(user.id)]) as events:
                        t0 = time.perf_counter()
                        job_id = await pipeline.submit_import(user.id, upload, workdir)
                        async for event in events:
                            if event.name == "finished" and event.data["job_id"] == job_id:
                                break
                        elapsed = time.perf_counter() - t0
                print(
                    f"import finished in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)", flush=True
                )
                job = await store["sync_jobs"].find_one({"_id": job_id})
                assert job is not None
                report = job["report"]
                # From the year rollups: counting plays on the embedded server reads every one.
                years = await RollupStore(store).levels(user.id, Level.YEAR)
                counted = sum(year.plays for year in years)
                rollup_docs = await store["rollups"].count_documents({})
                spotify_calls = await store["api_logs"].count_documents({})
                store_rss = rss_mb(server.pid) if server.pid else 0.0
                raw_store = Store(client=client, db=client["bench_raw"])
                docs = play_docs(raw_docs)
                plays_spec = next(spec for spec in INDEXES if spec.collection == "plays")
                await raw_store["plays"].create_indexes(list(plays_spec.indexes))
                raw = await rate(raw_store, "plays", docs)
            finally:
                await client.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import_rate = rows / elapsed
    print(f"machine: {machine()}")
    print(f"export: {rows:,} rows in {len(files)} files (generated in {generated:.0f} s)")
    print(f"job {job['status']}: stored {report['stored']:,}, counted {report['counted']:,}")
    print(f"  (truth: counted {truth.counted:,}; store says {counted:,}; {rollup_docs} rollups)")
    print("| figure | value |")
    print("|---|---|")
    print(f"| import, submit → finished (s) | {elapsed:.1f} |")
    print(f"| import rate (rows/s) | {import_rate:,.0f} |")
    print(f"| import rate (stored plays/s) | {report['stored'] / elapsed:,.0f} |")
    print(f"| raw insert_many, plays indexes (docs/s) | {raw:,.0f} |")
    print(f"| ratio stored plays/s : raw | {report['stored'] / elapsed / raw:.2f} |")
    print(f"| peak RSS, app process (MiB) | {peak:.0f} |")
    print(f"| RSS store process before/after (MiB) | {rss_before:.0f} / {store_rss:.0f} |")
    print(f"| Spotify calls | {spotify_calls} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--raw-docs", type=int, default=50_000)
    args = parser.parse_args()
    anyio.run(run, args.rows, args.raw_docs)


if __name__ == "__main__":
    main()
