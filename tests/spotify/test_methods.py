"""The typed methods against the simulator's ground truth."""

from __future__ import annotations

import pytest

from echostats.errors import SpotifyForbidden, SpotifyNotFound
from echostats.simulator import Simulator, SimulatorConfig
from echostats.spotify import ApiCallRecord, SpotifyClient, TokenSet
from echostats.spotify.models import Episode, Track
from tests.spotify.conftest import CLIENT_ID, CLIENT_SECRET, connect, start_listening
from tests.spotify.memory_store import MemoryTokenStore

pytestmark = pytest.mark.anyio


async def test_profile(sim: Simulator, client: SpotifyClient, alice: TokenSet) -> None:
    user = await client.me("alice")
    truth = sim.users["alice"]
    assert user.display_name == "Alice"
    assert user.account_id == truth.account_id


async def test_recently_played_matches_ground_truth_and_cursors(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    sim.start_autoplay("alice")
    sim.clock.advance(3 * 3600)
    page = await client.recently_played("alice", limit=50)
    assert len(page.items) > 10
    truth = [p for p in sim.users["alice"].played if p.in_history][::-1][:50]
    assert [h.track.id for h in page.items] == [p.track_id for p in truth]
    assert page.items == sorted(page.items, key=lambda h: h.played_at, reverse=True)
    assert page.cursors is not None
    assert page.cursors.after is not None
    newest = page.items[0].played_at
    nothing_new = await client.recently_played("alice", after=newest)
    assert nothing_new.items == []
    played_before = len(sim.users["alice"].played)
    for _ in range(48):  # the virtual listener takes breaks; wait for the next session
        sim.clock.advance(1800)
        if len(sim.users["alice"].played) > played_before:
            break
    fresh = await client.recently_played("alice", after=int(page.cursors.after))
    assert fresh.items
    assert all(h.played_at > newest for h in fresh.items)
    new_truth = [p.track_id for p in sim.users["alice"].played[played_before:] if p.in_history]
    assert sorted(h.track.id or "" for h in fresh.items) == sorted(new_truth)


async def test_recently_played_argument_checks(client: SpotifyClient) -> None:
    with pytest.raises(ValueError):
        await client.recently_played("alice", limit=51)
    with pytest.raises(ValueError):
        await client.recently_played("alice", after=1, before=2)


async def test_now_playing_queue_and_controls(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    start_listening(sim, "alice")
    sim.clock.advance(5)
    now = await client.currently_playing("alice")
    assert now is not None
    assert isinstance(now.item, Track)
    assert now.item.id == sim.users["alice"].player.current
    queue = await client.queue("alice")
    assert queue.currently_playing is not None
    before = now.item.id
    await client.next_track("alice")
    after = await client.currently_playing("alice")
    assert after is not None
    assert after.item is not None
    assert after.item.id != before
    await client.previous_track("alice")
    devices = await client.devices("alice")
    other = next((d for d in devices if not d.is_active and d.id), None)
    if other is not None and other.id is not None:
        await client.transfer("alice", other.id, play=True)
        state = await client.playback_state("alice")
        assert state is not None
        assert state.device is not None
        assert state.device.id == other.id
    uri = queue.queue[0].uri if queue.queue and queue.queue[0].uri else None
    if uri:
        await client.add_to_queue("alice", uri)


async def test_play_a_context_with_offset(
    sim: Simulator, client: SpotifyClient, alice: TokenSet
) -> None:
    start_listening(sim, "alice")
    sim.clock.advance(1)
    playlists = [p async for p in client.iter_my_playlists("alice")]
    own = next(p for p in playlists if p.owner and p.owner.id == "alice" and p.uri)
    assert own.uri is not None
    items = (await client.playlist_items("alice", own.id, limit=5)).items
    target = next(row.item for row in items if isinstance(row.item, Track))
    await client.play("alice", context_uri=own.uri, offset=target.uri, position_ms=1000)
    now = await client.currently_playing("alice")
    assert now is not None
    assert now.item is not None
    assert now.item.id == target.id
    assert now.context is not None
    assert now.context.uri == own.uri


async def test_top_lists(client: SpotifyClient, alice: TokenSet) -> None:
    artists = await client.top_artists("alice", time_range="short_term", limit=5)
    tracks = await client.top_tracks("alice", time_range="long_term", limit=5, offset=1)
    assert artists.items
    assert all(a.genres == [] and a.popularity is None for a in artists.items)
    assert tracks.offset == 1
    assert len(tracks.items) <= 5


async def test_playlists_paged_and_items_path(
    sim: Simulator, client: SpotifyClient, alice: TokenSet, records: list[ApiCallRecord]
) -> None:
    playlists = [p async for p in client.iter_my_playlists("alice", page_size=2)]
    assert {p.id for p in playlists} == set(sim.users["alice"].playlist_ids)
    own = [p for p in playlists if p.owner and p.owner.id == "alice"]
    foreign = [
        p
        for p in playlists
        if p.owner and p.owner.id not in ("alice", "spotify") and not p.collaborative
    ]
    editorial = [p for p in playlists if p.owner and p.owner.id == "spotify"]
    for playlist in own:
        rows = [row async for row in client.iter_playlist_items("alice", playlist.id, page_size=3)]
        assert playlist.items is not None
        assert len(rows) == playlist.items.total
        full = await client.playlist("alice", playlist.id)
        assert full.items is not None
    for playlist in foreign:
        full = await client.playlist("alice", playlist.id)
        assert full.items is None  # metadata only
        with pytest.raises(SpotifyForbidden):
            await client.playlist_items("alice", playlist.id)
    for playlist in editorial:  # Spotify-owned: gone for development-mode apps
        with pytest.raises(SpotifyNotFound):
            await client.playlist("alice", playlist.id)
    assert "/playlists/{id}/items" in {r.endpoint for r in records}
    assert all("{" not in r.endpoint or r.endpoint.count("{id}") == 1 for r in records)


async def test_library(sim: Simulator, client: SpotifyClient, alice: TokenSet) -> None:
    truth = sim.users["alice"]
    tracks = await client.saved_tracks("alice", limit=50)
    assert tracks.total == len(truth.saved_tracks)
    albums = await client.saved_albums("alice", limit=3, offset=0)
    assert albums.total == len(truth.saved_albums)
    assert all(a.album.id for a in albums.items)
    followed = [a.id or "" async for a in client.iter_followed_artists("alice", page_size=2)]
    assert sorted(followed) == sorted(truth.followed_artists)
    first = await client.followed_artists("alice", limit=2)
    assert first.cursors is None or first.cursors.after == first.items[-1].id


async def test_catalog_lookups_and_search(client: SpotifyClient, alice: TokenSet) -> None:
    saved = await client.saved_tracks("alice", limit=1)
    track = saved.items[0].track
    assert track.id is not None
    assert track.album is not None
    assert track.album.id is not None
    looked_up = await client.track("alice", track.id)
    assert looked_up.id == track.id
    album = await client.album("alice", track.album.id)
    assert album.id == track.album.id
    artist_id = track.artists[0].id
    assert artist_id is not None
    artist = await client.artist("alice", artist_id)
    assert artist.id == artist_id
    albums = await client.artist_albums("alice", artist_id, limit=10)
    assert all(a.id for a in albums.items)
    results = await client.search("alice", track.name, types=("track", "artist"), limit=10)
    assert results.tracks is not None
    assert track.id in {t.id for t in results.tracks.items}
    with pytest.raises(ValueError):
        await client.search("alice", "x", limit=11)


async def test_episode_may_replace_a_track(client: SpotifyClient, alice: TokenSet) -> None:
    # Whatever the simulator plays, the union accepts both kinds.
    results = await client.search("alice", "a", types=("episode",), limit=5)
    assert results.episodes is None or all(isinstance(e, Episode) for e in results.episodes.items)


REALISTIC = SimulatorConfig.realistic(seed=42, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


@pytest.mark.parametrize("sim_config", [REALISTIC])
async def test_the_oddities_of_real_accounts_parse(
    sim: Simulator, client: SpotifyClient, alice: TokenSet, store: MemoryTokenStore
) -> None:
    # Null rows among playlist search results are dropped.
    results = await client.search("alice", "a", types=("playlist",), limit=5)
    assert results.playlists is not None
    assert len(results.playlists.items) == 4
    # A local file, a row whose track left the catalog, a row without added_at/added_by.
    owned = [sim.catalog.playlists[p] for p in sim.users["alice"].playlist_ids]
    odd = next(p for p in owned if any(e.local for e in p.entries))
    rows = (await client.playlist_items("alice", odd.id, limit=10)).items
    assert (rows[0].added_at, rows[0].added_by) == (None, None)
    local = rows[2].item
    assert isinstance(local, Track)
    assert (local.id, local.is_local, rows[2].is_local) == (None, True, True)
    assert rows[5].item is None
    # An episode in the player.
    show = sorted(sim.catalog.spoken.shows.values(), key=lambda s: s.id)[0]
    sim.listen("alice", context_uri=f"spotify:show:{show.id}")
    state = await client.playback_state("alice")
    assert state is not None
    assert isinstance(state.item, Episode)
    assert state.currently_playing_type == "episode"
    # A free account's advert: no item.
    sim.add_user("frank", premium=False)
    connect(sim, store, "frank")
    sim.listen("frank", sorted(sim.catalog.tracks)[:30])
    player = sim.users["frank"].player
    while player.adverts == 0:
        end = player.end_ms()
        assert end is not None
        sim.clock.advance((end - sim.clock.now_ms()) / 1000 + 1)
    advert = await client.currently_playing("frank")
    assert advert is not None
    assert (advert.currently_playing_type, advert.item) == ("ad", None)
