"""The DTC simulator in a child process, as Sierra Chart is a process of its own.

In the app's process the simulator's event-loop thread would compete with the app's threads for the GIL: a
busy app would slow down the very fills it is being measured on (a burst's 4 MB drain from the socket buffer,
a 303 answer of 10,000 fills, fills paced at 50 per second). Here it runs in a spawned child (no Qt imported)
driven over a ``multiprocessing`` pipe. ``time.perf_counter()`` is the system's monotonic clock, so the
child's ``BurstResult.sent_at`` compares with the parent's times.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from dtc.sim.server import BurstResult

Fill = tuple[str, str, str, float, float]
"""(account, symbol, side, quantity, price)."""
CALL_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Paced:
    """What a paced feed sent: execution ids in order, when the first and the last fill were written (perf_counter
    s), and how many fills found no logged-on client."""

    execution_ids: list[str]
    first_sent: float
    last_sent: float
    unsent: int


class _Pacer(threading.Thread):
    """In the child: one ``burst`` of one fill at each ``began + i / rate``."""

    def __init__(self, server: Any, fills: Sequence[Fill], rate: float, cash_per_fill: float | None) -> None:
        super().__init__(name="bench-pacer", daemon=True)
        self.server, self.fills, self.rate, self.cash = server, fills, rate, cash_per_fill
        self.ids: list[str] = []
        self.sent: list[float] = []
        self.unsent = 0

    def run(self) -> None:
        began = time.perf_counter()
        for i, fill in enumerate(self.fills):
            delay = began + i / self.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            result = self.server.burst([fill], cash_per_fill=self.cash)
            self.ids.extend(result.execution_ids)
            if result.clients:
                self.sent.append(result.sent_at)
            else:
                self.unsent += 1

    def result(self) -> Paced:
        return Paced(self.ids, self.sent[0] if self.sent else 0.0, self.sent[-1] if self.sent else 0.0, self.unsent)


def _serve(conn: Connection, accounts: list[str], cash: float) -> None:
    """The child: a started ``SimulatorServer`` answering ``(method, args, kwargs)`` with ``(ok, value)``."""
    from dtc.sim.scenario import AccountSpec, Scenario
    from dtc.sim.server import SimulatorServer

    scenario = Scenario(name="bench", accounts=tuple(AccountSpec(TradeAccount=a, CashBalance=cash) for a in accounts))
    server = SimulatorServer(scenario, autoplay=False)
    server.start()
    pacer: _Pacer | None = None
    try:
        while True:
            try:
                name, args, kwargs = conn.recv()
            except (EOFError, OSError):
                return
            try:
                if name == "stop":
                    server.stop()
                    conn.send((True, None))
                    return
                if name == "port":
                    value: Any = server.port
                elif name == "logged_on_clients":
                    value = server.logged_on_clients
                elif name == "pace":
                    pacer = _Pacer(server, *args, **kwargs)
                    pacer.start()
                    value = None
                elif name == "paced":
                    value = None if pacer is None or pacer.is_alive() else pacer.result()
                else:
                    value = getattr(server, name)(*args, **kwargs)
                conn.send((True, value))
            except Exception as exc:  # reported to the parent, which raises it
                conn.send((False, f"{type(exc).__name__}: {exc}"))
    finally:
        server.stop()


class SimProcess:
    """A started simulator in a child process declaring ``accounts`` (each with ``cash``); thread-safe."""

    def __init__(self, accounts: Iterable[str], cash: float = 50_000.0) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process running Qt threads
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, list(accounts), cash), name="dtc-bench-simulator", daemon=True
        )
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self.port: int = self._call("port")

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._conn.send((name, args, kwargs))
            if not self._conn.poll(CALL_TIMEOUT_S):
                raise RuntimeError(f"the simulator process did not answer {name} in {CALL_TIMEOUT_S:.0f} s")
            ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"simulator process, {name}: {value}")
        return value

    def burst(self, fills: Iterable[Fill], cash_per_fill: float | None = 0.0) -> BurstResult:
        """``SimulatorServer.burst`` in the child."""
        result: BurstResult = self._call("burst", list(fills), cash_per_fill=cash_per_fill)
        return result

    def set_position(self, account: str, symbol: str, quantity: float, average_price: float, notify: bool) -> None:
        self._call("set_position", account, symbol, quantity, average_price, notify)

    @property
    def logged_on_clients(self) -> int:
        count: int = self._call("logged_on_clients")
        return count

    def pace(self, fills: Sequence[Fill], rate: float, cash_per_fill: float | None = 0.0) -> None:
        """Start sending ``fills`` one at a time, ``rate`` per second, from a thread of the child; returns at
        once (see ``paced``)."""
        self._call("pace", list(fills), rate, cash_per_fill)

    def paced(self) -> Paced | None:
        """What the paced feed sent, once it has finished; None while it runs."""
        result: Paced | None = self._call("paced")
        return result

    def stop(self) -> None:
        """Stop the simulator and end the child (killed if it does not end in time); idempotent."""
        if self._process.is_alive():
            with contextlib.suppress(RuntimeError, OSError, EOFError):
                self._call("stop")
            self._process.join(10.0)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5.0)
        self._conn.close()
