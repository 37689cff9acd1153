"""Shared fixtures: one real embedded database server per test session, a fresh database per test.

Nothing here mocks MongoDB: the tests talk to the same SecantusDB server the app launches.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pymongo
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from echostats.logs import JsonFormatter
from echostats.security.keys import new_key_entry, new_session_secret
from echostats.settings import Settings
from echostats.store.database import Store, make_client
from echostats.store.embedded import EmbeddedServer
from tests import leaks

# Two cores shared with a database server and other test processes: generation speed and
# per-example timing are not what the property tests check, so neither may fail a run.
# Derandomized so a run is reproducible: a new counterexample must be found on purpose (run
# with --hypothesis-profile=explore), never by chance during a landing.
hypothesis_settings.register_profile(
    "echostats",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
    derandomize=True,
)
hypothesis_settings.register_profile(
    "explore", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
hypothesis_settings.load_profile("echostats")

# Fresh per test session: nothing depends on a particular secret.
TEST_SESSION_SECRET = new_session_secret()
TEST_ENCRYPTION_KEYS = new_key_entry("test1")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # PyMongo's async API needs asyncio.
    return "asyncio"


@pytest.fixture(scope="session")
async def db_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedServer]:
    # Started and stopped without the restart watcher: a session fixture's setup and teardown
    # may run in different tasks, and a task group must not span them.
    server = EmbeddedServer(data_dir=tmp_path_factory.mktemp("db-server"))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def prepared_store(db_server: EmbeddedServer, prefix: str = "test") -> AsyncIterator[Store]:
    """A prepared store (indexes, migrations) on a database of its own, dropped afterwards."""
    client = make_client(db_server.url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    store = Store(client=client, db=client[name])
    await store.prepare()
    try:
        yield store
    finally:
        # Dropping a database of tens of thousands of documents takes the embedded server
        # tens of seconds on a busy machine: longer than the driver's socket timeout.
        with pymongo.timeout(300):
            await client.drop_database(name)
        await client.close()


@pytest.fixture
async def store(db_server: EmbeddedServer) -> AsyncIterator[Store]:
    async with prepared_store(db_server) as store:
        yield store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated from the developer's environment and .env file."""
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        update_feed_url="",
        spotify_client_id="test-client-id",
        spotify_client_secret="test-client-secret",
        session_secret=TEST_SESSION_SECRET,
        encryption_keys=TEST_ENCRYPTION_KEYS,
        # A demo sign-in imports no past unless a test asks (tests/api/test_demo_history.py):
        # a background import would race the figures other demo-mode tests compare.
        demo_history_days=0,
    )


# No log line and no response of the whole suite may carry a secret (``tests/leaks.py``).
leaks.SECRETS.update((TEST_SESSION_SECRET, TEST_ENCRYPTION_KEYS.split(":", 1)[1]))


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def _logs_and_responses_never_contain_secrets() -> Iterator[None]:
    capture = _LogCapture()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    # urllib3 is only the schema fuzzer's own client: at DEBUG it logs every URL Hypothesis made
    # up, and Hypothesis mixes in string literals of loaded modules, this file's test secrets too.
    for noisy in ("pymongo", "httpcore", "hpack", "asyncio", "multipart", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.INFO)
    # As in production (echostats.logs.configure_logging): httpx logs whole URLs at INFO, and an
    # OAuth callback URL carries a code.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(capture)
        root.setLevel(previous_level)
    leaked = [line for line in capture.lines if leaks.find_secret(line)]
    assert not leaked, f"{len(leaked)} log line(s) carry a secret, e.g. {leaked[0][:300]}"
    responses = leaks.response_leaks
    assert not responses, f"{len(responses)} response(s) carry a secret, e.g. {responses[0]}"
