"""Scenario playback: play the steps in order from a saved position, pass after pass when looping.

The position (next step index, pass number) lives in the world so it is saved with the step's effects:
an ordinary step advances the position *before* it is performed (its changes and the advance are saved
together, so a restart never repeats it); a price walk advances only after its last update (a restart
mid-walk replays the walk).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

from dtc.sim.scenario import Scenario, StepAction
from dtc.sim.steps import PriceWalkSpec
from dtc.sim.world import World

log = logging.getLogger("dtc.sim.server")


async def play(
    scenario: Scenario,
    world: World,
    speed: float,
    perform: Callable[[StepAction], None],
    walk: Callable[[PriceWalkSpec], Awaitable[None]],
    persist: Callable[[], None],
    idle: threading.Event,
) -> None:
    """Play ``scenario`` from ``world.playback``; every wait (s) is divided by ``speed``; sets ``idle`` at the
    end of a non-looping scenario. ``perform`` runs one step, ``walk`` a price walk, ``persist`` saves."""
    steps, position = scenario.steps, world.playback
    index, pass_number = position.next_step, position.pass_number
    if index >= len(steps) and scenario.loop:
        index, pass_number = 0, pass_number + 1
    if index:
        log.info("scenario %r: resuming pass %d at step %d of %d", scenario.name, pass_number, index, len(steps))
    while index < len(steps):
        if index == 0:
            log.info("scenario %r: pass %d", scenario.name, pass_number)
        step = steps[index]
        await asyncio.sleep(step.wait / speed)
        following = (index + 1, pass_number)
        if index + 1 == len(steps) and scenario.loop:
            following = (0, pass_number + 1)
        if step.note:
            log.info("scenario %r step %d: %s", scenario.name, index, step.note)
        if isinstance(step.action, PriceWalkSpec):
            await walk(step.action)
            world.set_playback(*following)
        else:
            world.set_playback(*following)
            perform(step.action)
        persist()
        index, pass_number = following
    log.info("scenario %r finished", scenario.name)
    idle.set()
