"""The embedded store's server: SecantusDB, its retryable-write records kept cheaply.

SecantusDB keeps the reply of every retryable write for 30 minutes (at most 10,000 records, the
oldest dropped first), as mongod does, so that a driver's retry is answered instead of applied
twice. It prunes them on every retryable write and every lookup by scanning all the records, and
once 10,000 are kept it sorts all of them to drop one. An app that writes more than ~5 times a
second for half an hour (an import, a busy replica; the test suite's shared server all the time)
then pays tens of milliseconds a write instead of a few (measured: 4.6 ms an update on a fresh
server, 48 ms after 10,500 inserts; with ``retryWrites=false`` 4.8 ms).

Here the records are kept in the order they were recorded, so the same policy (same lifetime,
same cap, oldest first) prunes from the front in constant time per record. Replies, retries and
everything else are SecantusDB's own; a SecantusDB that keeps its records otherwise runs as it
is. ``echostats/store/embedded.py`` runs this file by path (not as a module of the package, so
the server process imports nothing of EchoStats), with ``secantusd-py``'s arguments.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import Any

from secantus import transactions
from secantus.cli import main


def keep_records_in_order(registry: type[transactions.TransactionRegistry]) -> bool:
    """Patch ``registry``; False (nothing changed) if this SecantusDB keeps records otherwise."""
    lifetime = getattr(transactions, "_RETRYABLE_RECORD_LIFETIME_SECONDS", None)
    cap = getattr(transactions, "_RETRYABLE_RECORD_MAX", None)
    recordable = getattr(transactions, "_is_recordable_reply", None)
    pruning = hasattr(registry, "_prune_retryable_locked")
    if lifetime is None or cap is None or recordable is None or not pruning:
        return False  # another SecantusDB: run it as it is
    original_init = registry.__init__
    original_record = registry.record_retryable

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - replaces __init__
        original_init(self, *args, **kwargs)
        self._retryable = OrderedDict(self._retryable)

    def record_retryable(
        self: Any, lsid_bytes: bytes, txn_number: int, identity: bytes, reply: dict[str, Any]
    ) -> None:
        if recordable(reply):
            with self._lock:  # a record stored again is the newest: it goes to the end
                self._retryable.pop((lsid_bytes, txn_number), None)
        original_record(self, lsid_bytes, txn_number, identity, reply)

    def _prune_retryable_locked(self: Any) -> None:
        records: OrderedDict[tuple[bytes, int], tuple[dict[str, Any], float, bytes]]
        records = self._retryable
        cutoff = self._time() - lifetime
        while records:
            _reply, stored_at, _identity = records[next(iter(records))]
            if stored_at >= cutoff and len(records) <= cap:
                return
            records.popitem(last=False)

    registry.__init__ = __init__
    registry.record_retryable = record_retryable
    registry._prune_retryable_locked = _prune_retryable_locked
    return True


if __name__ == "__main__":
    keep_records_in_order(transactions.TransactionRegistry)
    sys.exit(main())
