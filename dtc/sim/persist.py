"""Persistence of the simulator's world (``dtc.sim.world``) in one JSON state file.

The file is replaced atomically (temp file in the same directory, fsync, ``os.replace``, then a directory
fsync on POSIX), so after a crash it holds either the previous or the new world, never a mix. A file that
exists but cannot be read or validated is an error (``ValueError``/``OSError``): starting from scratch
would reuse execution ids the app has already stored.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from pathlib import Path

import msgspec

from data.files import write_atomic
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.world import EXECUTION_PREFIX, ORDER_PREFIX, FillRecord, Playback, Position, Quote, World

log = logging.getLogger(__name__)

STATE_FORMAT = "dtc-panel-simulator-world"
STATE_VERSION = 1


class PositionRow(msgspec.Struct, frozen=True):
    account: str
    symbol: str
    quantity: float
    average_price: float
    entry_time: float


class WorldState(msgspec.Struct, forbid_unknown_fields=True):
    """The state file's schema (version 1). Times in UTC epoch seconds, prices in points."""

    format: str
    version: int
    scenario: str
    fingerprint: str
    next_order: int
    next_execution: int
    playback: Playback
    accounts: list[AccountSpec]
    positions: list[PositionRow]
    fills: list[FillRecord]
    quotes: dict[str, Quote]


def scenario_fingerprint(scenario: Scenario) -> str:
    """A short hash of the scenario's step actions (waits and notes excluded): a saved playback position only
    makes sense for the same sequence of actions."""
    return hashlib.sha256(repr([s.action for s in scenario.steps]).encode()).hexdigest()[:16]


def encode_world(world: World, scenario: Scenario) -> bytes:
    """The world as state-file bytes (indented JSON, one consistent snapshot)."""
    accounts, positions, fills, quotes, playback, (next_order, next_execution) = world.export()
    state = WorldState(
        format=STATE_FORMAT,
        version=STATE_VERSION,
        scenario=scenario.name,
        fingerprint=scenario_fingerprint(scenario),
        next_order=next_order,
        next_execution=next_execution,
        playback=playback,
        accounts=accounts,
        positions=[PositionRow(a, s, p.quantity, p.average_price, p.entry_time) for a, s, p in positions],
        fills=fills,
        quotes=quotes,
    )
    return msgspec.json.format(msgspec.json.encode(state), indent=1) + b"\n"


def _max_id(ids: list[str], prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"(\d+)")
    return max((int(m.group(1)) for i in ids if (m := pattern.fullmatch(i))), default=0)


def decode_world(data: bytes, scenario: Scenario, source: str) -> World:
    """Validate state-file bytes against ``scenario`` and rebuild the world; ``ValueError`` says what is wrong."""
    try:
        state = msgspec.json.decode(data, type=WorldState)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"simulator state file {source} is corrupt: {exc}") from None
    problem = ""
    if (state.format, state.version) != (STATE_FORMAT, STATE_VERSION):
        problem = f"format {state.format!r} version {state.version} is not {STATE_FORMAT!r} {STATE_VERSION}"
    elif state.fingerprint != scenario_fingerprint(scenario):
        problem = (
            f"it was written for scenario {state.scenario!r} with different steps than {scenario.name!r} "
            "(use the same scenario, or delete the file to start a new world)"
        )
    elif not 0 <= state.playback.next_step <= len(scenario.steps) or state.playback.pass_number < 1:
        problem = f"playback position {state.playback} is outside the scenario's {len(scenario.steps)} steps"
    elif len({f.execution_id for f in state.fills}) != len(state.fills):
        problem = "duplicate execution ids in fills"
    elif _max_id([f.execution_id for f in state.fills], EXECUTION_PREFIX) >= state.next_execution:
        problem = f"next_execution {state.next_execution} would reuse an existing execution id"
    elif _max_id([f.server_order_id for f in state.fills], ORDER_PREFIX) >= state.next_order:
        problem = f"next_order {state.next_order} would reuse an existing order id"
    elif len({(p.account, p.symbol) for p in state.positions}) != len(state.positions):
        problem = "duplicate (account, symbol) positions"
    if problem:
        raise ValueError(f"simulator state file {source} is corrupt: {problem}")
    return World.restore(
        state.accounts,
        [(p.account, p.symbol, Position(p.quantity, p.average_price, p.entry_time)) for p in state.positions],
        state.fills,
        state.quotes,
        state.playback,
        state.next_order,
        state.next_execution,
    )


class StateFile:
    """Loads and saves one world for one scenario; ``save`` is thread-safe and skips unchanged worlds."""

    def __init__(self, path: Path, scenario: Scenario) -> None:
        self.path, self._scenario = Path(path), scenario
        self._lock = threading.Lock()
        self._saved_changes = -1
        self.enabled = True

    def load(self) -> World | None:
        """The saved world, or None when the file does not exist; ``ValueError``/``OSError`` when unusable."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.error("cannot read simulator state file %s: %s", self.path, exc)
            raise OSError(exc.errno, f"cannot read simulator state file {self.path}: {exc.strerror}") from exc
        try:
            world = decode_world(data, self._scenario, str(self.path))
        except ValueError as exc:
            log.error("%s", exc)
            raise
        self._saved_changes = world.changes
        log.info(
            "simulator world loaded from %s: %d fills, next execution %s%d, playback %s",
            self.path,
            len(world.fills()),
            EXECUTION_PREFIX,
            world.counters()[1],
            world.playback,
        )
        return world

    def save(self, world: World) -> None:
        """Write ``world`` if it changed since the last save (no-op once ``enabled`` is False)."""
        with self._lock:
            if not self.enabled:
                return
            with world.lock:
                changes = world.changes
                if changes == self._saved_changes:
                    return
                data = encode_world(world, self._scenario)
            write_atomic(self.path, data)
            self._saved_changes = changes
