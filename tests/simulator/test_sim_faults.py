"""Fault controls, rate limiting and the call log."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from echostats.simulator import Simulator, SimulatorConfig

from .conftest import BASE_URL, bearer

pytestmark = pytest.mark.anyio


async def test_rate_limit_fault(sim: Simulator, client: httpx.AsyncClient) -> None:
    h = bearer(sim)
    sim.faults.rate_limit(retry_after=7, count=2)
    for _ in range(2):
        response = await client.get("/v1/me", headers=h)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "7"
        assert response.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    assert (await client.get("/v1/me", headers=h)).status_code == 200


async def test_quota_holds_until_its_retry_after_has_passed(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    sim.faults.quota_exceeded(retry_after=48925)
    response = await client.get("/v1/tracks/" + next(iter(sim.catalog.tracks)), headers=h)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "48925"
    assert response.json() == {
        "error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}
    }
    sim.clock.advance(925)
    assert (await client.get("/v1/me", headers=bearer(sim))).headers["retry-after"] == "48000"
    sim.clock.advance(48000)
    assert (await client.get("/v1/me", headers=bearer(sim))).status_code == 200


async def test_server_errors_then_recovery(sim: Simulator, client: httpx.AsyncClient) -> None:
    h = bearer(sim)
    sim.faults.server_errors(count=2, status=502)
    statuses = [(await client.get("/v1/me", headers=h)).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]


async def test_faults_for_one_user_or_one_path(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.add_user("bob")
    sim.faults.server_errors(count=5, user="bob")
    assert (await client.get("/v1/me", headers=bearer(sim))).status_code == 200
    assert (await client.get("/v1/me", headers=bearer(sim, "bob"))).status_code == 503
    sim.faults.clear()
    sim.faults.server_errors(path="/api/token")
    token = str(sim.issue_tokens("demo")["refresh_token"])
    form = {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": "sim-client-id",
        "client_secret": "sim-client-secret",
    }
    assert (await client.post("/api/token", data=form)).status_code == 503
    assert (await client.post("/api/token", data=form)).status_code == 200


async def test_garbage_json(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.faults.garbage_json()
    response = await client.get("/v1/me/player/recently-played", headers=bearer(sim))
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_latency_and_timeout_hold_the_response(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    sim.faults.latency(30.0, count=1)
    with anyio.move_on_after(0.2) as scope:
        await client.get("/v1/me", headers=h)
    assert scope.cancelled_caught  # still waiting: the latency holds it
    sim.faults.timeout(count=1)
    with anyio.move_on_after(0.2) as scope:
        await client.get("/v1/me", headers=h)
    assert scope.cancelled_caught
    with anyio.fail_after(5):
        assert (await client.get("/v1/me", headers=h)).status_code == 200


async def test_unregistered_users_get_a_plain_text_403(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    sim.faults.unregister("demo")
    response = await client.get("/v1/me", headers=h)
    assert response.status_code == 403
    assert response.text == "User not registered in the Developer Dashboard"
    assert not response.headers["content-type"].startswith("application/json")
    sim.faults.register("demo")
    assert (await client.get("/v1/me", headers=h)).status_code == 200


async def test_owner_premium_lapse_blocks_the_app(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    sim.faults.lapse_owner_premium()
    response = await client.get("/v1/me", headers=bearer(sim))
    assert response.status_code == 403
    assert response.json()["error"]["message"].startswith("Active premium subscription required")


async def test_rolling_window_rate_limit() -> None:
    sim = Simulator(SimulatorConfig(seed=2, rate_limit=3))
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        h = bearer(sim)
        for _ in range(3):
            assert (await client.get("/v1/me", headers=h)).status_code == 200
            sim.clock.advance(10)
        limited = await client.get("/v1/me", headers=h)  # t=30: the first call has just left
        assert limited.status_code == 200
        blocked = await client.get("/v1/me", headers=h)
        assert blocked.status_code == 429
        assert blocked.headers["retry-after"] == "10"  # the call at t=10 leaves at t=40
        sim.clock.advance(10)
        assert (await client.get("/v1/me", headers=h)).status_code == 200
        # The accounts service is not throttled by the Web API window.
        assert (await client.get("/authorize")).status_code == 400


async def test_call_log_records_routes_users_and_statuses(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    h = bearer(sim)
    track = next(iter(sim.catalog.tracks))
    await client.get(f"/v1/tracks/{track}", headers=h)
    await client.get("/v1/tracks/nope", headers=h)
    await client.get("/v1/nowhere", headers=h)
    assert [(c.route, c.user_id, c.status) for c in sim.calls] == [
        ("/v1/tracks/{id}", "demo", 200),
        ("/v1/tracks/{id}", "demo", 400),
        ("/v1/nowhere", "demo", 404),
    ]
    assert sim.calls.count_matching(route="/v1/tracks/{id}") == 2
    assert sim.calls[0].path == f"/v1/tracks/{track}"
    assert sim.calls[0].at == sim.clock.now()
    missing = await client.get("/v1/nowhere", headers=h)
    assert missing.json() == {"error": {"status": 404, "message": "Service not found"}}
