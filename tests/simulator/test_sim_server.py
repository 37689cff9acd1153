"""The simulator as a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import anyio
import httpx
import pytest

from echostats.simulator import Simulator, SimulatorConfig
from echostats.simulator.server import serve

pytestmark = pytest.mark.anyio


async def test_real_server_starts_answers_and_stops() -> None:
    sim = Simulator(SimulatorConfig(seed=42, realtime=True))
    reported: list[int] = []
    with anyio.fail_after(15):
        async with anyio.create_task_group() as tg:
            port = await tg.start(
                lambda task_status: serve(
                    sim, port=0, ready=reported.append, task_status=task_status
                )
            )
            assert reported == [port]
            assert port > 0
            headers = {"Authorization": f"Bearer {sim.issue_tokens('demo')['access_token']}"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                me = await client.get("/v1/me", headers=headers)
                assert me.status_code == 200
                assert me.json()["href"] == f"http://127.0.0.1:{port}/v1/users/demo"
                idle = await client.get("/v1/me/player", headers=headers)
                assert idle.status_code == 204
            tg.cancel_scope.cancel()
    assert sim.calls.count_matching(route="/v1/me") == 1
