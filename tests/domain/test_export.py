from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from echostats.domain.counting import decide
from echostats.domain.export import (
    ExportContent,
    ExportFile,
    ExportFormat,
    classify_export_file,
    normalise_account,
    normalise_extended,
)
from echostats.domain.plays import Play, Skip, SkipReason, TimePrecision

SAMPLES = Path(__file__).parent.parent / "data" / "samples"


def _load(name: str) -> list[dict[str, Any]]:
    rows = json.loads((SAMPLES / name).read_text(encoding="utf-8-sig"))
    assert isinstance(rows, list)
    return rows


def _plays(results: list[Play | Skip]) -> list[Play]:
    plays = [r for r in results if isinstance(r, Play)]
    assert len(plays) == len(results), results
    return plays


def _utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def test_sample_2023_audio_file() -> None:
    kind = classify_export_file("extended_Streaming_History_Audio_2023.json")
    assert kind == ExportFile(ExportFormat.EXTENDED, ExportContent.AUDIO)
    rows = _load("extended_Streaming_History_Audio_2023.json")
    plays = _plays([normalise_extended(r, "u1") for r in rows])
    assert [p.track_id for p in plays] == [
        "1U8rhryVYw9gWZ6zvw4Orc",
        "50DMJJpAeQv4fIpxZvQz2e",
        "6hgoYQDUcPyCz7LcTUHKxa",
        "4v3A7ho6Oo49Tem7fOk1sy",
        "24MMjyA3NLqCsDJfsn51eg",
    ]
    first = plays[0]
    # ts is a year after the offline_timestamp (1679249719 s): the stream really started then.
    assert first.ended_at == _utc(2024, 4, 20, 18, 15, 22)
    assert first.started_at == _utc(2023, 3, 19, 18, 15, 19)
    assert first.ms_played == 2385
    assert (first.reason_start, first.reason_end, first.skipped) == ("fwdbtn", "fwdbtn", True)
    # The others agree with ts - ms_played within a second: the computed start is kept.
    assert plays[1].started_at == _utc(2023, 3, 19, 18, 28, 42, 576000)
    assert plays[2].started_at == _utc(2023, 3, 19, 18, 17, 9, 187000)
    assert plays[3].started_at == _utc(2023, 3, 19, 18, 20, 49, 467000)
    assert plays[4].started_at == _utc(2023, 3, 19, 18, 24, 12, 952000)
    monsters = plays[1]
    assert monsters.track_key == "spotify:track:50DMJJpAeQv4fIpxZvQz2e"
    assert monsters.track_name == "Monsters (feat. Demi Lovato and blackbear)"
    assert monsters.artist_names == ("All Time Low",)
    assert monsters.album_name == "Monsters (feat. Demi Lovato and blackbear)"
    assert monsters.ms_played == 174424
    for play in plays:
        assert (play.user_id, play.source, play.precision) == ("u1", "import", TimePrecision.SECOND)
        assert (play.platform, play.shuffle, play.offline, play.incognito) == (
            "android",
            True,
            True,
            False,
        )
        assert play.conn_country is None  # "" in the anonymised file
        assert play.ms_played_estimated is False
    assert Counter(decide(p) for p in plays) == {None: 4, SkipReason.TOO_SHORT: 1}


def test_sample_endsong_file() -> None:
    assert classify_export_file("extended_endsong_0.json") == ExportFile(
        ExportFormat.EXTENDED, ExportContent.AUDIO
    )
    plays = _plays([normalise_extended(r, "u1") for r in _load("extended_endsong_0.json")])
    assert [(p.ended_at, p.started_at, p.ms_played) for p in plays] == [
        # offline_timestamp 0: ts - ms_played.
        (_utc(2013, 3, 14, 10, 44, 25), _utc(2013, 3, 14, 10, 41, 50, 98000), 154902),
        # offline_timestamp in ms, 12.6 min before ts - ms_played: used as the start.
        (_utc(2017, 12, 24, 19, 37, 40), _utc(2017, 12, 24, 19, 23, 48, 800000), 75788),
        (_utc(2022, 3, 22, 16, 22, 18), _utc(2022, 3, 17, 18, 15, 19, 13000), 0),
        (_utc(2010, 12, 1, 10, 28, 44), _utc(2010, 12, 1, 10, 25, 11, 978000), 212022),
        (_utc(2021, 5, 10, 11, 3, 21), _utc(2021, 5, 10, 10, 53, 39, 509000), 581491),
    ]
    assert plays[3].incognito is None
    assert plays[1].skipped is None
    assert plays[0].platform is None  # "" in old exports
    assert plays[2].reason_end == "logout"
    assert plays[4].artist_names == ("Nubya Garcia",)
    assert plays[4].album_name == "Nubya's 5ive"
    assert Counter(decide(p) for p in plays) == {None: 4, SkipReason.TOO_SHORT: 1}


def _row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ts": "2024-05-01T10:00:00Z",
        "ms_played": 60_000,
        "master_metadata_track_name": "Track",
        "master_metadata_album_artist_name": "Artist",
        "master_metadata_album_album_name": "Album",
        "spotify_track_uri": "spotify:track:0123456789abcdefghijkl",
        "episode_name": None,
        "episode_show_name": None,
        "spotify_episode_uri": None,
        "reason_start": "clickrow",
        "reason_end": "trackdone",
        "offline_timestamp": None,
        "incognito_mode": False,
    }
    row.update(overrides)
    return row


def _start(row: dict[str, Any]) -> datetime:
    result = normalise_extended(row, "u")
    assert isinstance(result, Play)
    return result.started_at


COMPUTED = _utc(2024, 5, 1, 9, 59)  # ts - 60 s


@pytest.mark.parametrize(
    ("offline_timestamp", "expected"),
    [
        (None, COMPUTED),
        (0, COMPUTED),
        (1, COMPUTED),
        (True, COMPUTED),
        ("1714557000", COMPUTED),  # a string is not a timestamp
        (1714557000, _utc(2024, 5, 1, 9, 50)),  # seconds, 9 min earlier
        (1714557000123, _utc(2024, 5, 1, 9, 50, 0, 123000)),  # milliseconds
        (1714557545, COMPUTED),  # 5 s from the computed start: within 10 s, keep computed
        (1714557529, _utc(2024, 5, 1, 9, 58, 49)),  # 11 s: use it
        (1714557650, COMPUTED),  # after ts: implausible
        (1199145600, COMPUTED),  # 2008-01-01, before Spotify existed
        (1e300, COMPUTED),
        (float("nan"), COMPUTED),
    ],
)
def test_offline_timestamp(offline_timestamp: Any, expected: datetime) -> None:
    assert _start(_row(offline_timestamp=offline_timestamp)) == expected


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {
                "spotify_track_uri": None,
                "master_metadata_track_name": None,
                "master_metadata_album_artist_name": None,
                "master_metadata_album_album_name": None,
                "episode_name": "Ep 1",
                "episode_show_name": "Show",
                "spotify_episode_uri": "spotify:episode:0123456789abcdefghijkl",
            },
            SkipReason.PODCAST,
        ),
        (
            {
                "spotify_track_uri": None,
                "master_metadata_track_name": None,
                "master_metadata_album_artist_name": None,
                "audiobook_title": "Book",
                "audiobook_uri": "spotify:audiobook:x",
                "audiobook_chapter_uri": "spotify:chapter:y",
                "audiobook_chapter_title": "Chapter 1",
            },
            SkipReason.AUDIOBOOK,
        ),
        (
            {
                "spotify_track_uri": None,
                "master_metadata_track_name": None,
                "master_metadata_album_artist_name": None,
            },
            SkipReason.NO_TRACK,
        ),
        ({"spotify_track_uri": None, "master_metadata_album_artist_name": ""}, SkipReason.NO_TRACK),
        ({"ts": None}, SkipReason.MALFORMED),
        ({"ts": "yesterday"}, SkipReason.MALFORMED),
        ({"ts": "2024-05-01"}, SkipReason.MALFORMED),
        ({"ts": 1714557600}, SkipReason.MALFORMED),
        ({"ms_played": None}, SkipReason.MALFORMED),
        ({"ms_played": "100"}, SkipReason.MALFORMED),
        ({"ms_played": -1}, SkipReason.MALFORMED),
        ({"ms_played": True}, SkipReason.MALFORMED),
        ({"ms_played": 1.5}, SkipReason.MALFORMED),
        ({"spotify_track_uri": 42}, SkipReason.MALFORMED),
        ({"master_metadata_track_name": ["x"]}, SkipReason.MALFORMED),
        ({"shuffle": "yes"}, SkipReason.MALFORMED),
        ({"master_metadata_track_name": "bad \ud800 surrogate"}, SkipReason.MALFORMED),
    ],
)
def test_extended_skips(overrides: dict[str, Any], reason: SkipReason) -> None:
    assert normalise_extended(_row(**overrides), "u") == Skip(reason)


@pytest.mark.parametrize("row", [None, [], "row", 42])
def test_extended_non_object_rows_are_malformed(row: Any) -> None:
    assert normalise_extended(row, "u") == Skip(SkipReason.MALFORMED)
    assert normalise_account(row, "u") == Skip(SkipReason.MALFORMED)


def test_extended_local_file_gets_a_name_key() -> None:
    play = normalise_extended(
        _row(spotify_track_uri=None, master_metadata_track_name="Démo", reason_end=None), "u"
    )
    assert isinstance(play, Play)
    assert (play.track_id, play.track_key) == (None, "name:artist|demo")
    local = normalise_extended(_row(spotify_track_uri="spotify:local:a:b:c:100"), "u")
    assert isinstance(local, Play)
    assert local.track_key == "name:artist|track"


def test_extended_incognito_and_video_become_flagged_plays() -> None:
    incognito = normalise_extended(_row(incognito_mode=True), "u")
    assert isinstance(incognito, Play)
    assert incognito.incognito is True
    assert decide(incognito) is SkipReason.INCOGNITO
    video = normalise_extended(_row(offline=None), "u", video=True)
    assert isinstance(video, Play)
    assert video.video is True
    assert decide(video) is SkipReason.VIDEO


def test_extended_row_with_only_ts_and_ms_is_no_track() -> None:
    assert normalise_extended({"ts": "2024-05-01T10:00:00Z", "ms_played": 5}, "u") == Skip(
        SkipReason.NO_TRACK
    )


def test_extended_offset_timestamps_are_converted_to_utc() -> None:
    play = normalise_extended(_row(ts="2024-05-01T12:00:00+02:00"), "u")
    assert isinstance(play, Play)
    assert play.ended_at == _utc(2024, 5, 1, 10)
    assert play.ended_at.tzinfo is UTC


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
_EXTENDED_KEYS = [
    *_row(),
    "shuffle",
    "skipped",
    "offline",
    "platform",
    "conn_country",
    "audiobook_uri",
]
_ACCOUNT_KEYS = ["endTime", "artistName", "trackName", "msPlayed", "podcastName", "episodeName"]


@given(st.dictionaries(st.sampled_from(_EXTENDED_KEYS), _JSON, max_size=len(_EXTENDED_KEYS)))
def test_extended_never_raises_on_garbage(row: dict[str, Any]) -> None:
    result = normalise_extended(row, "u")
    if isinstance(result, Play):
        assert result.ended_at.tzinfo is UTC
        assert result.ms_played >= 0
        assert result.started_at <= result.ended_at


@given(st.dictionaries(st.sampled_from(_ACCOUNT_KEYS), _JSON, max_size=len(_ACCOUNT_KEYS)))
def test_account_never_raises_on_garbage(row: dict[str, Any]) -> None:
    assert isinstance(normalise_account(row, "u"), Play | Skip)


# Account data (SPOTIFY.md §5.3): the shapes of StreamingHistory_music/_podcast/_audiobook rows.
ACCOUNT_ROWS: list[dict[str, Any]] = [
    {
        "endTime": "2024-11-27 00:06",
        "artistName": "Sigur Rós",
        "trackName": "Hoppípolla",
        "msPlayed": 268_000,
    },
    {
        "endTime": "2024-11-27 00:06",
        "artistName": "Sigur Rós",
        "trackName": "Hoppípolla",
        "msPlayed": 268_000,
    },
    {
        "endTime": "2024-11-27 00:09",
        "artistName": "Unknown Artist",
        "trackName": "Unknown Track",
        "msPlayed": 1000,
    },
    {"endTime": "2024-11-27 00:10", "artistName": "Björk", "trackName": "Jóga", "msPlayed": 0},
    {"endTime": "2024-11-27 00:12", "podcastName": "Show", "episodeName": "Ep", "msPlayed": 90_000},
    {
        "endTime": "2024-11-27 00:13",
        "audiobookName": "Book",
        "chapterName": "One",
        "authorName": "A",
        "msPlayed": 5,
    },
    {
        "endTime": "2024-11-27T00:15Z[UTC]",
        "artistName": 311,
        "trackName": "Amber",
        "msPlayed": 208_000,
    },
    {"endTime": "27/11/2024 00:16", "artistName": "X", "trackName": "Y", "msPlayed": 1},
    {"endTime": "2024-11-27 00:17", "artistName": "X", "trackName": None, "msPlayed": 1},
]


def test_account_rows() -> None:
    results = [normalise_account(row, "u2") for row in ACCOUNT_ROWS]
    assert results[2:] == [
        Skip(SkipReason.NO_TRACK),
        results[3],
        Skip(SkipReason.PODCAST),
        Skip(SkipReason.AUDIOBOOK),
        results[6],
        Skip(SkipReason.MALFORMED),
        Skip(SkipReason.NO_TRACK),
    ]
    first, duplicate, short, number = results[0], results[1], results[3], results[6]
    assert isinstance(first, Play)
    assert first == duplicate
    assert first.track_key == "name:sigur ros|hoppipolla"
    assert (first.track_id, first.album_name, first.artist_names) == (None, None, ("Sigur Rós",))
    assert first.ended_at == _utc(2024, 11, 27, 0, 6)
    assert first.started_at == _utc(2024, 11, 27, 0, 1, 32)
    assert first.precision is TimePrecision.MINUTE
    assert (first.user_id, first.source, first.platform, first.reason_end) == (
        "u2",
        "import",
        None,
        None,
    )
    assert isinstance(short, Play)
    assert short.ms_played == 0
    assert decide(short) is SkipReason.TOO_SHORT
    assert isinstance(number, Play)
    assert (number.artist_names, number.ended_at) == (("311",), _utc(2024, 11, 27, 0, 15))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Streaming_History_Audio_2023.json", (ExportFormat.EXTENDED, ExportContent.AUDIO)),
        (
            "Spotify Extended Streaming History/Streaming_History_Audio_2014-2018_0.json",
            (ExportFormat.EXTENDED, ExportContent.AUDIO),
        ),
        ("Streaming_History_Audio_2024_4.json", (ExportFormat.EXTENDED, ExportContent.AUDIO)),
        ("x\\Streaming_History_Video_2022-2025.json", (ExportFormat.EXTENDED, ExportContent.VIDEO)),
        ("MyData/endsong_0.json", (ExportFormat.EXTENDED, ExportContent.AUDIO)),
        ("ENDSONG_12.JSON", (ExportFormat.EXTENDED, ExportContent.AUDIO)),
        ("MyData/StreamingHistory0.json", (ExportFormat.ACCOUNT, ExportContent.MUSIC)),
        ("StreamingHistory_music_1.json", (ExportFormat.ACCOUNT, ExportContent.MUSIC)),
        ("StreamingHistory_podcast_0.json", (ExportFormat.ACCOUNT, ExportContent.PODCAST)),
        ("StreamingHistory_audiobook_0.json", (ExportFormat.ACCOUNT, ExportContent.AUDIOBOOK)),
    ],
)
def test_classify_export_files(name: str, expected: tuple[ExportFormat, ExportContent]) -> None:
    assert classify_export_file(name) == ExportFile(*expected)


@pytest.mark.parametrize(
    "name",
    [
        "ReadMeFirst_ExtendedStreamingHistory.pdf",
        "Userdata.json",
        "YourLibrary.json",
        "Playlist1.json",
        "Streaming_History_Audio_2023.json.exe",
        "Streaming_History_Audio_2023",
        "notendsong_0.json",
        "",
    ],
)
def test_classify_rejects_other_files(name: str) -> None:
    assert classify_export_file(name) is None
