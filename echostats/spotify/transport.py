"""The request pipeline: every HTTP request to Spotify goes through ``SpotifyTransport``.

One logical call may take several HTTP attempts: a refresh after a 401, waits after 429s, jittered
retries after 5xx / timeouts / garbled bodies. Each attempt produces exactly one
``ApiCallRecord``. The per-user circuit breaker wraps the whole call, and the shared rate gates
keep every caller quiet while Spotify's ``Retry-After`` runs.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import anyio
import httpx

from echostats import __version__
from echostats.errors import (
    SpotifyError,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
)
from echostats.spotify.breaker import CircuitBreakers, Outcome
from echostats.spotify.config import SpotifyConfig
from echostats.spotify.errors_map import (
    SpotifyAnswer,
    is_quota_exceeded,
    map_api_error,
    map_token_error,
)
from echostats.spotify.gates import RateGate, quota_sentence, rate_sentence
from echostats.spotify.records import ApiCallRecord, RecordSink, scrub

logger = logging.getLogger(__name__)

T = TypeVar("T")

TOKEN_ENDPOINT = "/api/token"  # noqa: S105 (a path)
# Methods whose repetition cannot do anything twice; a POST (next track, add to queue, a token
# grant) is only retried when a gateway status says it never reached Spotify's service.
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
_GATEWAY_STATUSES = frozenset({502, 503, 504})
_DEFAULT_RETRY_AFTER = 1.0


class TokenSource(Protocol):
    """Hands out a user's access token; refreshes it after Spotify rejected ``rejected``."""

    async def access_token(self, user_id: str) -> str: ...

    async def refresh_after_rejection(self, user_id: str, rejected: str) -> str: ...


@dataclass(frozen=True)
class ApiCall:
    """One Web API call. ``endpoint`` is a template such as ``/playlists/{id}/items``."""

    method: str
    endpoint: str
    path: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str | int] | None = None
    body: Any = None
    # Player commands: any 2xx is success and the body (often a snapshot id) is never parsed.
    command: bool = False

    def url(self, base: str) -> str:
        quoted = {key: quote(value, safe="") for key, value in self.path.items()}
        return base + self.endpoint.format(**quoted)


@dataclass
class _Reply:
    status: int  # 0 when no HTTP answer arrived
    text: str
    headers: Mapping[str, str]
    transport_error: str | None
    connect_failed: bool
    request_id: str
    started: datetime
    latency_ms: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _Unreadable(Exception):
    """A 2xx whose body is not JSON at all (retryable, like a 502 from a broken proxy)."""


def _decode(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise _Unreadable from None


def _retry_after(headers: Mapping[str, str]) -> float:
    raw = headers.get("retry-after", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return _DEFAULT_RETRY_AFTER


class SpotifyTransport:
    def __init__(
        self,
        config: SpotifyConfig,
        http: httpx.AsyncClient,
        sink: RecordSink,
        *,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
        now: Callable[[], datetime],
        random: Callable[[], float],
    ) -> None:
        self.config = config
        self._http = http
        self._sink = sink
        self._sleep = sleep
        self._now = now
        self._random = random
        self.api_gate = RateGate(clock, sleep, config.max_retry_after_wait)
        self.accounts_gate = RateGate(clock, sleep, config.max_retry_after_wait)
        self.breakers = CircuitBreakers(config.breaker_threshold, config.breaker_cooldown, clock)
        credentials = f"{config.client_id}:{config.client_secret}".encode()
        self._basic = "Basic " + base64.b64encode(credentials).decode("ascii")
        self._user_agent = f"echostats/{__version__}"

    # --- public entry points -----------------------------------------------------------------

    async def call_api(
        self,
        user_id: str | None,
        call: ApiCall,
        tokens: TokenSource,
        parse: Callable[[Any], T],
    ) -> T:
        """Run one Web API call for ``user_id`` (None only while signing in)."""
        self.api_gate.check_quota()  # before the breaker: a quota wait is not an outage
        key = user_id or ""
        probe = self.breakers.acquire(key)
        outcome = Outcome.ABANDONED
        try:
            result = await self._run_api(user_id, call, tokens, parse)
        except SpotifyUnavailable:
            outcome = Outcome.FAILURE
            raise
        except SpotifyError:
            outcome = Outcome.SUCCESS  # Spotify answered; the refusal is not an outage
            raise
        else:
            outcome = Outcome.SUCCESS
            return result
        finally:
            self.breakers.release(key, outcome, probe=probe)

    async def call_token_endpoint(
        self, user_id: str | None, form: Mapping[str, str], secrets: tuple[str, ...]
    ) -> Any:
        """POST a grant to the accounts service; returns the decoded JSON answer."""
        grant_type = form["grant_type"]
        url = self.config.accounts_url + TOKEN_ENDPOINT
        secrets = (*secrets, self.config.client_secret, self._basic)
        retries = waits = 0
        while True:
            await self.accounts_gate.pass_through()
            reply = await self._send(
                "POST",
                url,
                headers={"Authorization": self._basic},
                data=dict(form),
            )
            if reply.ok:
                try:
                    payload = _decode(reply.text)
                except _Unreadable:
                    self._emit(reply, "POST", TOKEN_ENDPOINT, user_id, "unreadable JSON body")
                    if self._retryable("POST", reply, retries, garbled=True):
                        retries += 1
                        await self._backoff(retries)
                        continue
                    raise SpotifyUnavailable(
                        "Spotify's token service sent an answer we could not read."
                    ) from None
                self._emit(reply, "POST", TOKEN_ENDPOINT, user_id, None)
                return payload
            self._emit(reply, "POST", TOKEN_ENDPOINT, user_id, self._error_text(reply, secrets))
            answer = SpotifyAnswer("POST", TOKEN_ENDPOINT, reply.status, reply.text)
            if reply.status == 429:
                if self._handle_429(self.accounts_gate, reply, answer, waits):
                    waits += 1
                    continue
            elif self._retryable("POST", reply, retries):
                retries += 1
                await self._backoff(retries)
                continue
            if reply.status == 0 or reply.status >= 500:
                raise SpotifyUnavailable(self._unavailable_sentence(reply, "token service"))
            raise map_token_error(answer, grant_type=grant_type)

    # --- the loop ----------------------------------------------------------------------------

    async def _run_api(
        self,
        user_id: str | None,
        call: ApiCall,
        tokens: TokenSource,
        parse: Callable[[Any], T],
    ) -> T:
        url = call.url(self.config.api_url)
        token_user = user_id or ""
        retries = waits = 0
        refreshed = False
        while True:
            await self.api_gate.pass_through()
            token = await tokens.access_token(token_user)
            reply = await self._send(
                call.method,
                url,
                headers={"Authorization": f"Bearer {token}"},
                params=call.params,
                json_body=call.body,
            )
            secrets = (token,)
            if reply.ok:
                if call.command:
                    self._emit(reply, call.method, call.endpoint, user_id, None)
                    return parse(None)
                try:
                    value = parse(_decode(reply.text))
                except _Unreadable:
                    self._emit(reply, call.method, call.endpoint, user_id, "unreadable JSON body")
                    if self._retryable(call.method, reply, retries, garbled=True):
                        retries += 1
                        await self._backoff(retries)
                        continue
                    raise SpotifyUnavailable(
                        f"Spotify sent an answer we could not read for {call.endpoint}."
                    ) from None
                except ValueError as exc:  # valid JSON of an unexpected shape
                    detail = scrub(f"unexpected answer shape: {exc}", secrets)
                    self._emit(reply, call.method, call.endpoint, user_id, detail)
                    raise SpotifyUnavailable(
                        f"Spotify sent an answer of an unexpected shape for {call.endpoint}."
                    ) from None
                self._emit(reply, call.method, call.endpoint, user_id, None)
                return value
            self._emit(reply, call.method, call.endpoint, user_id, self._error_text(reply, secrets))
            answer = SpotifyAnswer(call.method, call.endpoint, reply.status, reply.text)
            if reply.status == 401 and not refreshed:
                refreshed = True
                await tokens.refresh_after_rejection(token_user, token)
                continue
            if reply.status == 429:
                if self._handle_429(self.api_gate, reply, answer, waits):
                    waits += 1
                    continue
            elif self._retryable(call.method, reply, retries):
                retries += 1
                await self._backoff(retries)
                continue
            if reply.status == 0 or reply.status >= 500:
                raise SpotifyUnavailable(self._unavailable_sentence(reply, call.endpoint))
            raise map_api_error(answer)

    def _handle_429(self, gate: RateGate, reply: _Reply, answer: SpotifyAnswer, waits: int) -> bool:
        """Block the gate; True when the caller should try again (the gate does the waiting)."""
        wait = _retry_after(reply.headers)
        if is_quota_exceeded(answer):
            gate.block_quota(wait)
            raise SpotifyQuotaExceeded(quota_sentence(wait), retry_after=wait)
        gate.block_rate(wait)
        if wait <= self.config.max_retry_after_wait and waits < self.config.max_retries:
            logger.info("spotify rate limited; waiting %.1f s", wait)
            return True
        raise SpotifyRateLimited(rate_sentence(wait), retry_after=wait)

    def _retryable(
        self, method: str, reply: _Reply, retries: int, *, garbled: bool = False
    ) -> bool:
        if retries >= self.config.max_retries:
            return False
        if method in _IDEMPOTENT:
            return garbled or reply.status == 0 or reply.status >= 500
        return reply.connect_failed or reply.status in _GATEWAY_STATUSES

    async def _backoff(self, attempt: int) -> None:
        base = min(self.config.retry_backoff_cap, self.config.retry_backoff * 2 ** (attempt - 1))
        await self._sleep(base * (0.5 + self._random()))

    # --- one HTTP attempt --------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> _Reply:
        started = self._now()
        began = time.perf_counter()
        status, text, resp_headers = 0, "", httpx.Headers()
        transport_error: str | None = None
        connect_failed = False
        try:
            # httpx's own timeouts are not honoured by every transport (ASGITransport ignores
            # them), so the whole attempt also runs under an anyio deadline.
            with anyio.fail_after(self.config.timeout):
                response = await self._http.request(
                    method,
                    url,
                    headers={**headers, "User-Agent": self._user_agent},
                    params=params,
                    json=json_body,
                    data=data,
                )
            status, text, resp_headers = response.status_code, response.text, response.headers
        except (TimeoutError, httpx.TimeoutException):
            transport_error = f"no answer within {self.config.timeout:g} s"
            connect_failed = False
        except httpx.ConnectError as exc:
            transport_error = f"could not connect: {exc}"
            connect_failed = True
        except httpx.RequestError as exc:
            transport_error = f"{type(exc).__name__}: {exc}"
        return _Reply(
            status=status,
            text=text,
            headers=resp_headers,
            transport_error=transport_error,
            connect_failed=connect_failed,
            request_id=uuid.uuid4().hex,
            started=started,
            latency_ms=round((time.perf_counter() - began) * 1000, 3),
        )

    def _error_text(self, reply: _Reply, secrets: tuple[str, ...]) -> str:
        if reply.status == 0:
            return scrub(reply.transport_error or "no answer", secrets)
        return scrub(f"{reply.status}: {reply.text}" if reply.text else str(reply.status), secrets)

    def _unavailable_sentence(self, reply: _Reply, what: str) -> str:
        if reply.status == 0:
            return f"Spotify did not answer ({what}); try again later."
        return f"Spotify failed ({reply.status}) for {what}; try again later."

    def _emit(
        self,
        reply: _Reply,
        method: str,
        endpoint: str,
        user_id: str | None,
        error: str | None,
    ) -> None:
        self._sink(
            ApiCallRecord(
                method=method,
                endpoint=endpoint,
                status_code=reply.status,
                latency_ms=reply.latency_ms,
                error=error,
                request_id=reply.request_id,
                user_id=user_id,
                timestamp=reply.started,
            )
        )
