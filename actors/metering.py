"""What the pipeline counts for ``/metrics``, recorded at its edges.

The aggregator and the importer stay unaware of metrics: the aggregator is metered by a subclass
that counts each batch's outcome after its write, and import rows by watching the importer's
``progress``/``finished`` events on their way to the broadcaster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors.aggregator import Aggregator, Prepared
from actors.events import Event
from actors.facade import Pipeline
from actors.job_events import JobFinished, JobProgress, read_job_event
from actors.logger import RecordSink
from echostats.metrics import Collector, Counter, Family, Metrics, counter, gauge


class MeteredAggregator(Aggregator):
    """The aggregator, counting plays by source and outcome once a batch is stored."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plays_ingested = metrics.plays_ingested

    async def commit(self, prepared: Prepared) -> None:
        await super().commit(prepared)
        batch, outcome = prepared.batch, prepared.outcome
        if batch.dry_run:
            return
        sources = {play.source for play in batch.plays}
        # A batch comes from one poller or one import; "mixed" only if a caller combines them.
        source = sources.pop() if len(sources) == 1 else "mixed"
        for name, count in (
            ("stored", outcome.stored),
            ("merged", outcome.merged),
            ("duplicate", outcome.duplicates),
        ):
            if count:
                self._plays_ingested.inc(count, source=source, outcome=name)


class ImportRowMeter:
    """A ``publish`` for the importer: counts rows from its jobs' progress, then passes on.

    ``items_processed`` is a running total per job, so each event adds what is new since the
    last one; a job's ``finished`` event settles it and forgets the job.
    """

    def __init__(self, publish: Callable[[Event], Event], rows: Counter) -> None:
        self._publish = publish
        self._rows = rows
        self._seen: dict[str, int] = {}

    def __call__(self, event: Event) -> Event:
        job = read_job_event(event)
        if isinstance(job, JobProgress | JobFinished):
            seen = self._seen.get(job.job_id, 0)
            if job.items_processed > seen:
                self._rows.inc(job.items_processed - seen)
            if isinstance(job, JobFinished):
                self._seen.pop(job.job_id, None)
            else:
                self._seen[job.job_id] = max(seen, job.items_processed)
        return self._publish(event)


def pipeline_families(pipeline: Pipeline, sink: RecordSink) -> Collector:
    """Actor, live-event and call-log figures, read from the running pipeline at each scrape."""

    def collect() -> list[Family]:
        actors = sorted(pipeline.liveness().items())
        broadcast = pipeline.broadcast_stats()
        return [
            counter(
                "echostats_actor_restarts",
                "Restarts of each supervised actor after a crash.",
                (({"actor": name}, status.restarts) for name, status in actors),
            ),
            gauge(
                "echostats_actor_up",
                "1 while the actor runs, 0 while it waits to be restarted.",
                (({"actor": name}, float(status.alive)) for name, status in actors),
            ),
            gauge(
                "echostats_sse_subscribers",
                "Server-Sent Events subscriptions open now.",
                [({}, broadcast.subscribers)],
            ),
            counter(
                "echostats_sse_events_published",
                "Live events published to subscribers.",
                [({}, broadcast.published)],
            ),
            counter(
                "echostats_sse_subscribers_dropped",
                "Subscribers dropped because they could not keep up.",
                [({}, broadcast.dropped)],
            ),
            counter(
                "echostats_spotify_call_records_dropped",
                "Spotify call records not logged because the logger's buffer was full.",
                [({}, sink.dropped)],
            ),
        ]

    return collect
