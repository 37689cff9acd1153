from __future__ import annotations

import pytest

from echostats.simulator import Simulator, SimulatorConfig
from tests.ingest.stepped import SteppedTime


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimulatorConfig(seed=11, realtime=False))


@pytest.fixture
def stepped(sim: Simulator) -> SteppedTime:
    return SteppedTime(sim)
