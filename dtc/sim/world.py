"""The simulator's ground truth: accounts and balances, positions, every fill, last prices, id counters and
the scenario playback position. Thread-safe; sends nothing itself (``dtc.sim.server`` turns changes into
DTC messages) and is serialised by ``dtc.sim.persist``.

Units: prices in points, quantities in contracts (signed for positions: short < 0), money in the account
currency, times in UTC epoch seconds (float).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable

import msgspec

from dtc.sim.scenario import AccountSpec, BalanceSpec, FillSpec

FLAT_EPSILON = 1e-9
EXECUTION_PREFIX, ORDER_PREFIX, CLIENT_ORDER_PREFIX = "SIM-", "SIMORD-", "SIMCL-"
FILL_LOG_KEYS = (
    "account",
    "symbol",
    "side",
    "quantity",
    "price",
    "execution_id",
    "time",
    "server_order_id",
    "position_quantity",
)
"""The keys ``SimulatorServer.fill_log()`` reports (the public ledger view)."""
MAX_TICKS = 200_000
"""Trades kept per symbol for the excursions of HISTORICAL_TRADES_RESPONSE (10102)."""


class Position(msgspec.Struct):
    """Signed quantity (contracts), average entry price (points), entry time (UTC s; 0 when flat)."""

    quantity: float = 0.0
    average_price: float = 0.0
    entry_time: float = 0.0

    def apply(self, signed_qty: float, price: float, now: float) -> None:
        """Fold one execution in: grow → weighted average; shrink → unchanged; flip → the fill price."""
        old = self.quantity
        new = old + signed_qty
        if abs(new) < FLAT_EPSILON:
            self.quantity, self.average_price, self.entry_time = 0.0, 0.0, 0.0
        elif old == 0 or (old > 0) == (signed_qty > 0):
            self.average_price = round((abs(old) * self.average_price + abs(signed_qty) * price) / abs(new), 10)
            self.quantity = new
            self.entry_time = self.entry_time if old else now
        elif (new > 0) == (old > 0):
            self.quantity = new
        else:
            self.quantity, self.average_price, self.entry_time = new, price, now

    def copy(self) -> Position:
        return Position(self.quantity, self.average_price, self.entry_time)


class FillRecord(msgspec.Struct, frozen=True):
    """One execution and everything needed to rebuild its ORDER_UPDATE (301) byte for byte.

    ``position_quantity`` is the signed position after this fill; ``filled_quantity`` and
    ``average_fill_price`` are the order's totals after it; ``final`` marks the order's last piece.
    """

    account: str
    symbol: str
    side: str
    quantity: float
    price: float
    execution_id: str
    time: float
    server_order_id: str
    position_quantity: float
    client_order_id: str
    order_quantity: float
    filled_quantity: float
    average_fill_price: float
    order_time: float
    final: bool


class Quote(msgspec.Struct):
    """Last trade and session statistics of one symbol (points, contracts, UTC s)."""

    last: float
    volume: float
    time: float
    open: float
    high: float
    low: float
    session_volume: float = 0.0
    trades: int = 0
    at_bid_or_ask: int = 0
    """AtBidOrAskEnum of the last trade: 1 at bid (down-tick), 2 at ask (up-tick), 0 unknown."""

    def copy(self) -> Quote:
        return msgspec.structs.replace(self)


class Playback(msgspec.Struct, frozen=True):
    """Where scenario playback continues: the step index to play next, in pass ``pass_number`` (from 1)."""

    next_step: int = 0
    pass_number: int = 1


class World:
    """Ground truth shared by the loop thread and API callers; every method takes the internal lock.

    ``changes`` counts state changes (fills, balances, positions, playback; price ticks too) so the
    persistence layer can tell whether a save is due.
    """

    def __init__(
        self,
        accounts: Iterable[AccountSpec] = (),
        *,
        next_order: int = 1,
        next_execution: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self._accounts: dict[str, AccountSpec] = {a.TradeAccount: a for a in accounts}
        self._positions: dict[tuple[str, str], Position] = {}
        self._fills: list[FillRecord] = []
        self._by_execution: dict[str, FillRecord] = {}
        self._quotes: dict[str, Quote] = {}
        self._ticks: dict[str, list[tuple[float, float]]] = {}
        """Symbol → (UTC s, price) of every trade since this world was built (not saved: after a restart the
        excursions of Sierra-style trades come from the fills and the ticks since)."""
        self._next_order, self._next_execution = next_order, next_execution
        self._playback = Playback()
        self.changes = 0

    # --- mutations --------------------------------------------------------------------------------

    def _account(self, name: str) -> None:
        if name not in self._accounts:
            self._accounts[name] = AccountSpec(TradeAccount=name)

    def new_order_id(self) -> str:
        """The next ``ServerOrderID`` for a working order (``dtc.sim.orders``); fills use the same counter."""
        with self.lock:
            n = self._next_order
            self._next_order += 1
            self.changes += 1
            return f"{ORDER_PREFIX}{n}"

    def apply_fill(self, spec: FillSpec, order_ids: tuple[str, str] | None = None) -> list[tuple[FillRecord, Position]]:
        """Execute one order (its pieces in order) with fresh order/execution ids; returns each new record with
        a copy of the position right after it. An undeclared account is added with a zero balance. Last prices
        are not touched (the caller records the trades with ``trade``). ``order_ids`` (ServerOrderID,
        ClientOrderID) fills a working order of ``dtc.sim.orders`` instead of a new market order."""
        with self.lock:
            self._account(spec.account)
            n, order_time = self._next_order, self._clock()
            if order_ids is None:
                self._next_order += 1
            pos = self._positions.setdefault((spec.account, spec.symbol), Position())
            sign, filled, notional, out = (1.0 if spec.side == "BUY" else -1.0), 0.0, 0.0, []
            for i, (qty, price) in enumerate(spec.pieces, 1):
                now, exec_id = self._clock(), f"{EXECUTION_PREFIX}{self._next_execution}"
                self._next_execution += 1
                filled, notional = filled + qty, notional + qty * price
                pos.apply(sign * qty, price, now)
                record = FillRecord(
                    account=spec.account,
                    symbol=spec.symbol,
                    side=spec.side,
                    quantity=qty,
                    price=price,
                    execution_id=exec_id,
                    time=now,
                    server_order_id=order_ids[0] if order_ids else f"{ORDER_PREFIX}{n}",
                    position_quantity=pos.quantity,
                    client_order_id=order_ids[1] if order_ids else f"{CLIENT_ORDER_PREFIX}{n}",
                    order_quantity=spec.quantity,
                    filled_quantity=spec.quantity if i == len(spec.pieces) else filled,
                    average_fill_price=round(notional / filled, 10),
                    order_time=order_time,
                    final=i == len(spec.pieces),
                )
                self._fills.append(record)
                self._by_execution[exec_id] = record
                out.append((record, pos.copy()))
            self.changes += 1
            return out

    def set_position(self, account: str, symbol: str, quantity: float, average_price: float) -> Position:
        """Replace a position without a fill (an outside change); returns a copy of the new position."""
        with self.lock:
            self._account(account)
            pos = self._positions.setdefault((account, symbol), Position())
            if abs(quantity) < FLAT_EPSILON:
                pos.quantity, pos.average_price, pos.entry_time = 0.0, 0.0, 0.0
            else:
                if pos.quantity == 0 or (pos.quantity > 0) != (quantity > 0):
                    pos.entry_time = self._clock()
                pos.quantity, pos.average_price = quantity, average_price
            self.changes += 1
            return pos.copy()

    def apply_balance(self, spec: BalanceSpec) -> AccountSpec:
        """Store new balance fields for ``spec.account`` (added if unknown); returns the updated account."""
        with self.lock:
            self._account(spec.account)
            account = dataclasses.replace(self._accounts[spec.account], **spec.values)
            self._accounts[spec.account] = account
            self.changes += 1
            return account

    def trade(self, symbol: str, price: float, volume: float) -> Quote:
        """Record a trade as the symbol's last price; returns a copy of its quote."""
        with self.lock:
            self.changes += 1
            return self._trade(symbol, price, volume, self._clock()).copy()

    def _trade(self, symbol: str, price: float, volume: float, now: float) -> Quote:
        ticks = self._ticks.setdefault(symbol, [])
        ticks.append((now, price))
        if len(ticks) > MAX_TICKS:
            del ticks[: len(ticks) - MAX_TICKS]
        q = self._quotes.get(symbol)
        if q is None:
            q = self._quotes[symbol] = Quote(last=price, volume=volume, time=now, open=price, high=price, low=price)
        else:
            q.at_bid_or_ask = 2 if price > q.last else 1 if price < q.last else q.at_bid_or_ask
            q.last, q.volume, q.time = price, volume, now
            q.high, q.low = max(q.high, price), min(q.low, price)
        q.session_volume += volume
        q.trades += 1
        return q

    def seed_quote(self, symbol: str, price: float) -> None:
        """A starting last price (no trade, no volume) unless the symbol already has one."""
        with self.lock:
            if symbol not in self._quotes:
                self._quotes[symbol] = Quote(
                    last=price, volume=0.0, time=self._clock(), open=price, high=price, low=price
                )

    def set_playback(self, next_step: int, pass_number: int) -> None:
        with self.lock:
            if (next_step, pass_number) != (self._playback.next_step, self._playback.pass_number):
                self._playback = Playback(next_step, pass_number)
                self.changes += 1

    # --- reads ------------------------------------------------------------------------------------

    @property
    def playback(self) -> Playback:
        with self.lock:
            return self._playback

    def accounts(self, name: str = "") -> list[AccountSpec]:
        """Every account in declaration order, or only ``name`` (empty list if unknown)."""
        with self.lock:
            return [a for a in self._accounts.values() if name in ("", a.TradeAccount)]

    def positions(self, account: str = "") -> list[tuple[str, str, Position]]:
        """(account, symbol, position copy) for every symbol ever held, flat ones included."""
        with self.lock:
            return [(a, s, p.copy()) for (a, s), p in self._positions.items() if account in ("", a)]

    def position(self, account: str, symbol: str) -> Position:
        with self.lock:
            pos = self._positions.get((account, symbol))
            return Position() if pos is None else pos.copy()

    def fills(self, account: str = "", since: float = 0.0, server_order_id: str = "") -> list[FillRecord]:
        """Fills in execution order for ``account`` ("" = all) at or after ``since`` (whole UTC seconds)."""
        with self.lock:
            return [
                f
                for f in self._fills
                if account in ("", f.account) and int(f.time) >= since and server_order_id in ("", f.server_order_id)
            ]

    def ticks(self, symbol: str, start: float, end: float) -> list[tuple[float, float]]:
        """(UTC s, price) of the symbol's trades with ``start`` ≤ time ≤ ``end``, oldest first."""
        with self.lock:
            return [t for t in self._ticks.get(symbol, ()) if start <= t[0] <= end]

    def find_fill(self, execution_id: str) -> FillRecord | None:
        with self.lock:
            return self._by_execution.get(execution_id)

    def last_fill(self) -> FillRecord | None:
        with self.lock:
            return self._fills[-1] if self._fills else None

    def quote(self, symbol: str) -> Quote | None:
        with self.lock:
            q = self._quotes.get(symbol)
            return None if q is None else q.copy()

    def counters(self) -> tuple[int, int]:
        """(next order number, next execution number): the ids the next fill will use."""
        with self.lock:
            return self._next_order, self._next_execution

    # --- (de)serialisation helpers for dtc.sim.persist --------------------------------------------

    def export(
        self,
    ) -> tuple[
        list[AccountSpec],
        list[tuple[str, str, Position]],
        list[FillRecord],
        dict[str, Quote],
        Playback,
        tuple[int, int],
    ]:
        """A consistent copy of everything, for saving."""
        with self.lock:
            return (
                list(self._accounts.values()),
                self.positions(),
                list(self._fills),
                {k: q.copy() for k, q in self._quotes.items()},
                self._playback,
                self.counters(),
            )

    @classmethod
    def restore(
        cls,
        accounts: Iterable[AccountSpec],
        positions: Iterable[tuple[str, str, Position]],
        fills: Iterable[FillRecord],
        quotes: dict[str, Quote],
        playback: Playback,
        next_order: int,
        next_execution: int,
    ) -> World:
        """Rebuild a world from saved parts (validated by the caller)."""
        world = cls(accounts, next_order=next_order, next_execution=next_execution)
        world._positions = {(a, s): p.copy() for a, s, p in positions}
        world._fills = list(fills)
        world._by_execution = {f.execution_id: f for f in world._fills}
        world._quotes = {k: q.copy() for k, q in quotes.items()}
        world._playback = playback
        return world
