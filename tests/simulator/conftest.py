from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from echostats.simulator import Simulator, SimulatorConfig

BASE_URL = "http://sim.test"


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimulatorConfig(seed=42))


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


def bearer(sim: Simulator, user: str = "demo", scope: str | None = None) -> dict[str, str]:
    tokens = sim.issue_tokens(user) if scope is None else sim.issue_tokens(user, scope)
    return {"Authorization": f"Bearer {tokens['access_token']}"}
