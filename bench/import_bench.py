"""End-to-end import rate of a generated export, against the store's raw insert rate.

Generates an extended-history export (``--rows`` at ~275 plays a day, Spotify's file split)
and packs it into a ZIP as Spotify delivers it, starts the embedded store and the whole app
in-process (ASGI, auth, the real pipeline), and times what a person waits for: from the first
byte of ``POST /api/v1/history/import`` (the ZIP, streamed) through the job's end (plays
stored, the ledger written) until ``GET /api/v1/analytics/overview`` shows every counted play.
The job is followed on its event topic (what its SSE stream carries), which also gives the
longest gap between ``progress`` events.

The store's raw ``insert_many`` rate is measured in the same run, on the same server, with the
same work: the very play documents the import stores (parsed from the same export, outside the
clock), in batches of the importer's size, into a fresh plays collection with the plays indexes
that grows to the same size. Only the ``insert_many`` calls are timed. A baseline of small
made-up documents into an empty collection would flatter raw (the server's cost grows with the
document and the index).

CPU seconds of the store process and of this process are read over the import: the store is
single-threaded, so its busy share says how close the pipeline comes to keeping it busy.
Peak RSS is this process's; Spotify calls are counted from the api_logs collection.

Run: ``.venv/bin/python -m bench.import_bench --rows 200000``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx

from actors import topics
from actors.broadcaster import Subscription
from actors.import_source import Upload, inspect_upload, read_batches
from actors.importer import BATCH_SIZE
from bench.common import bench_settings, machine, peak_rss_mb, rss_mb
from bench.export_generator import write_export, write_zip
from echostats.app import create_app
from echostats.domain.counting import DEFAULT_RULES, decide
from echostats.store.database import Store, make_client
from echostats.store.embedded import running_embedded_server
from echostats.store.indexes import INDEXES
from echostats.store.plays import new_play_id, play_document
from echostats.store.users import Profile, Users


def _now() -> datetime:
    return datetime.now(UTC)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def raw_insert_rate(store: Store, upload: Upload, user_id: str) -> tuple[int, float]:
    """The import's own play documents, inserted plainly; returns (documents, docs/s)."""
    plays = store["plays"]
    spec = next(spec for spec in INDEXES if spec.collection == "plays")
    await plays.create_indexes(list(spec.indexes))
    batches = read_batches(upload, user_id, DEFAULT_RULES, BATCH_SIZE)
    inserted, busy = 0, 0.0
    for batch in batches:
        docs = [
            play_document(new_play_id(play), play, counted=decide(play) is None, batch="raw")
            for play in batch.plays
        ]
        if not docs:
            continue
        t0 = time.perf_counter()
        result = await plays.insert_many(docs, ordered=False)
        busy += time.perf_counter() - t0
        inserted += len(result.inserted_ids)
    return inserted, inserted / busy


async def run(rows: int, cache_size: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        # A heavy listener's density (~275 plays a day: 1M rows = ten years), so a batch touches
        # a week of rollup days, as a real export's does.
        span = timedelta(days=max(1, rows // 275))
        files, truth = write_export(root / "export", rows, "extended", span=span)
        archive = write_zip(root / "my_spotify_data.zip", files, root / "export")
        generated = time.perf_counter() - started
        zipped_mib = archive.stat().st_size / 2**20
        async with running_embedded_server(root / "db", cache_size=cache_size) as server:
            assert server.pid is not None
            client = make_client(server.url)
            # As the app opens its own embedded store (so, like a real install, unbridged).
            store = Store(client=client, db=client["bench"], embedded=server)
            try:
                await store.prepare()  # the app prepares only a store it opens itself
                settings = bench_settings(root / "data")
                app = create_app(settings, store=store)
                async with app.router.lifespan_context(app):
                    user, _ = await Users(store).upsert_from_profile(
                        Profile("bench", "Bench", None, "premium"), _now()
                    )
                    token = app.state.auth.signer.issue(user.id, 1, _now())
                    async with httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app),
                        base_url=settings.base_url,
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=600,
                    ) as http:
                        rss_before = rss_mb(server.pid)
                        store_cpu0, app_cpu0 = cpu_seconds(server.pid), own_cpu_seconds()
                        topic = [topics.sync_jobs(user.id)]
                        async with app.state.pipeline.subscribe(topic) as events:
                            result = await import_through_api(http, events, archive, truth.counted)
                        store_cpu = cpu_seconds(server.pid) - store_cpu0
                        app_cpu = own_cpu_seconds() - app_cpu0
                spotify_calls = await store["api_logs"].count_documents({})
                ledger_docs = await store["ledger"].count_documents({})
                store_rss, store_peak = rss_mb(server.pid), peak_rss_mb(server.pid)
                upload = inspect_upload([(f.name, f) for f in files])
                raw_store = Store(client=client, db=client["bench_raw"])
                raw_docs, raw = await raw_insert_rate(raw_store, upload, user.id)
            finally:
                await client.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    elapsed, report = result.elapsed, result.report
    import_rate = rows / elapsed
    stored_rate = report["stored"] / elapsed
    print(f"machine: {machine()}")
    print(f"export: {rows:,} rows in {len(files)} files, {zipped_mib:.0f} MiB "
          f"zipped (generated in {generated:.0f} s)")  # fmt: skip
    print(f"job {result.status}: stored {report['stored']:,}, counted {report['counted']:,}")
    print(f"  (truth: counted {truth.counted:,}; overview says {result.overview_plays:,}; "
          f"{ledger_docs} ledger months)")  # fmt: skip
    print("| figure | value |")
    print("|---|---|")
    print(f"| upload → job finished → overview reflects it (s) | {elapsed:.1f} |")
    print(f"|   of which the upload request (s) | {result.upload_seconds:.1f} |")
    print(f"|   of which the first overview (s) | {result.overview_seconds:.1f} |")
    print(f"| import rate (rows/s) | {import_rate:,.0f} |")
    print(f"| import rate (stored plays/s) | {stored_rate:,.0f} |")
    print(f"| raw insert_many, same {raw_docs:,} documents (docs/s) | {raw:,.0f} |")
    print(f"| ratio stored plays/s : raw | {stored_rate / raw:.2f} |")
    print(f"| ratio rows/s : raw | {import_rate / raw:.2f} |")
    print(f"| longest gap between progress events (s) | {result.longest_gap:.1f} |")
    print(f"| store process CPU during import (s, busy share) | {store_cpu:.0f}, "
          f"{store_cpu / elapsed:.0%} |")  # fmt: skip
    print(f"| app process CPU during import (s) | {app_cpu:.0f} |")
    print(f"| peak RSS, app process (MiB) | {peak:.0f} |")
    print(f"| RSS store process before/after/peak (MiB, cache {cache_size or 'default'}) | "
          f"{rss_before:.0f} / {store_rss:.0f} / {store_peak:.0f} |")  # fmt: skip
    print(f"| Spotify calls | {spotify_calls} |")


@dataclass(frozen=True)
class Imported:
    elapsed: float
    upload_seconds: float
    overview_seconds: float  # the first overview after the job (cold)
    status: str
    report: dict[str, Any]
    overview_plays: int
    longest_gap: float


async def import_through_api(
    http: httpx.AsyncClient, events: Subscription, archive: Path, counted: int
) -> Imported:
    """POST the ZIP, follow the job's events (what the SSE stream sends) until it ends, then
    read the all-time overview; timed from the first byte of the upload until the overview
    shows every counted play."""
    t0 = time.perf_counter()
    with archive.open("rb") as body:  # streamed by httpx, never read whole
        response = await http.post(
            "/api/v1/history/import", files={"file": (archive.name, body, "application/zip")}
        )
    upload_seconds = time.perf_counter() - t0
    response.raise_for_status()
    job_id = response.json()["job_id"]
    last_progress, longest_gap = time.perf_counter(), 0.0
    async for event in events:
        if event.data.get("job_id") != job_id:
            continue
        if event.name == "progress":
            moment = time.perf_counter()
            longest_gap = max(longest_gap, moment - last_progress)
            last_progress = moment
        if event.name == "finished":
            break
    finished = time.perf_counter()
    overview = await http.get("/api/v1/analytics/overview", params={"period": "all_time"})
    plays = overview.raise_for_status().json()["total_tracks_played"]
    elapsed = time.perf_counter() - t0
    job = (await http.get(f"/api/v1/sync-jobs/{job_id}")).raise_for_status().json()
    if plays != counted:
        raise SystemExit(f"the overview shows {plays:,} plays, the export has {counted:,}")
    return Imported(
        elapsed,
        upload_seconds,
        elapsed - (finished - t0),
        job["status"],
        job["report"],
        plays,
        longest_gap,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--cache-size", default="", help="the embedded store's WiredTiger cache")
    args = parser.parse_args()
    anyio.run(run, args.rows, args.cache_size)


if __name__ == "__main__":
    main()
