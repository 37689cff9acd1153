"""Every outbound Spotify call, as the client recorded it (TTL-expired after 30 days)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import ConnectionFailure

from echostats.errors import StoreUnavailable
from echostats.store.database import Store

Document = dict[str, Any]


@dataclass(frozen=True)
class ApiLogFilter:
    user_id: str
    service: str | None = None
    status_min: int | None = None
    status_max: int | None = None
    method: str | None = None
    endpoint_contains: str | None = None

    def query(self) -> Document:
        # Calls made before a user existed (the sign-in's token exchange) have no user.
        query: Document = {"user_id": {"$in": [self.user_id, None]}}
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


class ApiLogs:
    def __init__(self, store: Store) -> None:
        self._c = store["api_logs"]

    async def insert_many(self, docs: Sequence[Document]) -> None:
        try:
            await self._c.insert_many(list(docs), ordered=False)
        except ConnectionFailure:
            raise StoreUnavailable("the database is unavailable") from None

    async def page(self, where: ApiLogFilter, skip: int, limit: int) -> tuple[list[Document], int]:
        query = where.query()
        total = await self._c.count_documents(query)
        docs = await self._c.find(query).sort("timestamp", -1).skip(skip).limit(limit).to_list()
        return docs, total

    async def stats(self, where: ApiLogFilter) -> Document:
        query = where.query()
        total = await self._c.count_documents(query)
        rows = await self._c.aggregate(
            [
                {"$match": query},
                {
                    "$group": {
                        "_id": {"status": "$status_code", "endpoint": "$endpoint"},
                        "count": {"$sum": 1},
                        "latency": {"$sum": "$latency_ms"},
                    }
                },
            ]
        )
        groups = await rows.to_list()
        p95: float | None = None
        if total:
            rank = max(0, -(-total * 95 // 100) - 1)  # nearest-rank percentile
            docs = (
                await self._c.find(query, {"latency_ms": 1})
                .sort("latency_ms", 1)
                .skip(rank)
                .limit(1)
                .to_list()
            )
            p95 = float(docs[0]["latency_ms"]) if docs else None
        return {"total": total, "groups": groups, "p95": p95}

    async def latest(self) -> datetime | None:
        doc = await self._c.find_one({}, sort=[("timestamp", -1)])
        return doc["timestamp"] if doc else None
