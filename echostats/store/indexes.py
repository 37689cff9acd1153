"""Every index of every collection, declared in one place and created idempotently at startup.

Indexes cost write speed (the embedded server inserts ~6,000 plays/s with only ``_id`` and ~1,500
with five indexes), so the plays collection gets only what its hot queries need. Each hot query
has a compound index matching its filter and sort; names are given so a test can check them, but
no code relies on a name.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo import ASCENDING, DESCENDING, IndexModel


@dataclass(frozen=True)
class CollectionIndexes:
    collection: str
    indexes: tuple[IndexModel, ...]


DAY = 86_400

INDEXES: tuple[CollectionIndexes, ...] = (
    CollectionIndexes(
        "users",
        (IndexModel([("spotify_id", ASCENDING)], unique=True, name="spotify_id_unique"),),
    ),
    # tokens: one document per user, keyed by _id = user id; no secondary index needed.
    CollectionIndexes(
        "scrobble_tokens",
        (
            # Every ListenBrainz request finds its user by the presented secret's digest.
            IndexModel([("digest", ASCENDING)], unique=True, name="digest_unique"),
            IndexModel([("user_id", ASCENDING), ("created_at", ASCENDING)], name="user_created"),
        ),
    ),
    # relay_targets: one document per relaying user, keyed by _id = user id.
    CollectionIndexes(
        "relay_queue",
        (
            # The sender's scan for what is due (pending entries only carry next_attempt_at).
            IndexModel([("state", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("user_id", ASCENDING), ("queued_at", DESCENDING)], name="user_queued"),
            IndexModel([("sent_at", ASCENDING)], expireAfterSeconds=30 * DAY, name="sent_ttl"),
        ),
    ),
    # The dedup key is in the _id itself (``store.plays.new_play_id``): one index fewer, twice
    # the insert rate.
    CollectionIndexes(
        "plays",
        (
            # The aggregator's dedup window and the month reads of ledger builds.
            IndexModel([("user_id", ASCENDING), ("ended_at", DESCENDING)], name="user_ended"),
        ),
    ),
    # ledger, ledger_dictionary, ledger_heads, ledger_builds: read by _id (or an _id prefix
    # range: "<user>|..."); no secondary index needed (store/ledger.py).
    CollectionIndexes(
        "identity_merges",
        (IndexModel([("user_id", ASCENDING), ("created_at", ASCENDING)], name="user_created"),),
    ),
    CollectionIndexes(
        "oauth_states",
        (IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),),
    ),
    CollectionIndexes(
        "sync_jobs",
        (
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)], name="user_created"),
            IndexModel([("created_at", ASCENDING)], expireAfterSeconds=90 * DAY, name="ttl"),
            # The heartbeat and the sweep for abandoned jobs read only the few active ones.
            IndexModel([("status", ASCENDING)], name="status"),
        ),
    ),
    CollectionIndexes(
        "api_logs",
        (
            IndexModel([("timestamp", DESCENDING)], name="timestamp"),
            # GET /api-logs: one user's calls, newest first (filters narrow that range).
            IndexModel([("user_id", ASCENDING), ("timestamp", DESCENDING)], name="user_timestamp"),
            IndexModel([("created_at", ASCENDING)], expireAfterSeconds=30 * DAY, name="ttl"),
        ),
    ),
    CollectionIndexes(
        "playlists",
        (IndexModel([("user_id", ASCENDING), ("name_key", ASCENDING)], name="user_name"),),
    ),
    CollectionIndexes(
        "saved_albums",
        (IndexModel([("user_id", ASCENDING), ("added_at", DESCENDING)], name="user_added"),),
    ),
    CollectionIndexes(
        "leases",
        (IndexModel([("expires_at", ASCENDING)], name="expires"),),
    ),
    # poll_state: one document per user, keyed by _id = user id; no secondary index needed.
    CollectionIndexes(
        "gaps",
        (IndexModel([("user_id", ASCENDING), ("from", ASCENDING)], name="user_from"),),
    ),
    CollectionIndexes(
        "events",
        # Bridged live events only need to live until every replica has seen them.
        (IndexModel([("created_at", ASCENDING)], expireAfterSeconds=300, name="ttl"),),
    ),
)


def declared_index_names() -> dict[str, set[str]]:
    """Collection → names of the declared indexes (for checks and tests)."""
    return {
        spec.collection: {str(index.document["name"]) for index in spec.indexes} for spec in INDEXES
    }
