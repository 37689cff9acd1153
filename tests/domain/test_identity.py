"""Canonical identity: every source's spelling of one track, artist or album is one entity."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from echostats.domain.identity import Kind, Merge, key_of, public_id
from echostats.domain.ledger import Spelling
from echostats.domain.plays import Play, TimePrecision
from tests.domain.factories import make_play
from tests.domain.spelled import identity_of, keys
from tests.identity_reference import Identity

KAIA = "0kaia000000000000000000"
SONG = "1song000000000000000000"
ALBUM = "2album00000000000000000"
PAVEL = "3pavel00000000000000000"


def polled() -> Play:
    """What the poller records: ids for the track, every artist and the album."""
    return make_play(
        track_id=SONG,
        artist="Kaia & the Ghosts",
        artist_names=("Kaia & the Ghosts", "Pavel"),
        artist_ids=(KAIA, PAVEL),
        track_name="Lanterns",
        album_name="Night Market",
        album_id=ALBUM,
        source="poll",
        precision=TimePrecision.MILLISECOND,
    )


def extended() -> Play:
    """An extended-export row: the track's id, but only the main artist's and album's names."""
    return make_play(
        track_id=SONG,
        artist="Kaia & the Ghosts",
        track_name="Lanterns",
        album_name="Night Market",
    )


def account() -> Play:
    """An account-data row: names only, spelled in another case."""
    return make_play(
        track_id=None, artist="KAIA & THE GHOSTS", track_name="lanterns", album_name=None
    )


def spellings(*plays: Play) -> list[Spelling]:
    return list(dict.fromkeys(Spelling.of(p) for p in plays))


def test_every_source_of_one_play_is_one_track_one_artist_one_album() -> None:
    for order in ((extended(), account(), polled()), (polled(), account(), extended())):
        ident = identity_of(spellings(*order))
        assert keys(ident.tracks) == [key_of(Kind.TRACK, SONG)]
        assert set(ident.track_of_entry.tolist()) == {0}
        kaia = ident.artists.find(key_of(Kind.ARTIST, KAIA))
        assert kaia is not None
        assert ident.artists.find("name:kaia & the ghosts") == kaia
        # The track credits both artists (the polled play knows them), whatever spelled it.
        assert [ident.artists.key(a) for a in ident.artists_of(0)] == [
            key_of(Kind.ARTIST, KAIA),
            key_of(Kind.ARTIST, PAVEL),
        ]
        assert ident.albums.key(int(ident.album_of_track[0])) == key_of(Kind.ALBUM, ALBUM)
        assert ident.albums.find("name:kaia & the ghosts|night market") is not None


def test_names_alone_stay_names_until_something_links_them() -> None:
    ident = identity_of(spellings(extended(), account()))
    assert keys(ident.tracks) == [key_of(Kind.TRACK, SONG)]  # the row's track id links the name
    assert keys(ident.artists) == ["name:kaia & the ghosts"]
    assert keys(ident.albums) == ["name:kaia & the ghosts|night market"]


def test_two_ids_are_never_merged_by_a_name() -> None:
    single = replace(polled(), track_id="9single00000000000000000", track_key="x")
    ident = identity_of(spellings(polled(), single))
    assert len(ident.tracks) == 2
    # A names-only play links to the first id learned for its name, and keeps doing so.
    more = identity_of(spellings(polled(), single, account()))
    assert more.tracks.key(int(more.track_of_entry[2])) == key_of(Kind.TRACK, SONG)


def test_a_merge_folds_and_removing_it_undoes_it() -> None:
    other = make_play(track_id=None, artist="Kaia and the Ghosts", track_name="Lanterns")
    plays = spellings(polled(), other)
    before = identity_of(plays)
    assert len(before.artists) == 3  # Kaia, Pavel, and Kaia spelled another way
    merge = Merge("m1", Kind.ARTIST, "name:kaia and the ghosts", key_of(Kind.ARTIST, KAIA))
    after = identity_of(plays, [merge])
    assert len(after.artists) == 2
    assert after.artists.find("name:kaia and the ghosts") == after.artists.find(
        key_of(Kind.ARTIST, KAIA)
    )
    assert after.merges == (merge,)
    undone = identity_of(plays, [])
    assert keys(undone.artists) == keys(before.artists)
    assert undone.merges == ()


def test_a_merge_that_closes_a_loop_is_ignored() -> None:
    plays = spellings(polled(), account())
    a, b = key_of(Kind.ARTIST, KAIA), key_of(Kind.ARTIST, PAVEL)
    ident = identity_of(plays, [Merge("1", Kind.ARTIST, a, b), Merge("2", Kind.ARTIST, b, a)])
    assert [m.id for m in ident.merges] == ["1"]
    assert len(ident.artists) == 1


def test_public_ids_round_trip() -> None:
    for kind in Kind:
        assert key_of(kind, public_id(key_of(kind, SONG))) == key_of(kind, SONG)
        assert key_of(kind, "name:x|y") == "name:x|y"


_ARTISTS = st.sampled_from(["Kaia", "KAIA", "Pavel", "Élin", "elin"])
_IDS = st.sampled_from([None, "a1", "a2"])


@st.composite
def _spelled(draw: st.DrawFn) -> Play:
    names = tuple(draw(st.lists(_ARTISTS, min_size=1, max_size=2, unique=True)))
    ids = tuple(draw(_IDS) or f"x{n}" for n in names) if draw(st.booleans()) else ()
    return make_play(
        track_id=draw(st.sampled_from([None, "t1", "t2"])),
        artist=names[0],
        artist_names=names,
        artist_ids=ids,
        track_name=draw(st.sampled_from(["Song", "song", "Other"])),
        album_name=draw(st.sampled_from([None, "LP", "lp"])),
        album_id=draw(st.sampled_from([None, "al1", "al2"])),
    )


@settings(max_examples=200, deadline=None)
@given(plays=st.lists(_spelled(), max_size=12))
def test_resolution_equals_the_brute_force_rules(plays: list[Play]) -> None:
    """Every spelling's track, artists and album, against the rules written out plainly."""
    words = spellings(*plays)
    ident = identity_of(words)
    reference = Identity(plays)
    for play in plays:
        code = words.index(Spelling.of(play))
        track = int(ident.track_of_entry[code])
        canon = reference.of(play)
        assert ident.tracks.key(track) == canon.track
        assert tuple(ident.artists.key(a) for a in ident.artists_of(track)) == canon.artists
        album = int(ident.album_of_track[track])
        assert (ident.albums.key(album) if album >= 0 else None) == canon.album
