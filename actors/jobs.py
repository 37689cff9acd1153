"""Cancellation of running jobs (imports, ledger builds, syncs) by id.

The actor running a job wraps the work in ``control.running(job_id)``; ``cancel(job_id)`` from
the API then cancels exactly that work. Afterwards the actor checks ``scope.cancelled_caught``
and records the job as cancelled, so the job's state is always truthful.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import anyio


class JobControl:
    def __init__(self) -> None:
        self._running: dict[str, anyio.CancelScope] = {}

    @contextmanager
    def running(self, job_id: str) -> Iterator[anyio.CancelScope]:
        scope = anyio.CancelScope()
        self._running[job_id] = scope
        try:
            with scope:
                yield scope
        finally:
            self._running.pop(job_id, None)

    def cancel(self, job_id: str) -> bool:
        """Cancel the job if it runs in this process; False when it does not."""
        scope = self._running.get(job_id)
        if scope is None:
            return False
        scope.cancel()
        return True
