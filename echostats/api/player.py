"""``/api/v1/player``: the person's Spotify player, read and remote-controlled.

Spotify's refusals arrive as typed exceptions from the client and are mapped centrally
(Premium required 403, no active device or a restricted device 409, Spotify down 502, rate
limited 429 with ``Retry-After``). Bodies are validated here first, so a malformed URI is a 422
with the field named instead of a round trip that Spotify answers with a vague 400.

After a successful command the new player state is read back and published on the now-playing
stream at once, in the poller's own event shape (``actors.poller.snapshot``), so every open
dashboard follows a button press without waiting for the next poll.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field, model_validator

from actors import topics
from actors.events import event_of, now_playing_payload
from actors.poller import snapshot
from echostats.api.auth import CurrentUser
from echostats.api.passthrough import PipelineDep, PlayableOut, SpotifyDep, playable_out
from echostats.errors import SpotifyError
from echostats.spotify import SpotifyClient
from echostats.spotify.player_models import Device, PlaybackState

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/player", tags=["player"])

ID = r"[0-9A-Za-z]{22}"
PLAYABLE_URI = rf"^spotify:(track|episode):{ID}$"
CONTEXT_URI = rf"^spotify:((album|artist|playlist|show):{ID}|user:[^:\s]+:collection)$"
DEVICE_ID = r"^[0-9A-Za-z_\-]{1,128}$"

DeviceId = Annotated[str, Field(pattern=DEVICE_ID, description="A device id from /devices.")]
PlayableUri = Annotated[str, Field(pattern=PLAYABLE_URI, examples=["spotify:track:" + "a" * 22])]


# --- response shapes ---------------------------------------------------------------------------


class DeviceOut(BaseModel):
    id: str | None
    name: str
    type: str
    is_active: bool
    volume_percent: int | None
    is_restricted: bool
    is_private_session: bool
    supports_volume: bool | None


class ContextOut(BaseModel):
    type: str | None
    uri: str | None


class PlayerCurrentOut(BaseModel):
    """The player while something is loaded (``is_playing`` is false while paused)."""

    is_playing: bool
    track: PlayableOut | None  # None during an ad
    progress_ms: int | None
    duration_ms: int | None
    device: DeviceOut | None
    shuffle: bool
    repeat: str
    context: ContextOut | None
    currently_playing_type: str


class PlayerIdleOut(BaseModel):
    """Nothing is loaded on any device."""

    is_playing: Literal[False] = False


class DevicesOut(BaseModel):
    devices: list[DeviceOut]


class QueueOut(BaseModel):
    currently_playing: PlayableOut | None
    queue: list[PlayableOut]


class CommandOut(BaseModel):
    status: str = Field(description="What was done, e.g. 'paused' or 'skipped_to_next'.")
    player: PlayerCurrentOut | PlayerIdleOut | None = Field(
        description="The player right after the command; None when Spotify did not say."
    )


def device_out(device: Device, *, active: bool | None = None) -> DeviceOut:
    return DeviceOut(
        id=device.id,
        name=device.name,
        type=device.type,
        is_active=device.is_active if active is None else active,
        volume_percent=device.volume_percent,
        is_restricted=device.is_restricted,
        is_private_session=device.is_private_session,
        supports_volume=device.supports_volume,
    )


def current_out(state: PlaybackState | None) -> PlayerCurrentOut | PlayerIdleOut:
    if state is None:
        return PlayerIdleOut()
    item = state.item
    context = state.context
    return PlayerCurrentOut(
        is_playing=state.is_playing,
        track=playable_out(item) if item is not None else None,
        progress_ms=state.progress_ms,
        duration_ms=item.duration_ms if item is not None else None,
        device=device_out(state.device, active=True) if state.device is not None else None,
        shuffle=state.shuffle_state,
        repeat=state.repeat_state,
        context=ContextOut(type=context.type, uri=context.uri) if context is not None else None,
        currently_playing_type=state.currently_playing_type,
    )


# --- request bodies ------------------------------------------------------------------------------


class Target(BaseModel):
    device_id: DeviceId | None = None


class PlayIn(Target):
    context_uri: str | None = Field(default=None, pattern=CONTEXT_URI)
    uris: list[PlayableUri] | None = Field(default=None, min_length=1, max_length=100)
    position_ms: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.context_uri is not None and self.uris is not None:
            raise ValueError("give either context_uri or uris, not both")
        return self


class SeekIn(Target):
    position_ms: int = Field(ge=0, le=2**31 - 1)


class VolumeIn(Target):
    volume_percent: int = Field(ge=0, le=100)


class ShuffleIn(Target):
    state: bool


class RepeatIn(Target):
    state: Literal["track", "context", "off"]


class TransferIn(BaseModel):
    device_id: DeviceId
    play: bool = False


class QueueIn(Target):
    uri: PlayableUri


# --- after a command -----------------------------------------------------------------------------


async def _publish_state(
    spotify: SpotifyClient, pipeline: PipelineDep, user_id: str
) -> PlayerCurrentOut | PlayerIdleOut | None:
    """Read the player back and tell the now-playing stream. The command itself succeeded, so
    a failing read only costs the event (the poller catches up), never the answer."""
    try:
        state = await spotify.playback_state(user_id)
    except SpotifyError as exc:
        log.warning(
            "player state not read after a command",
            extra={"user_id": user_id, "error": type(exc).__name__},
        )
        return None
    current = now_playing_payload(snapshot(state, datetime.now(UTC)))
    pipeline.publish(event_of(topics.now_playing(user_id), current))
    return current_out(state)


async def _done(
    status: str, spotify: SpotifyClient, pipeline: PipelineDep, user_id: str
) -> CommandOut:
    return CommandOut(status=status, player=await _publish_state(spotify, pipeline, user_id))


NoBody = Annotated[Target | None, Body()]


# --- reads ---------------------------------------------------------------------------------------


@router.get(
    "/current",
    response_model=PlayerCurrentOut | PlayerIdleOut,
    summary="What is playing now, or {is_playing: false} when nothing is loaded",
)
async def current(user: CurrentUser, spotify: SpotifyDep) -> PlayerCurrentOut | PlayerIdleOut:
    return current_out(await spotify.playback_state(user.id))


@router.get("/devices", response_model=DevicesOut, summary="The person's Spotify devices")
async def devices(user: CurrentUser, spotify: SpotifyDep) -> DevicesOut:
    return DevicesOut(devices=[device_out(d) for d in await spotify.devices(user.id)])


@router.get("/queue", response_model=QueueOut, summary="The current track and what plays next")
async def queue(user: CurrentUser, spotify: SpotifyDep) -> QueueOut:
    answer = await spotify.queue(user.id)
    return QueueOut(
        currently_playing=playable_out(answer.currently_playing)
        if answer.currently_playing is not None
        else None,
        queue=[playable_out(item) for item in answer.queue],
    )


# --- commands ------------------------------------------------------------------------------------


@router.post(
    "/play",
    response_model=CommandOut,
    summary="Resume, or play a context (album, artist, playlist) or a list of tracks",
)
async def play(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: PlayIn | None = None
) -> CommandOut:
    body = body or PlayIn()
    await spotify.play(
        user.id,
        context_uri=body.context_uri,
        uris=body.uris,
        position_ms=body.position_ms,
        device_id=body.device_id,
    )
    return await _done("playing", spotify, pipeline, user.id)


@router.post("/pause", response_model=CommandOut, summary="Pause playback")
async def pause(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: NoBody = None
) -> CommandOut:
    await spotify.pause(user.id, device_id=body.device_id if body else None)
    return await _done("paused", spotify, pipeline, user.id)


@router.post("/next", response_model=CommandOut, summary="Skip to the next track")
async def next_track(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: NoBody = None
) -> CommandOut:
    await spotify.next_track(user.id, device_id=body.device_id if body else None)
    return await _done("skipped_to_next", spotify, pipeline, user.id)


@router.post("/previous", response_model=CommandOut, summary="Go back to the previous track")
async def previous_track(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: NoBody = None
) -> CommandOut:
    await spotify.previous_track(user.id, device_id=body.device_id if body else None)
    return await _done("skipped_to_previous", spotify, pipeline, user.id)


@router.post("/seek", response_model=CommandOut, summary="Seek within the current track")
async def seek(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: SeekIn
) -> CommandOut:
    await spotify.seek(user.id, body.position_ms, device_id=body.device_id)
    return await _done("seeked", spotify, pipeline, user.id)


@router.post("/volume", response_model=CommandOut, summary="Set the volume (0-100)")
async def volume(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: VolumeIn
) -> CommandOut:
    await spotify.set_volume(user.id, body.volume_percent, device_id=body.device_id)
    return await _done("volume_set", spotify, pipeline, user.id)


@router.post("/shuffle", response_model=CommandOut, summary="Turn shuffle on or off")
async def shuffle(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: ShuffleIn
) -> CommandOut:
    await spotify.set_shuffle(user.id, body.state, device_id=body.device_id)
    return await _done("shuffle_on" if body.state else "shuffle_off", spotify, pipeline, user.id)


@router.post("/repeat", response_model=CommandOut, summary="Repeat the track, the context, or off")
async def repeat(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: RepeatIn
) -> CommandOut:
    await spotify.set_repeat(user.id, body.state, device_id=body.device_id)
    return await _done(f"repeat_{body.state}", spotify, pipeline, user.id)


@router.post("/transfer", response_model=CommandOut, summary="Move playback to another device")
async def transfer(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: TransferIn
) -> CommandOut:
    await spotify.transfer(user.id, body.device_id, play=body.play)
    return await _done("transferred", spotify, pipeline, user.id)


@router.post("/queue", response_model=CommandOut, summary="Add a track or episode to the queue")
async def add_to_queue(
    user: CurrentUser, spotify: SpotifyDep, pipeline: PipelineDep, body: QueueIn
) -> CommandOut:
    await spotify.add_to_queue(user.id, body.uri, device_id=body.device_id)
    return await _done("queued", spotify, pipeline, user.id)
