"""The log of every request the simulator answered, so tests can count Spotify calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    route: str  # the path template (``/v1/tracks/{id}``) or the raw path when nothing matched
    user_id: str | None
    status: int
    at: datetime
    query: str = ""


class CallLog(list[Call]):
    """A plain list of calls plus a filter helper."""

    def matching(
        self,
        *,
        method: str | None = None,
        route: str | None = None,
        path: str | None = None,
        user_id: str | None = None,
        status: int | None = None,
    ) -> list[Call]:
        return [
            c
            for c in self
            if (method is None or c.method == method)
            and (route is None or c.route == route)
            and (path is None or c.path == path)
            and (user_id is None or c.user_id == user_id)
            and (status is None or c.status == status)
        ]

    def count_matching(
        self,
        *,
        method: str | None = None,
        route: str | None = None,
        path: str | None = None,
        user_id: str | None = None,
        status: int | None = None,
    ) -> int:
        return len(
            self.matching(method=method, route=route, path=path, user_id=user_id, status=status)
        )
