"""Schema fuzzing: schemathesis against ``/api/openapi.json``, signed in, on a real server.

Every operation of the published document is sent valid and invalid input generated from its
own schema, with a real session cookie (the demo sign-in through the Spotify simulator) and the
same-origin ``Origin`` header the cross-site check wants on state-changing requests: the
operation's examples, schemathesis' coverage phase (boundary and type-violating values, missing
required fields) and generated positive and negative data. No answer may be a 500; each must
have a status, content type, headers and body the document declares; input the schema calls
invalid must be refused; every 4xx carries a ``detail`` sentence and the request id.
Derandomized and bounded per operation, so a run is reproducible and takes about a minute on two
cores; explore further with ``ECHOSTATS_FUZZ_EXAMPLES=200 ECHOSTATS_FUZZ_SEED=1``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import anyio
import httpx
import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.core.result import Ok
from schemathesis.generation.hypothesis.builder import (
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bench.export_generator import write_export
from echostats.settings import Settings
from echostats.store import Store
from tests.signin import ServedWorld, served_world, signin_world

pytestmark = pytest.mark.anyio

Case: TypeAlias = schemathesis.Case[Any]
Operation: TypeAlias = schemathesis.APIOperation[Any, Any, Any, Any]

EXAMPLES_PER_MODE = int(os.environ.get("ECHOSTATS_FUZZ_EXAMPLES", "12"))
# Reproducible by default; ECHOSTATS_FUZZ_SEED=<n> explores other inputs on purpose.
SEED = os.environ.get("ECHOSTATS_FUZZ_SEED")
SESSION_COOKIE = "session"


def detail_is_a_sentence(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """Every 4xx JSON answer says what went wrong in a sentence, with the request's id."""
    if not 400 <= response.status_code < 500:
        return None
    if not response.headers.get("content-type", [""])[0].startswith("application/json"):
        raise AssertionError(f"A {response.status_code} answer is not JSON")
    body = json.loads(response.content)
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, str) or len(detail.split()) < 3 or detail[-1:] not in ".?!":
        raise AssertionError(f"A {response.status_code} answer has no detail sentence: {body!r}")
    request_id = response.headers.get("x-request-id", [""])[0]
    if body.get("request_id") != request_id:
        raise AssertionError(f"The body's request_id is not the X-Request-ID {request_id!r}")
    return True


def not_a_500(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """No crash. Other 5xx are answers the contract asks for (501 withdrawn by Spotify, 502
    Spotify failed, 503 database down) and are held to the document like any status."""
    if response.status_code == 500:
        raise AssertionError(f"500: {response.content[:300]!r}")
    return True


CHECKS = [
    not_a_500,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def is_stream(operation: Operation) -> bool:
    """Server-Sent Events never end by themselves: a fuzzed request would wait for the end of
    a stream that has none. Their sessions, headers and events are tested in
    ``tests/security/test_routes.py`` and ``tests/api/test_sse.py``."""
    responses = operation.definition.raw.get("responses", {})
    return any(
        "text/event-stream" in (answer.get("content") or {}) for answer in responses.values()
    )


@dataclass
class Fuzzer:
    base_url: str
    origin: str
    sign_in: Callable[[requests.Session], str]
    http: requests.Session = field(default_factory=requests.Session)
    token: str = ""
    failures: list[str] = field(default_factory=list)
    requests_sent: int = 0

    def send(self, case: Case) -> schemathesis.Response:
        # Only the cookie given here: answers that set or clear one must not change later cases.
        self.http.cookies.clear()
        response = case.call(
            base_url=self.base_url,
            session=self.http,
            headers={"Origin": self.origin},
            cookies={SESSION_COOKIE: self.token},
            allow_redirects=False,
            timeout=30,
        )
        self.requests_sent += 1
        if case.operation.path == "/api/v1/auth/logout" and response.status_code == 200:
            self.token = self.sign_in(self.http)  # signing out revokes every session
        return response

    def fuzz(self, operation: Operation) -> None:
        def check(case: Case) -> None:
            response = self.send(case)
            case.validate_response(
                response, checks=CHECKS, additional_checks=[detail_is_a_sentence]
            )

        # No shrinking: a failure is reported with the request as generated (and its curl
        # line), which keeps a failing run bounded too.
        settings = hypothesis.settings(
            max_examples=2 * EXAMPLES_PER_MODE,
            derandomize=SEED is None,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
            report_multiple_bugs=False,
        )
        # Schemathesis' own test builder: the operation's examples, then its coverage phase
        # (deterministic boundary and type-violating values, missing required fields), then
        # generated positive and negative data.
        run = create_test(
            operation=operation,
            test_func=check,
            config=HypothesisTestConfig(
                project=operation.schema.config,
                modes=list(HypothesisTestMode),
                explicit_settings=settings,
            ),
        )
        if SEED is not None:
            run = hypothesis.seed(int(SEED))(run)
        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' failures are a group
            self.failures.append(f"{operation.label}:\n{exc}")

    def run(self, schema: schemathesis.BaseSchema) -> list[str]:
        self.token = self.sign_in(self.http)
        labels = []
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                self.failures.append(
                    f"The document has an operation schemathesis cannot read: {result.err()}"
                )
                continue
            operation = result.ok()
            if is_stream(operation):
                continue
            labels.append(operation.label)
            self.fuzz(operation)
        return labels


def demo_sign_in(base_url: str) -> Callable[[requests.Session], str]:
    def sign_in(http: requests.Session) -> str:
        http.cookies.clear()
        response = http.get(f"{base_url}/api/v1/auth/demo-login", allow_redirects=False, timeout=30)
        assert response.status_code == 303, response.text
        return str(response.cookies[SESSION_COOKIE])

    return sign_in


async def seed_history(world: ServedWorld, tmp_path: Path, token: str) -> None:
    """A few weeks of imported plays, so analytics and history routes have data to work on."""
    paths, _truth = write_export(tmp_path, 1_500, "extended", videos=5)
    files = [("file", (p.name, p.read_bytes(), "application/json")) for p in paths]
    async with httpx.AsyncClient(base_url=world.url, cookies={SESSION_COOKIE: token}) as client:
        response = await client.post(
            "/api/v1/history/import", files=files, headers={"Origin": world.settings.base_url}
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        with anyio.fail_after(60):
            while (await client.get(f"/api/v1/sync-jobs/{job_id}")).json()["status"] in {
                "pending",
                "running",
            }:
                await anyio.sleep(0.1)


async def test_every_operation_survives_schema_fuzzing(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    limits: dict[str, Any] = {"auth_rate_limit": 1_000_000, "import_rate_limit": 1_000_000}
    async with served_world(settings, store, demo_mode=True, **limits) as world:
        sign_in = demo_sign_in(world.url)
        token = await anyio.to_thread.run_sync(sign_in, requests.Session())
        await seed_history(world, tmp_path, token)
        async with httpx.AsyncClient(base_url=world.url) as client:
            document = (await client.get("/api/openapi.json")).json()
        config = schemathesis.Config.from_dict(
            {"generation": {"mode": "all"}, "phases": {"coverage": {"enabled": True}}}
        )
        schema = schemathesis.openapi.from_dict(document, config=config)
        fuzzer = Fuzzer(world.url, world.settings.base_url, sign_in)
        started = time.monotonic()
        labels = await anyio.to_thread.run_sync(fuzzer.run, schema)
        took = time.monotonic() - started
    print(f"fuzzed {len(labels)} operations with {fuzzer.requests_sent} requests in {took:.0f} s")
    assert len(labels) > 50, labels
    assert not fuzzer.failures, "\n\n".join(fuzzer.failures)


def _integer(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "integer" for o in options)


async def test_integers_past_64_bits_are_refused_or_served(
    settings: Settings, store: Store
) -> None:
    """Random generation rarely reaches 2**63; MongoDB refuses such an integer outright, so
    every integer query parameter is tried with it directly, bounded or not (a bound must turn
    it into a 422; a 500 is the bug)."""
    async with signin_world(settings, store) as world:
        assert (await world.sign_in()).status_code == 303
        document = (await world.client.get("/api/openapi.json")).json()
        crashed = []
        tried = 0
        for path, operations in document["paths"].items():
            get = operations.get("get")
            if get is None or "text/event-stream" in str(get["responses"].get("200", {})):
                continue
            for parameter in get.get("parameters", []):
                if parameter["in"] != "query" or not _integer(parameter["schema"]):
                    continue
                for value in (2**63, 2**64, -(2**63) - 1):
                    tried += 1
                    url = re.sub(r"\{[^}]+\}", "x", path)
                    response = await world.client.get(url, params={parameter["name"]: value})
                    if response.status_code >= 500:
                        crashed.append(
                            f"GET {url}?{parameter['name']}={value}: {response.status_code}"
                        )
        assert tried > 0
        assert not crashed, "\n".join(crashed)
