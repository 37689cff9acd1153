"""Every outbound Spotify call, as the client recorded it (TTL-expired after 30 days)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING

from echostats.store.boundary import Repository
from echostats.store.database import Store
from echostats.store.duplicates import insert_once

Document = dict[str, Any]
USER_TIMESTAMP = [("user_id", ASCENDING), ("timestamp", DESCENDING)]


def summarise(groups: list[Document], p95: float | None, top: int) -> Document:
    """The stats route's numbers from (status, endpoint) groups of count and latency sum."""
    total = sum(int(g["count"]) for g in groups)
    latency = sum(float(g["latency"] or 0) for g in groups)
    by_status: dict[str, int] = {}
    by_endpoint: dict[str, list[float]] = {}
    errors = rate_limited = 0
    for group in groups:
        status = int(group["_id"]["status"])
        count = int(group["count"])
        by_status[str(status)] = by_status.get(str(status), 0) + count
        if status == 0 or status >= 400:
            errors += count
        if status == 429:
            rate_limited += count
        seen = by_endpoint.setdefault(str(group["_id"]["endpoint"]), [0, 0.0])
        seen[0] += count
        seen[1] += float(group["latency"] or 0)
    ranked = sorted(by_endpoint.items(), key=lambda kv: (-kv[1][0], kv[0]))[:top]
    return {
        "total_calls": total,
        "error_count": errors,
        "rate_limit_count": rate_limited,
        "success_rate": round(100.0 * (total - errors) / total, 2) if total else 100.0,
        "avg_latency_ms": round(latency / total, 2) if total else None,
        "p95_latency_ms": p95,
        "status_distribution": dict(sorted(by_status.items())),
        "top_endpoints": [
            {"endpoint": e, "count": int(n), "avg_latency_ms": round(ms / n, 2)}
            for e, (n, ms) in ranked
        ],
    }


@dataclass(frozen=True)
class ApiLogFilter:
    user_id: str
    service: str | None = None
    status_min: int | None = None
    status_max: int | None = None
    method: str | None = None
    endpoint_contains: str | None = None

    def query(self) -> Document:
        # Equality on the user (not ``$in`` with the user-less sign-in exchange) keeps the
        # plan on the user_timestamp index and keeps one person's sign-in out of another's logs.
        query: Document = {"user_id": self.user_id}
        if self.service:
            query["service"] = self.service
        status: Document = {}
        if self.status_min is not None:
            status["$gte"] = self.status_min
        if self.status_max is not None:
            status["$lte"] = self.status_max
        if status:
            query["status_code"] = status
        if self.method:
            query["method"] = self.method.upper()
        if self.endpoint_contains:
            query["endpoint"] = {"$regex": re.escape(self.endpoint_contains), "$options": "i"}
        return query


class ApiLogs(Repository):
    def __init__(self, store: Store) -> None:
        self._c = store["api_logs"]

    async def insert_many(self, docs: Sequence[Document]) -> None:
        """Insert records; a batch the logger retries after a failure stores each once."""
        await insert_once(self._c, docs)

    async def page(self, where: ApiLogFilter, skip: int, limit: int) -> tuple[list[Document], int]:
        """Newest first; pinned to user_timestamp (the embedded server otherwise may scan)."""
        query = where.query()
        total = await self._c.count_documents(query, hint=USER_TIMESTAMP)
        cursor = self._c.find(query).sort("timestamp", DESCENDING).hint(USER_TIMESTAMP)
        docs = await cursor.skip(skip).limit(limit).to_list()
        return docs, total

    async def stats(self, where: ApiLogFilter, top: int = 10) -> Document:
        """Totals, errors (status 0 or >= 400), 429s, latency mean and nearest-rank p95, the
        status distribution and the most called endpoints, for the calls ``where`` selects."""
        rows = await self._c.aggregate(
            [
                {"$match": where.query()},
                {
                    "$group": {
                        "_id": {"status": "$status_code", "endpoint": "$endpoint"},
                        "count": {"$sum": 1},
                        "latency": {"$sum": "$latency_ms"},
                    }
                },
            ],
            hint=dict(USER_TIMESTAMP),  # aggregate wants the key as a document
        )
        groups = await rows.to_list()
        return summarise(groups, await self._p95(where, sum(g["count"] for g in groups)), top)

    async def _p95(self, where: ApiLogFilter, total: int) -> float | None:
        if not total:
            return None
        rank = -(-total * 95 // 100) - 1  # nearest rank, 0-based
        docs = await (
            self._c.find(where.query(), {"latency_ms": 1, "_id": 0})
            .hint(USER_TIMESTAMP)
            .sort("latency_ms", ASCENDING)
            .skip(rank)
            .limit(1)
            .to_list()
        )
        return float(docs[0]["latency_ms"]) if docs else None

    async def latest(self) -> datetime | None:
        doc = await self._c.find_one({}, sort=[("timestamp", -1)])
        return doc["timestamp"] if doc else None
