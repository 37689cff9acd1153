"""A faithful Spotify simulator (accounts service + Web API) for demo mode and tests.

    sim = Simulator(SimulatorConfig(seed=42))
    httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://sim")

See ``core.SimulatorCore`` for the controls (clock, users, playback, faults, call log).
"""

from echostats.simulator.app import Simulator
from echostats.simulator.calls import Call, CallLog
from echostats.simulator.catalog import Album, Artist, Catalog, Playlist, Track
from echostats.simulator.clock import Clock
from echostats.simulator.core import SimulatorConfig, SimulatorCore
from echostats.simulator.faults import Faults
from echostats.simulator.playback import Device, Play
from echostats.simulator.tokens import ALL_SCOPES
from echostats.simulator.world import SimUser

__all__ = [
    "ALL_SCOPES",
    "Album",
    "Artist",
    "Call",
    "CallLog",
    "Catalog",
    "Clock",
    "Device",
    "Faults",
    "Play",
    "Playlist",
    "SimUser",
    "Simulator",
    "SimulatorConfig",
    "SimulatorCore",
    "Track",
]
