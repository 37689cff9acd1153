"""``GET /metrics`` on a running app: off by default, bearer-protected, and every figure the spec
lists, fed by real traffic (sign-in, polling, an import, SSE, Spotify 429s) on the real store."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from actors import topics
from actors.facade import Pipeline
from echostats.settings import Settings
from echostats.store import Store
from tests.api.test_history_import import run_import, user_id
from tests.signin import SignInWorld, signin_world
from tests.test_metrics import parse

pytestmark = pytest.mark.anyio

TOKEN = "metrics-token-for-tests-0123456789"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


@pytest.fixture
async def world(settings: Settings, store: Store) -> AsyncIterator[SignInWorld]:
    async with signin_world(settings, store, metrics_token=TOKEN) as world:
        assert (await world.sign_in()).status_code == 303
        yield world


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over every series of ``name`` whose labels include ``labels``."""
    return sum(v for key, v in samples.get(name, {}).items() if set(labels.items()) <= set(key))


async def test_metrics_are_off_without_a_token(settings: Settings, store: Store) -> None:
    async with signin_world(settings, store) as world:
        response = await world.client.get("/metrics", headers=AUTH)
    assert response.status_code == 404
    assert "ECHOSTATS_METRICS_TOKEN" in response.json()["detail"]


async def test_metrics_need_the_bearer_token(world: SignInWorld) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = await world.client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert "Authorization: Bearer" in response.json()["detail"]
    # A signed-in session is not enough: scrapers and people are told apart.
    assert (await world.client.get("/api/v1/me")).status_code == 200
    assert (await world.client.get("/metrics")).status_code == 401
    assert "/metrics" not in (await world.client.get("/api/openapi.json")).json()["paths"]


def _label_values(samples: Samples, label: str) -> set[str]:
    return {v for series in samples.values() for key in series for k, v in key if k == label}


async def test_requests_are_timed_by_route_template_and_status_class(world: SignInWorld) -> None:
    jobs = await world.client.get("/api/v1/sync-jobs/0123456789abcdef01234567")
    assert jobs.status_code == 404
    assert (await world.client.get("/no/such/AQsecret-looking-path")).status_code == 404
    assert (await world.client.get("/api/health")).status_code == 200
    samples = await scrape(world.client)
    name = "echostats_http_request_duration_seconds_count"
    assert value(samples, name, method="GET", route="/api/health", status="2xx") == 1
    assert value(samples, name, method="GET", route="/api/v1/sync-jobs/{job_id}", status="4xx") == 1
    assert value(samples, name, method="GET", route="<unmatched>", status="4xx") >= 1
    assert value(samples, name, method="GET", route="/api/v1/auth/callback", status="3xx") == 1
    routes = _label_values(samples, "route")
    assert not any("0123456789abcdef" in r or "AQsecret" in r for r in routes), routes


async def test_every_listed_figure_is_fed_by_real_traffic(world: SignInWorld) -> None:
    uid = await user_id(world)
    pipeline: Pipeline = world.app.state.pipeline
    # Poll lag: the sign-in started this user's poller; wait for its first round.
    with anyio.fail_after(30):
        while f'user="{uid}"' not in (await world.client.get("/metrics", headers=AUTH)).text:
            await anyio.sleep(0.05)
    # Spotify 429s: the next Web API request is refused once, then retried by the client.
    world.sim.faults.rate_limit(retry_after=1, count=1)
    assert (await world.client.get("/api/v1/player/devices")).status_code == 200
    job, _ = await run_import(
        world, [(p.name, p.read_bytes()) for p in SAMPLE.glob("extended_Streaming*.json")]
    )
    assert job["status"] == "completed", job
    async with pipeline.subscribe([topics.stats(uid)]):
        samples = await scrape(world.client)
    assert value(samples, "echostats_poll_lag_seconds", user=uid) >= 0
    assert total(samples, "echostats_spotify_requests_total", endpoint="/api/token", status="200")
    assert total(samples, "echostats_spotify_requests_total", status="429") == 1
    assert sum(samples["echostats_spotify_rate_limited_total"].values()) == 1
    assert total(samples, "echostats_spotify_request_duration_seconds_count") >= 3
    assert value(samples, "echostats_import_rows_total") == job["items_processed"] == 5
    assert total(samples, "echostats_plays_ingested_total", source="import") == 5
    assert value(samples, "echostats_sse_subscribers") == 1
    actors = _label_values({"x": samples["echostats_actor_up"]}, "actor")
    assert {"aggregator", "importer", "logger", "poller"} <= actors
    assert all(v == 1 for v in samples["echostats_actor_up"].values())
    assert all(v == 0 for v in samples["echostats_actor_restarts_total"].values())


async def test_no_secret_reaches_the_metrics(world: SignInWorld) -> None:
    world.sim.faults.rate_limit(retry_after=1, count=1)
    await world.client.get("/api/v1/player/devices")
    text = (await world.client.get("/metrics", headers=AUTH)).text
    doc = await world.app.state.store["tokens"].find_one({})
    assert doc is not None
    secrets = (
        TOKEN,
        world.settings.spotify_client_secret.get_secret_value(),
        world.settings.session_secret.get_secret_value(),
        *world.sim.tokens.access,  # every access token the simulator issued
        *world.sim.tokens.refresh,
    )
    assert not [s for s in secrets if s and s in text]
    assert not re.search(r"\b(?:AQ|BQ)[A-Za-z0-9]{60,}\b", text)
