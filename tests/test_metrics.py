"""The exposition format itself: families, labels, escaping and histogram buckets."""

from __future__ import annotations

import re

import pytest

from echostats.errors import ConfigError
from echostats.metrics import Counter, Histogram, Metrics, PollLag, gauge, render, status_class
from echostats.settings import load_settings

SAMPLE_LINE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(\{(?P<labels>(?:[^"}]|"(?:[^"\\]|\\.)*")*)\})? (?P<value>\S+)$'
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """A strict reader of text format 0.0.4: every sample belongs to a family with a TYPE."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in {"counter", "gauge", "histogram"}
            assert name not in types, f"{name} declared twice"
            types[name] = kind
            continue
        match = SAMPLE_LINE.match(line)
        assert match, f"not a sample line: {line!r}"
        name = match["name"]
        family = re.sub(r"_(total|bucket|sum|count)$", "", name)
        assert family in types or name in types, f"{name} has no TYPE"
        labels = tuple(LABEL.findall(match["labels"] or ""))
        assert ",".join(f'{k}="{v}"' for k, v in labels) == (match["labels"] or "")
        samples.setdefault(name, {})[labels] = float(match["value"])
    return samples


def test_counter_renders_total_with_escaped_labels() -> None:
    hits = Counter("demo_hits", "Hits.\nSecond line", ("path",))
    hits.inc(path='a"b\\c\nd')
    hits.inc(2, path="x")
    text = render([hits.family()])
    assert "# HELP demo_hits Hits.\\nSecond line\n" in text
    assert 'demo_hits_total{path="a\\"b\\\\c\\nd"} 1\n' in text
    assert parse(text)["demo_hits_total"][(("path", "x"),)] == 2


def test_counter_refuses_to_go_down_and_wrong_labels() -> None:
    hits = Counter("demo_hits", "Hits.", ("path",))
    with pytest.raises(ValueError, match="only goes up"):
        hits.inc(-1, path="x")
    with pytest.raises(ValueError, match="takes labels"):
        hits.inc(route="x")


def test_histogram_buckets_are_cumulative_and_end_at_the_count() -> None:
    latency = Histogram("demo_seconds", "Latency.", ("route",), buckets=(0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 3.0):
        latency.observe(value, route="/a")
    samples = parse(render([latency.family()]))
    buckets = samples["demo_seconds_bucket"]
    assert buckets[(("route", "/a"), ("le", "0.1"))] == 2
    assert buckets[(("route", "/a"), ("le", "1"))] == 3
    assert buckets[(("route", "/a"), ("le", "+Inf"))] == 4
    assert samples["demo_seconds_count"][(("route", "/a"),)] == 4
    assert samples["demo_seconds_sum"][(("route", "/a"),)] == pytest.approx(3.65)


def test_gauge_and_status_classes() -> None:
    text = render([gauge("demo_open", "Open.", [({}, 3), ({"k": "v"}, 0.5)])])
    assert parse(text)["demo_open"] == {(): 3, (("k", "v"),): 0.5}
    assert [status_class(s) for s in (0, 200, 304, 429, 503)] == [
        "none",
        "2xx",
        "3xx",
        "4xx",
        "5xx",
    ]


def test_poll_lag_counts_from_the_last_round_and_forgets_stopped_users() -> None:
    now = [100.0]
    lag = PollLag(monotonic=lambda: now[0])
    lag.polled("u1")
    now[0] = 107.5
    assert lag.lags() == {"u1": 7.5}
    lag.stopped("u1")
    assert lag.lags() == {}


def test_fresh_metrics_render_every_family_once() -> None:
    samples = parse(Metrics().render())
    assert samples["echostats_import_rows_total"] == {(): 0}


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"ECHOSTATS_METRICS_TOKEN: .*at least 16"):
        load_settings(_env_file=None, metrics_token="short")
    assert load_settings(_env_file=None, metrics_token="x" * 16).metrics_token
