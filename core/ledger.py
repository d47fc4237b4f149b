"""``PositionLedger``: the open positions, a fold over fills, written through to SQLite in groups.

A group of fills — every fill decoded from one received chunk, or a batch of missed fills from history —
is *staged*: checked against the stored execution ids (one query per group and account), folded in order
into the working positions, and queued as rows. ``commit()`` then writes the whole group in ONE SQLite
transaction (WAL, ``synchronous=FULL``: one fsync). Only after the commit does anything reach the screen:
``commit()`` returns what was applied, and the caller publishes it.

If the commit fails, the working positions go back to their committed state, the group's fills are held
(in arrival order, ahead of newer fills) and retried; nothing is dropped, nothing is written twice. With a
journal (``use_journal``) held fills are also on disk, so they survive a quit: ``load_journal`` holds them
again at the next start (``core/held.py``).

Exactly-once: a fill whose execution id is stored (or already staged) for (mode, account) is skipped.
Runs on the DTC thread; the caller holds the state lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.accounting import Fill, FillOutcome, Position, PositionEventKind, apply_fill
from core.fill_journal import FillJournal
from core.held import HeldFills
from core.instruments import InstrumentBook
from core.records import StoredPosition, fill_event_values, fill_values, position_values, trade_values
from core.twins import DERIVED_SOURCE, RENAMED_SOURCE, match_twins, may_have_twin
from core.units import format_price
from data.held_trades import rows as held_trade_rows
from data.repository import DuplicateFill, FillRename, PositionStore, PositionWrite, StorageError

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (mode, account, symbol)


@dataclass(frozen=True)
class Applied:
    """One fill folded into the positions: its scope key, the position before, and what it did."""

    key: Key
    fill: Fill
    before: Position | None
    outcome: FillOutcome
    reason: str


def _completes_entry(position: Position, fill: Fill) -> bool:
    """Whether ``fill`` is a later part of the order that opened ``position``'s trade (nothing closed yet)."""
    return bool(fill.server_order_id) and (
        fill.server_order_id == position.opening_order_id and position.closed_quantity == 0
    )


class PositionLedger:
    """Positions per (mode, account, symbol) and the group commit that stores them.

    ``mode_of(account)`` gives SIM/LIVE; ``entry_context(position)`` decorates a just-opened position (entry
    VWAP/delta/POC, working bracket) before it is stored; ``pnl_unit(account, symbol)`` says what the money of
    that symbol's fills and trades is in ("" the account currency, "pt", or the symbol's currency code).
    """

    def __init__(
        self,
        store: PositionStore,
        instruments: InstrumentBook,
        mode_of: Callable[[str], str],
        entry_context: Callable[[Position], Position],
        pnl_unit: Callable[[str, str], str] = lambda _account, _symbol: "",
    ) -> None:
        self._store = store
        self._pnl_unit = pnl_unit
        self._instruments = instruments
        self._mode_of = mode_of
        self._entry_context = entry_context
        self.positions: dict[Key, Position] = {}
        self._staged: list[Applied] = []
        self._staged_ids: set[tuple[str, str, str]] = set()
        self._committed: dict[Key, Position | None] = {}
        self._held = HeldFills()
        self._balances: list[dict[str, Any]] = []
        self._unchecked = False
        self._renames: list[FillRename] = []
        self._conflicted: set[tuple[str, str, str]] = set()
        self.conflicts: list[str] = []
        """Fills received under a stored execution id with another quantity or price (``take_conflicts``)."""
        self.restored: list[Key] = []
        """After a failed ``commit``: the keys whose working position went back to the committed one."""
        self.commits = 0
        """Transactions written (a benchmark and test figure)."""
        self.disputed: Callable[[Key], bool] = lambda _key: False
        """Whether Sierra Chart's report contradicts the position of a key now: a trade its fills close is then
        stored apart (``data.held_trades``) until the discrepancy resolves (the state manager sets it)."""

    # --- recovery ----------------------------------------------------------------------------------

    def load(self, stored: Iterable[StoredPosition]) -> None:
        for item in stored:
            self.positions[(item.mode, item.position.account, item.position.symbol)] = item.position

    def use_journal(self, journal: FillJournal) -> None:
        """Journal every fill that starts being held (append + fsync), so that it survives a quit."""
        self._held.use_journal(journal)

    def load_journal(self) -> int:
        """Hold the fills an earlier run journaled; the next ``retry`` stores them (those already stored are
        skipped). Returns how many. Raises ``OSError`` if the journal cannot be read."""
        return self._held.load_journal()

    @property
    def storage_error(self) -> str | None:
        """The database's error while fills are held (and whether they are saved for a quit); else ``None``."""
        return self._held.storage_error

    @property
    def held(self) -> int:
        """Fills held after a storage failure, waiting to be stored."""
        return len(self._held)

    @property
    def staged(self) -> bool:
        return bool(self._staged or self._balances or self._renames)

    def stage_balance(self, row: dict[str, Any]) -> None:
        """An ``AccountBalance`` history row (600), stored with the next commit (it needs no fsync of its
        own; the balance on screen does not wait for it)."""
        self._balances.append(row)

    # --- staging -----------------------------------------------------------------------------------

    def stage(self, fills: Sequence[Fill], reason: str = "fill", *, check_now: bool = True) -> list[Applied]:
        """Fold ``fills`` (in the order given) into the working positions and queue them for ``commit``.

        Returns what each new fill did (duplicates are left out). With ``check_now`` the stored execution
        ids are looked up first (one query per account); without it (live fills, one at a time) they are
        looked up once for the whole group at ``commit``, and a duplicate found then (rare: a replay) makes
        the group fold again without it. While fills are held after a storage failure, new fills queue
        behind them (returns ``[]``) so fills are always stored in arrival order. Raises ``StorageError`` if
        the stored execution ids cannot be read (nothing is staged; the fills are held).
        """
        if self._held:
            self._held.hold([(f, reason) for f in fills])
            return []
        try:
            duplicates = self._duplicates(fills) if check_now else set()
        except StorageError as exc:
            self._held.error = str(exc)
            self._held.hold([(f, reason) for f in fills])
            raise
        if not check_now:
            self._unchecked = True
        out: list[Applied] = []
        for fill in fills:
            mode = self._mode_of(fill.account)
            ident = (mode, fill.account, fill.execution_id)
            if ident in duplicates or ident in self._staged_ids:
                log.debug("fill %s already applied; ignored", fill.execution_id)
                continue
            out.append(self._fold(mode, fill, reason))
            self._staged_ids.add(ident)
        return out

    def _duplicates(self, fills: Sequence[Fill]) -> set[tuple[str, str, str]]:
        """The (mode, account, execution id) of ``fills`` already stored: under their own id (one query per
        account), or — for a live fill without an id and for history fills — as the same execution under
        another id (``core.twins``; the stored derived id is then renamed at commit). A stored id with another
        quantity or price is a conflict: logged at WARNING and reported in ``conflicts``."""
        by_account: dict[tuple[str, str], list[Fill]] = {}
        for fill in fills:
            by_account.setdefault((self._mode_of(fill.account), fill.account), []).append(fill)
        found: set[tuple[str, str, str]] = set()
        for (mode, account), group in by_account.items():
            stored = self._store.stored_fills(mode, account, [f.execution_id for f in group])
            for f in group:
                known = stored.get(f.execution_id)
                if known is not None:
                    found.add((mode, account, f.execution_id))
                    if known != (f.quantity, f.price):
                        self._conflict(mode, f, known)
            rest = [f for f in group if f.execution_id not in stored and may_have_twin(f)]
            if not rest:
                continue
            twins = match_twins(rest, self._store.order_fills(mode, account, {f.server_order_id for f in rest}))
            for f in rest:
                twin = twins.get(f.execution_id)
                if twin is None:
                    continue
                found.add((mode, account, f.execution_id))
                log.info("fill %s is stored already as %s; not applied again", f.execution_id, twin.execution_id)
                if twin.source == DERIVED_SOURCE:
                    self._renames.append(FillRename(mode, account, twin.execution_id, f.execution_id, RENAMED_SOURCE))
        return found

    def _conflict(self, mode: str, fill: Fill, known: tuple[Decimal, Decimal]) -> None:
        ident = (mode, fill.account, fill.execution_id)
        if ident in self._conflicted:
            return
        self._conflicted.add(ident)
        tick = self._instruments.lookup(fill.symbol).tick_size
        text = (
            f"conflicting fill {fill.execution_id} ({fill.account} {fill.symbol}): {fill.quantity:+} @ "
            f"{format_price(fill.price, tick)} received, {known[0]:+} @ {format_price(known[1], tick)} stored"
            " — the stored fill is kept"
        )
        log.warning("%s", text)
        self.conflicts.append(text)

    def take_conflicts(self) -> list[str]:
        """The conflicts found since the last call (each reported once per session)."""
        out, self.conflicts = self.conflicts, []
        return out

    def _fold(self, mode: str, fill: Fill, reason: str) -> Applied:
        key = (mode, fill.account, fill.symbol)
        before = self.positions.get(key)
        outcome = apply_fill(before, fill, self._instruments.lookup(fill.symbol).point_value)
        if outcome.position is not None and outcome.event in (PositionEventKind.OPENED, PositionEventKind.FLIPPED):
            outcome = FillOutcome(
                self._entry_context(outcome.position), outcome.closed_trade, outcome.event, outcome.realized_gross
            )
        elif outcome.position is not None and _completes_entry(outcome.position, fill):
            # the stop at entry is the one working when the opening order completed (its last part)
            stop = self._entry_context(outcome.position).stop_price
            if stop is not None:
                outcome = replace(outcome, position=replace(outcome.position, stop_price=stop))
        self._committed.setdefault(key, before)
        if outcome.position is None:
            self.positions.pop(key, None)
        else:
            self.positions[key] = outcome.position
        applied = Applied(key, fill, before, outcome, reason)
        self._staged.append(applied)
        return applied

    # --- commit ------------------------------------------------------------------------------------

    def commit(self) -> list[Applied]:
        """Write every staged fill in one transaction; returns them (oldest first) once durable.

        On ``StorageError`` the working positions are restored to their committed state (their keys are in
        ``restored``), the staged fills are held for ``retry`` (ahead of any newer fill), ``storage_error`` is
        set, and the error is raised.
        """
        self.restored = []
        for _attempt in range(3):
            if not self._staged and not self._balances and not self._renames:
                return []
            if self._unchecked:
                self._check_staged()
            staged = self._staged
            try:
                self._write(staged)
            except DuplicateFill:
                self._unchecked = True  # stored meanwhile by another writer: look the ids up again
                continue
            except StorageError as exc:
                self._fail(exc)
                raise
            self._staged, self._committed = [], {}
            self._staged_ids.clear()
            self.commits += 1
            if not self._held and self._held.stored_all():
                log.info("storage recovered")
            return staged
        error = StorageError("fills keep colliding with stored execution ids; held for retry")
        self._fail(error)
        raise error

    def _check_staged(self) -> None:
        """One query for the execution ids of the staged group; a replayed fill among them makes the group
        fold again without it (from the committed positions, in the same order). Raises ``StorageError``
        (the group is held)."""
        self._unchecked = False
        self._renames = []  # found again below, for the whole group
        try:
            duplicates = self._duplicates([a.fill for a in self._staged])
        except StorageError as exc:
            self._fail(exc)
            raise
        if not duplicates:
            return
        log.info("%d fill(s) of this group were already stored; folding again without them", len(duplicates))
        for fill, reason in self._unstage(keep_renames=True):
            mode = self._mode_of(fill.account)
            ident = (mode, fill.account, fill.execution_id)
            if ident not in duplicates and ident not in self._staged_ids:
                self._fold(mode, fill, reason)
                self._staged_ids.add(ident)

    def _fail(self, exc: StorageError) -> None:
        """The group cannot be stored now: positions back to the committed ones, its fills held first."""
        fills = self._unstage()
        if self._held.error != str(exc):
            log.error("storage failure, %d fill(s) held for retry: %s", len(self._held) + len(fills), exc)
        self._held.error = str(exc)
        self._held.hold(fills, first=True)

    def _unstage(self, keep_renames: bool = False) -> list[tuple[Fill, str]]:
        """Drop the staged fills: the working positions go back to their committed state. Returns the fills.
        The renames found for them go too (they are found again when the fills are staged again)."""
        if not keep_renames:
            self._renames = []
        for key, position in self._committed.items():
            if position is None:
                self.positions.pop(key, None)
            else:
                self.positions[key] = position
        self.restored = list(self._committed)
        fills = [(a.fill, a.reason) for a in self._staged]
        self._staged, self._committed = [], {}
        self._staged_ids.clear()
        return fills

    def _write(self, staged: list[Applied]) -> None:
        now = datetime.now(UTC)
        fills, trades, held, events = [], [], [], []
        final: dict[Key, Position | None] = {}
        recreate: set[Key] = set()
        for a in staged:
            mode = a.key[0]
            unit = self._pnl_unit(a.fill.account, a.fill.symbol)
            fills.append(fill_values(mode, a.fill, now, a.outcome.realized_gross, unit))
            if a.outcome.closed_trade is not None:
                tick = self._instruments.lookup(a.fill.symbol).tick_size
                trade = trade_values(mode, a.outcome.closed_trade, a.reason, now, tick, unit)
                # a trade of a position Sierra Chart contradicts is held apart until the discrepancy resolves
                (held if self.disputed(a.key) else trades).append(trade)
                recreate.add(a.key)
            events.append(fill_event_values(mode, a.fill, a.before, a.outcome, a.reason, now))
            # the working position: the fold's result plus what prices and orders did since (in this chunk)
            final[a.key] = self.positions.get(a.key)
        writes = [
            PositionWrite(*key, position_values(pos) if pos is not None else None, key in recreate)
            for key, pos in final.items()
        ]
        self._store.commit_batch(
            fills, trades, events, writes, now, self._balances, self._renames, held_trades=held_trade_rows(held, now)
        )
        self._balances, self._renames = [], []

    def retry(self) -> list[Applied]:
        """Stage and commit the held fills, oldest first (the DTC thread's tick). Returns what was stored;
        raises ``StorageError`` (fills still held) while the database refuses."""
        if not self._held or self._staged:
            return []
        held = self._held.take()
        for i, (fill, reason) in enumerate(held):
            try:
                self.stage([fill], reason)
            except StorageError:
                self._held.take()
                self._held.hold([*self._unstage(), *held[i:]])
                raise
        return self.commit()
