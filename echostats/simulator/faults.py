"""Fault controls: make the simulator misbehave the ways the real Spotify does.

Rules apply to the Web API (``/v1``) unless a ``path`` prefix says otherwise (``"/api/token"``
targets the accounts service), to every user or to one. Counted rules fire for the next
``count`` matching requests; the quota rule holds until simulated time passes its Retry-After.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from echostats.simulator.clock import Clock
from echostats.simulator.tokens import TokenStore
from echostats.simulator.world import World

API_PREFIX = "/v1"


@dataclass
class Rule:
    kind: str
    user: str | None
    path: str | None
    remaining: int | None
    status: int = 503
    retry_after: int = 1
    seconds: float = 0.0
    until_ms: int = 0

    def applies(self, user_id: str | None, path: str) -> bool:
        if self.user is not None and self.user != user_id:
            return False
        return path.startswith(self.path if self.path is not None else API_PREFIX)


@dataclass(frozen=True)
class Verdict:
    """What the request pipeline must do before (or instead of) routing."""

    delay_s: float = 0.0
    hang: bool = False
    status: int | None = None
    retry_after: int | None = None
    quota: bool = False
    garbage: bool = False


class Faults:
    def __init__(self, clock: Clock, tokens: TokenStore, world: World) -> None:
        self._clock = clock
        self._tokens = tokens
        self._world = world
        self.rules: list[Rule] = []
        self.owner_premium_lapsed = False

    # --- request faults ------------------------------------------------------------------

    def rate_limit(
        self, retry_after: int = 1, count: int = 1, user: str | None = None, path: str | None = None
    ) -> None:
        """The next ``count`` requests get 429 with ``Retry-After: retry_after``."""
        self.rules.append(Rule("rate_limit", user, path, count, retry_after=retry_after))

    def quota_exceeded(
        self, retry_after: int = 48925, user: str | None = None, path: str | None = None
    ) -> None:
        """429 ``QUOTA_EXCEEDED`` until simulated time has moved ``retry_after`` seconds on."""
        until = self._clock.now_ms() + retry_after * 1000
        self.rules.append(Rule("quota", user, path, None, until_ms=until))

    def server_errors(
        self, count: int = 1, status: int = 503, user: str | None = None, path: str | None = None
    ) -> None:
        self.rules.append(Rule("server_error", user, path, count, status=status))

    def latency(
        self,
        seconds: float,
        user: str | None = None,
        path: str | None = None,
        count: int | None = None,
    ) -> None:
        """Every matching request waits ``seconds`` of real time before it is answered."""
        self.rules.append(Rule("latency", user, path, count, seconds=seconds))

    def timeout(self, count: int = 1, user: str | None = None, path: str | None = None) -> None:
        """The next ``count`` requests hang for longer than any client timeout."""
        self.rules.append(Rule("timeout", user, path, count))

    def garbage_json(
        self, count: int = 1, user: str | None = None, path: str | None = None
    ) -> None:
        """The next ``count`` requests get a 200 whose JSON body is cut off."""
        self.rules.append(Rule("garbage_json", user, path, count))

    # --- account faults ------------------------------------------------------------------

    def revoke_refresh_token(self, user: str) -> None:
        """The user removed the app's access: refreshing fails with ``invalid_grant``."""
        for grant in self._tokens.user_grants(user):
            grant.revoked = True

    def expire_refresh_token(self, user: str) -> None:
        """The six-month lifetime has run out for every grant of the user."""
        for grant in self._tokens.user_grants(user):
            grant.expired = True

    def unregister(self, user: str) -> None:
        """Drop the user from the dashboard allow-list (plain-text 403 on every call)."""
        self._world.users[user].registered = False

    def register(self, user: str) -> None:
        self._world.users[user].registered = True

    def lapse_owner_premium(self, lapsed: bool = True) -> None:
        """The app owner's Premium ran out: the whole app is blocked with a 403."""
        self.owner_premium_lapsed = lapsed

    def clear(self) -> None:
        self.rules.clear()
        self.owner_premium_lapsed = False
        for user in self._world.users.values():
            user.registered = True

    # --- evaluation ----------------------------------------------------------------------

    def evaluate(self, user_id: str | None, path: str) -> Verdict:
        now = self._clock.now_ms()
        delay = 0.0
        for rule in list(self.rules):
            if rule.kind == "quota" and rule.until_ms <= now:
                self.rules.remove(rule)
                continue
            if not rule.applies(user_id, path):
                continue
            if rule.kind == "latency":
                delay += rule.seconds
                self._consume(rule)
                continue
            self._consume(rule)
            if rule.kind == "timeout":
                return Verdict(delay_s=delay, hang=True)
            if rule.kind == "quota":
                wait = max(1, math.ceil((rule.until_ms - now) / 1000))
                return Verdict(delay_s=delay, status=429, retry_after=wait, quota=True)
            if rule.kind == "rate_limit":
                return Verdict(delay_s=delay, status=429, retry_after=rule.retry_after)
            if rule.kind == "server_error":
                return Verdict(delay_s=delay, status=rule.status)
            if rule.kind == "garbage_json":
                return Verdict(delay_s=delay, garbage=True)
        return Verdict(delay_s=delay)

    def _consume(self, rule: Rule) -> None:
        if rule.remaining is None:
            return
        rule.remaining -= 1
        if rule.remaining <= 0:
            self.rules.remove(rule)
