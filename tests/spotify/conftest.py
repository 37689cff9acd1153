"""Fixtures: the Spotify simulator in-process, a client wired to it, virtual time, leak scans.

Time: the client's ``clock``/``now``/``sleep`` are bound to the simulator's stepped clock, so a
``Retry-After: 30`` or a circuit-breaker cool-down passes instantly while the simulator sees the
same time move. Every record any client produced is scanned for secrets after each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from echostats.simulator import Simulator, SimulatorConfig
from echostats.spotify import ApiCallRecord, SpotifyClient, SpotifyConfig, TokenSet
from tests.spotify.memory_store import MemoryTokenStore

CLIENT_ID = "sim-client-id"
CLIENT_SECRET = "sim-client-secret"
REDIRECT_URI = "http://127.0.0.1:8000/api/v1/auth/callback"


class VirtualTime:
    """Monotonic seconds, wall time and sleep, all driven by the simulator's stepped clock.

    ``sleep`` moves the clock to the sleeper's deadline (never backwards), so concurrent sleepers
    with the same deadline move it once, like real time would.
    """

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._origin = sim.clock.now()
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return (self._sim.clock.now() - self._origin).total_seconds()

    def now(self) -> datetime:
        return self._sim.clock.now()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        deadline = self.monotonic() + seconds
        await anyio.lowlevel.checkpoint()
        if (ahead := deadline - self.monotonic()) > 0:
            self._sim.clock.advance(ahead)

    def advance(self, seconds: float) -> None:
        self._sim.clock.advance(seconds)


@dataclass
class LeakWatch:
    """Every record and every secret seen during the session."""

    records: list[ApiCallRecord] = field(default_factory=list)
    secrets: set[str] = field(default_factory=lambda: {CLIENT_SECRET})

    def leaks(self, records: list[ApiCallRecord]) -> list[tuple[str, ApiCallRecord]]:
        return [
            (secret, record)
            for record in records
            for secret in self.secrets
            if secret and secret in repr(record)
        ]


@pytest.fixture(scope="session")
def leak_watch() -> Iterator[LeakWatch]:
    watch = LeakWatch()
    yield watch
    assert not watch.leaks(watch.records), "a secret reached an ApiCallRecord"


BASE_SIM_CONFIG = SimulatorConfig(
    seed=42, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, realtime=False, dev_mode=True
)


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Override with ``@pytest.mark.parametrize("sim_config", [...])`` for other behaviour."""
    return BASE_SIM_CONFIG


@pytest.fixture
def sim(sim_config: SimulatorConfig) -> Simulator:
    simulator = Simulator(sim_config)
    simulator.add_user("alice", display_name="Alice", premium=True)
    return simulator


def start_listening(sim: Simulator, user_id: str) -> str:
    """Start playing the catalog's first album for ``user_id``; returns the album's URI."""
    uri = f"spotify:album:{next(iter(sim.catalog.albums))}"
    sim.listen(user_id, context_uri=uri)
    return uri


@pytest.fixture
def vtime(sim: Simulator) -> VirtualTime:
    return VirtualTime(sim)


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
def records() -> list[ApiCallRecord]:
    return []


@pytest.fixture
def config() -> SpotifyConfig:
    return SpotifyConfig(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        accounts_url="http://sim",
        api_url="http://sim/v1",
        max_retry_after_wait=30.0,
        max_retries=3,
        timeout=2.0,
        breaker_threshold=3,
        breaker_cooldown=30.0,
    )


ClientFactory = Callable[..., SpotifyClient]


@pytest.fixture
async def make_client(
    sim: Simulator,
    vtime: VirtualTime,
    store: MemoryTokenStore,
    records: list[ApiCallRecord],
    config: SpotifyConfig,
    leak_watch: LeakWatch,
) -> AsyncIterator[ClientFactory]:
    """Build clients on the simulator; ``overrides`` change SpotifyConfig fields."""
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://sim")

    def sink(record: ApiCallRecord) -> None:
        records.append(record)
        leak_watch.records.append(record)

    def build(**overrides: Any) -> SpotifyClient:
        return SpotifyClient(
            replace(config, **overrides),
            store,
            http=http,
            sink=sink,
            sleep=vtime.sleep,
            clock=vtime.monotonic,
            now=vtime.now,
            jitter=lambda: 0.5,
        )

    async with http:
        yield build
    leak_watch.secrets |= store.every_secret()
    leak_watch.secrets |= {str(v) for v in sim_secrets(sim)}
    leaks = leak_watch.leaks(records)
    assert not leaks, f"secrets in records: {leaks[:3]}"


def sim_secrets(sim: Simulator) -> set[str]:
    """Tokens and codes the simulator handed out (its bookkeeping, read for leak scans)."""
    tokens = sim.tokens
    return set(tokens.access) | set(tokens.refresh) | set(tokens.codes)


@pytest.fixture
async def client(make_client: ClientFactory) -> SpotifyClient:
    return make_client()


def connect(
    sim: Simulator, store: MemoryTokenStore, user_id: str, *, expires_in: float | None = None
) -> TokenSet:
    """Sign ``user_id`` in on the simulator and store the tokens (as the callback would)."""
    answer = sim.issue_tokens(user_id)
    tokens = TokenSet(
        access_token=str(answer["access_token"]),
        refresh_token=str(answer["refresh_token"]),
        expires_at=sim.clock.now()
        + timedelta(
            seconds=expires_in if expires_in is not None else float(str(answer["expires_in"]))
        ),
        scope=str(answer.get("scope", "")),
    )
    store.put(user_id, tokens)
    return tokens


@pytest.fixture
def alice(sim: Simulator, store: MemoryTokenStore) -> TokenSet:
    return connect(sim, store, "alice")
