"""The logger: stores every API-call record in ``api_logs``, in batches.

Records arrive on a bounded stream through a non-blocking sink (a Spotify call never waits for
the database); a full stream drops the record and counts it. Batches go out when they reach
``batch_size`` or ``flush_interval`` passes, and once more when the logger stops. While the
database is unavailable the records wait in a bounded buffer and are written once it answers
again.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from echostats.errors import StoreUnavailable
from echostats.spotify import ApiCallRecord
from echostats.store.api_logs import ApiLogs

log = logging.getLogger(__name__)

BATCH_SIZE = 200
FLUSH_INTERVAL = 1.0
MAX_PENDING = 10_000
RETRY_DELAY = 2.0
FINAL_FLUSH_TIMEOUT = 5.0


@dataclass
class RecordSink:
    """The client's sink: hands records to the logger without ever waiting."""

    send: MemoryObjectSendStream[ApiCallRecord]
    dropped: int = 0

    def __call__(self, record: ApiCallRecord) -> None:
        try:
            self.send.send_nowait(record)
        except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.dropped += 1

    def close(self) -> None:
        """No more records: the logger writes what it has and finishes."""
        self.send.close()


def to_document(record: ApiCallRecord) -> dict[str, object]:
    doc = asdict(record)
    doc["created_at"] = datetime.now(UTC)  # the TTL clock
    return doc


async def run(
    receive: MemoryObjectReceiveStream[ApiCallRecord],
    logs: ApiLogs,
    *,
    batch_size: int = BATCH_SIZE,
    flush_interval: float = FLUSH_INTERVAL,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    pending: list[dict[str, object]] = []
    task_status.started()

    async def flush() -> None:
        nonlocal pending
        if not pending:
            return
        try:
            await logs.insert_many(pending)
        except StoreUnavailable:
            if len(pending) > MAX_PENDING:
                log.warning(
                    "dropping api-call records", extra={"count": len(pending) - MAX_PENDING}
                )
                pending = pending[-MAX_PENDING:]
            await anyio.sleep(RETRY_DELAY)
            return
        pending = []

    async with receive:
        try:
            while True:
                with anyio.move_on_after(flush_interval):
                    while len(pending) < batch_size:
                        try:
                            record = await receive.receive()
                        except anyio.EndOfStream:
                            return
                        pending.append(to_document(record))
                await flush()
        finally:
            # Stopped (shutdown cancels actors) or the stream ended: the calls made in the last
            # second, and those still queued, are written too, within a bounded time.
            with anyio.CancelScope(shield=True), anyio.move_on_after(FINAL_FLUSH_TIMEOUT):
                while True:
                    try:
                        pending.append(to_document(receive.receive_nowait()))
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                await flush()
