"""Restarting the demo keeps it recording. Each start serves a new simulator — a Spotify that
has never seen the tokens the last run stored — so without a fresh sign-in the first refresh is
refused and polling stops for good."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from echostats.demo import demo_environment
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.store import Store
from echostats.store.users import Users
from tests.signin import signin_world

pytestmark = pytest.mark.anyio


async def test_a_restarted_demo_signs_its_listener_in_again(
    settings: Settings, store: Store
) -> None:
    demo = {"demo_mode": True, "demo_history_days": 0}
    first = Simulator(SimulatorConfig(seed=7))
    async with signin_world(settings, store, first, **demo) as world:
        assert (await world.client.get("/api/v1/auth/demo-login")).status_code == 303
        user_id = (await world.client.get("/api/v1/me")).json()["id"]
        # Tokens from before the restart: valid at the first simulator only.
        await store["tokens"].update_one(
            {"_id": user_id}, {"$set": {"expires_at": datetime.now(UTC)}}
        )

    restarted = Simulator(SimulatorConfig(seed=7))
    async with signin_world(settings, store, restarted, **demo) as world:
        health = await world.app.state.auth.tokens.health(user_id)
        assert health is not None
        assert not health.reauth_required, health.reason
        # The browser's session from before the restart still works, and so does Spotify.
        user = await Users(store).get(user_id)
        assert user is not None
        session = world.app.state.auth.signer.issue(
            user_id, user.session_version, datetime.now(UTC)
        )
        headers = {"Authorization": f"Bearer {session}"}
        response = await world.client.get("/api/v1/player/devices", headers=headers)
        assert response.status_code == 200, response.text


async def test_a_restarted_demo_serves_its_simulator_where_it_was(settings: Settings) -> None:
    """Cover art URLs in the catalog name the simulator's address: a restart keeps the port."""
    async with demo_environment(settings) as (first, _):
        pass
    async with demo_environment(settings) as (again, _):
        assert again.spotify_api_url == first.spotify_api_url
