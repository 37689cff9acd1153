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


def _image_urls(body: object) -> list[str]:
    """Every ``images[].url`` / ``icons[].url`` anywhere in a JSON answer."""
    if isinstance(body, list):
        return [url for item in body for url in _image_urls(item)]
    if not isinstance(body, dict):
        return []
    found = [
        str(image["url"])
        for key in ("images", "icons")
        for image in body.get(key) or []
        if isinstance(image, dict)
    ]
    return found + [url for value in body.values() for url in _image_urls(value)]


async def test_cover_art_is_served_by_the_simulator_itself() -> None:
    """A demo shows pictures without any request leaving the machine: every image URL in the
    simulator's answers is its own ``/image/...`` route, and that route answers a picture."""
    sim = Simulator(SimulatorConfig(seed=42, realtime=True))
    album = sorted(sim.catalog.albums)[0]
    artist = sorted(sim.catalog.artists)[0]
    with anyio.fail_after(15):
        async with anyio.create_task_group() as tg:
            port = await tg.start(lambda task_status: serve(sim, task_status=task_status))
            root = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {sim.issue_tokens('demo')['access_token']}"}
            async with httpx.AsyncClient(base_url=root, headers=headers) as client:
                urls: list[str] = []
                for path in ("/v1/me", f"/v1/albums/{album}", f"/v1/artists/{artist}",
                             "/v1/me/playlists", "/v1/me/albums"):  # fmt: skip
                    answer = await client.get(path)
                    assert answer.status_code == 200, (path, answer.text)
                    urls += _image_urls(answer.json())
                assert len(urls) >= 8
                assert all(url.startswith(f"{root}/image/") for url in urls), urls
                for url in urls[:3]:
                    picture = await client.get(url)
                    assert picture.status_code == 200
                    assert picture.headers["content-type"].startswith("image/svg+xml")
                    assert picture.text.startswith("<svg")
            tg.cancel_scope.cancel()
