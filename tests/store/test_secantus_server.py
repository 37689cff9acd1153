"""The embedded store's server keeps retryable-write records as SecantusDB does, only cheaper
(``echostats/store/secantus_server.py``): the same records are kept and the same replies given."""

from __future__ import annotations

import random

import pytest
from secantus import transactions

from echostats.store.secantus_server import keep_records_in_order


def test_retryable_records_are_kept_and_dropped_as_secantusdb_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transactions, "_RETRYABLE_RECORD_MAX", 10)  # the cap, reached often

    class InOrder(transactions.TransactionRegistry):  # type: ignore[misc]  # untyped package
        pass

    assert keep_records_in_order(InOrder)
    now = [1_000.0]
    theirs = transactions.TransactionRegistry(time_func=lambda: now[0])
    ours = InOrder(time_func=lambda: now[0])
    rng = random.Random(7)
    lookups = 0
    for step in range(6_000):
        now[0] += rng.choice([0.0, 0.5, 3.0, 60.0, 600.0])  # some records outlive 30 minutes
        key = (bytes([rng.randrange(2)]), rng.randrange(30))
        identity = bytes([rng.randrange(2)])
        if rng.random() < 0.5:
            reply = {"ok": rng.choice([1, 1, 1, 0]), "n": step}
            theirs.record_retryable(*key, identity, dict(reply))
            ours.record_retryable(*key, identity, dict(reply))
        else:
            expected = theirs.retryable_reply(*key, identity)
            assert ours.retryable_reply(*key, identity) == expected
            lookups += expected is not None
        assert dict(ours._retryable) == theirs._retryable
    assert lookups > 100  # replies were replayed, not only missed
