"""Prometheus metrics: counters, gauges and histograms in the text exposition format (0.0.4).

Written here rather than taken from ``prometheus-client``: that library keeps a process-wide
default registry (two apps in one test process would share counters), and what EchoStats needs is
small: a few labelled counters and histograms, plus gauges read from the pipeline at scrape time.
One ``Metrics`` is built per app by ``create_app`` and handed to whoever records into it.

Labels never carry a secret or a raw URL: routes are templates (``/api/v1/sync-jobs/{job_id}``),
Spotify endpoints are the client's templates, and an unknown path is ``<unmatched>``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["counter", "gauge", "histogram"]
Labels = Mapping[str, str]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; HTTP answers from the store are milliseconds, Spotify calls up to its 10 s timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Family:
    """One metric with its samples, as rendered: ``samples`` are (suffix, labels, value)."""

    name: str
    kind: Kind
    help: str
    samples: Sequence[tuple[str, Labels, float]]


Collector = Callable[[], Iterable[Family]]


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for suffix, labels, value in family.samples:
            text = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items())
            label_part = "{" + text + "}" if text else ""
            lines.append(f"{family.name}{suffix}{label_part} {_number(value)}")
    return "\n".join(lines) + "\n"


@dataclass
class _Metric:
    name: str
    help: str
    labelnames: tuple[str, ...] = ()

    def _key(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple(str(labels[name]) for name in self.labelnames)

    def _labels(self, key: tuple[str, ...]) -> dict[str, str]:
        return dict(zip(self.labelnames, key, strict=True))


@dataclass
class Counter(_Metric):
    _values: dict[tuple[str, ...], float] = field(default_factory=dict)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def family(self) -> Family:
        samples = [("_total", self._labels(k), v) for k, v in sorted(self._values.items())]
        return Family(self.name, "counter", self.help, samples)


@dataclass
class _Series:
    buckets: list[int]
    count: int = 0
    sum: float = 0.0


@dataclass
class Histogram(_Metric):
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    _series: dict[tuple[str, ...], _Series] = field(default_factory=dict)

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series([0] * len(self.buckets))
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                series.buckets[i] += 1
        series.count += 1
        series.sum += value

    def count(self, **labels: str) -> int:
        series = self._series.get(self._key(labels))
        return series.count if series else 0

    def family(self) -> Family:
        samples: list[tuple[str, Labels, float]] = []
        for key, series in sorted(self._series.items()):
            labels = self._labels(key)
            for bound, hits in zip(self.buckets, series.buckets, strict=True):
                samples.append(("_bucket", {**labels, "le": _number(bound)}, hits))
            samples.append(("_bucket", {**labels, "le": "+Inf"}, series.count))
            samples.append(("_sum", labels, series.sum))
            samples.append(("_count", labels, series.count))
        return Family(self.name, "histogram", self.help, samples)


def gauge(name: str, help_text: str, values: Iterable[tuple[Labels, float]]) -> Family:
    return Family(name, "gauge", help_text, [("", labels, value) for labels, value in values])


def counter(name: str, help_text: str, values: Iterable[tuple[Labels, float]]) -> Family:
    """A counter whose running total is kept elsewhere (read at scrape time)."""
    return Family(
        name, "counter", help_text, [("_total", labels, value) for labels, value in values]
    )


def status_class(status: int) -> str:
    """``200`` → ``2xx``; no answer at all (0) → ``none``."""
    return f"{status // 100}xx" if 100 <= status < 600 else "none"


class PollLag:
    """When each user's poller last finished a round, for ``echostats_poll_lag_seconds``.

    A poller reports each successful round and its end; only users this replica polls appear.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._last: dict[str, float] = {}

    def polled(self, user_id: str) -> None:
        self._last[user_id] = self._monotonic()

    def stopped(self, user_id: str) -> None:
        self._last.pop(user_id, None)

    def lags(self) -> dict[str, float]:
        now = self._monotonic()
        return {user: max(0.0, now - at) for user, at in self._last.items()}


class Metrics:
    """Everything ``/metrics`` shows. Recorders call the methods; collectors are read at scrape."""

    def __init__(self) -> None:
        self.http_requests = Histogram(
            "echostats_http_request_duration_seconds",
            "Time from an HTTP request to its response headers (a stream: until it opens), "
            "by method, route template and status class.",
            ("method", "route", "status"),
        )
        self.plays_ingested = Counter(
            "echostats_plays_ingested",
            "Plays handed to the aggregator, by source (poll, import) and what became of them "
            "(stored, merged into a stored play, duplicate).",
            ("source", "outcome"),
        )
        self.spotify_requests = Counter(
            "echostats_spotify_requests",
            "Outbound Spotify requests by method, endpoint template and status code "
            "(0: no answer).",
            ("method", "endpoint", "status"),
        )
        self.spotify_rate_limited = Counter(
            "echostats_spotify_rate_limited",
            "Spotify answers with status 429, by endpoint template.",
            ("endpoint",),
        )
        self.spotify_latency = Histogram(
            "echostats_spotify_request_duration_seconds",
            "Latency of outbound Spotify requests, by endpoint template.",
            ("endpoint",),
        )
        self.import_rows = Counter(
            "echostats_import_rows",
            "Rows read from uploaded privacy-export files (every row, counted or skipped).",
        )
        self.poll_lag = PollLag()
        self.import_rows.inc(0)  # shown as 0 before the first import, not missing
        self._collectors: dict[str, Collector] = {}

    def set_collector(self, name: str, collector: Collector) -> None:
        """A callable returning families computed at scrape time (pipeline state); a second
        one under the same name (the app started again) replaces the first."""
        self._collectors[name] = collector

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.observe(seconds, method=method, route=route, status=status_class(status))

    def observe_spotify_call(
        self, method: str, endpoint: str, status: int, latency_ms: float
    ) -> None:
        self.spotify_requests.inc(method=method, endpoint=endpoint, status=str(status))
        if status == 429:
            self.spotify_rate_limited.inc(endpoint=endpoint)
        self.spotify_latency.observe(latency_ms / 1000, endpoint=endpoint)

    def families(self) -> list[Family]:
        families = [
            self.http_requests.family(),
            self.plays_ingested.family(),
            self.import_rows.family(),
            self.spotify_requests.family(),
            self.spotify_rate_limited.family(),
            self.spotify_latency.family(),
            gauge(
                "echostats_poll_lag_seconds",
                "Seconds since the last successful poll round of each user this replica polls.",
                (({"user": user}, lag) for user, lag in sorted(self.poll_lag.lags().items())),
            ),
        ]
        for collector in self._collectors.values():
            families.extend(collector())
        return families

    def render(self) -> str:
        return render(self.families())
