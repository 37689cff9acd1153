"""Demo mode: a Spotify simulator served beside the app, with the app's settings wired to it.

``make demo`` is a newcomer's first minute. The simulator runs as a real HTTP server on a free
loopback port (so the browser can follow the OAuth redirect to its consent page) and in real
time, with the demo listener's autoplay back-filled over the last days so there is history to
see at once. The app then talks to it exactly as it would talk to Spotify: same client, same
OAuth flow, only the base URLs and credentials differ.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import anyio
from pydantic import SecretStr

from echostats.security.keys import new_key_entry, new_session_secret
from echostats.settings import Settings
from echostats.simulator import Simulator, SimulatorConfig
from echostats.simulator.server import bind, serve

log = logging.getLogger(__name__)

DEMO_USER = "demo"
DEMO_SEED = 2026
BACKFILL = timedelta(days=2)
# A heavy listener's eras: each year of the past brings 300 artists played a lot for a while and
# 1,500 heard in passing, so the default 730 days (~55,000 plays) hold ~19,000 distinct tracks,
# ~3,500 artists and ~5,400 albums, as a real listener's would (tests/simulator/test_sim_eras.py).
DEMO_ERA_ARTISTS = 300


def demo_simulator(
    seed: int = DEMO_SEED, history: timedelta = BACKFILL, **changes: Any
) -> Simulator:
    """A real-time simulator whose demo listener has been listening for ``history`` (at least
    the last days, so recently-played has something at once) and is listening now. It behaves
    like Spotify does: rate limits, a recently-played lag, oddities
    (``SimulatorConfig.realistic``); ``changes`` set any other field of its config."""
    values = {"seed": seed, "realtime": True, "era_artists": DEMO_ERA_ARTISTS}
    sim = Simulator(SimulatorConfig.realistic(**{**values, **changes}))
    sim.start_autoplay(DEMO_USER, since=sim.clock.now() - max(history, BACKFILL))
    sim.keep_listening(DEMO_USER)
    return sim


DEMO_SECRETS_FILE = "demo-secrets.json"


def with_demo_secrets(settings: Settings) -> Settings:
    """Demo mode needs no secrets from the person: missing ones are generated once and kept in
    the (demo) data directory, readable by its owner only, so sessions and stored tokens
    survive restarts of the demo."""
    if settings.session_secret.get_secret_value() and settings.encryption_keys.get_secret_value():
        return settings
    path = settings.data_dir / DEMO_SECRETS_FILE
    if path.exists():
        stored = json.loads(path.read_text())
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        stored = {"session_secret": new_session_secret(), "encryption_keys": new_key_entry("demo1")}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(stored, handle)
    updates: dict[str, SecretStr] = {}
    if not settings.session_secret.get_secret_value():
        updates["session_secret"] = SecretStr(stored["session_secret"])
    if not settings.encryption_keys.get_secret_value():
        updates["encryption_keys"] = SecretStr(stored["encryption_keys"])
    return settings.model_copy(update=updates)


def wire_to_simulator(settings: Settings, sim: Simulator, port: int) -> Settings:
    """The same settings, with Spotify's URLs and credentials pointing at the simulator."""
    base = f"http://127.0.0.1:{port}"
    return settings.model_copy(
        update={
            "demo_mode": True,
            "spotify_client_id": sim.config.client_id,
            "spotify_client_secret": SecretStr(sim.config.client_secret),
            "spotify_accounts_url": base,
            "spotify_api_url": f"{base}/v1",
        }
    )


SIMULATOR_PORT_FILE = "simulator-port"


def _remembered_port(settings: Settings) -> int:
    """The port the last run's simulator had, if it is free now (else 0: any port). Cover art
    URLs stored in the catalog name the simulator's address, so the same port keeps the
    pictures of a restarted demo showing."""
    try:
        port = int((settings.data_dir / SIMULATOR_PORT_FILE).read_text())
        with contextlib.closing(bind("127.0.0.1", port)):
            return port
    except (OSError, ValueError):
        return 0


@contextlib.asynccontextmanager
async def demo_environment(settings: Settings) -> AsyncIterator[tuple[Settings, Simulator]]:
    """Serve a demo simulator for the duration of the block; yield the wired settings."""
    sim = demo_simulator(history=timedelta(days=settings.demo_history_days))
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve, sim, "127.0.0.1", _remembered_port(settings))
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / SIMULATOR_PORT_FILE).write_text(str(port))
        log.info("spotify simulator listening", extra={"url": f"http://127.0.0.1:{port}"})
        try:
            yield wire_to_simulator(settings, sim, port), sim
        finally:
            tg.cancel_scope.cancel()
