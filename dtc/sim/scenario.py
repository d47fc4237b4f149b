"""Declarative scenarios for the DTC simulator (``dtc.sim.server``).

A scenario is a JSON object::

    {"name": "demo", "loop": true,
     "accounts": [{"TradeAccount": "Sim1", "CashBalance": 50000.0, "AccountCurrency": "USD"}],
     "steps": [
       {"wait": 1.5, "fill": {"account": "Sim1", "symbol": "MESZ25", "side": "BUY", "quantity": 2,
                              "price": 6000.0, "partials": [[1, 6000.0], [1, 6000.5]]}},
       {"wait": 2.0, "balance": {"account": "Sim1", "CashBalance": 50010.0, "DailyProfitLoss": 10.0}}]}

Each step waits ``wait`` seconds (before speed scaling) and then performs exactly one action; the action
kind is the step's only key besides ``wait`` and ``note``. Kinds (``STEP_KINDS``): ``fill``, ``balance``
(below); ``price``, ``price_walk``, ``set_position``, ``drop``, ``silence``, ``duplicate_fill``, ``logoff``,
``heartbeats``, ``logon_result``, ``positions_reject``, ``trades_reject``, ``trades_difference``, and for
orders ``order_reject``, ``order_delay``, ``fill_stop``, ``place_order`` (``dtc.sim.steps``). New kinds are
added by writing a ``from_dict`` parser and registering it in ``STEP_KINDS``. Optional top-level ``instruments`` and
``market_data_rejected`` feed security definitions and market data (see ``Scenario``). Units: prices in
points, quantities in contracts, money in the account currency. Every validation problem raises
``ValueError`` naming the step.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dtc.sim.steps import (
    DropSpec,
    DuplicateFillSpec,
    FillStopSpec,
    HeartbeatsSpec,
    InstrumentSpec,
    LogoffSpec,
    LogonResultSpec,
    OrderDelaySpec,
    OrderRejectSpec,
    PlaceOrderSpec,
    PositionsRejectSpec,
    PriceSpec,
    PriceWalkSpec,
    SetPositionSpec,
    SilenceSpec,
    TradesDifferenceSpec,
    TradesRejectSpec,
)
from dtc.sim.validate import mapping as _mapping
from dtc.sim.validate import number as _number
from dtc.sim.validate import text as _text

SIDES = ("BUY", "SELL")
QTY_TOLERANCE = 1e-9
"""Partial quantities must sum to the order quantity within this many contracts."""

BALANCE_FIELDS = (
    "CashBalance",
    "BalanceAvailableForNewPositions",
    "SecuritiesValue",
    "MarginRequirement",
    "OpenPositionsProfitLoss",
    "DailyProfitLoss",
)
"""``ACCOUNT_BALANCE_UPDATE`` (600) money fields a scenario may set, in the account currency."""


@dataclass(frozen=True)
class AccountSpec:
    """A trade account with its starting balance (money in ``AccountCurrency``).

    ``BalanceAvailableForNewPositions`` and ``SecuritiesValue`` follow ``CashBalance`` when left ``None``.
    """

    TradeAccount: str
    CashBalance: float = 0.0
    AccountCurrency: str = "USD"
    BalanceAvailableForNewPositions: float | None = None
    SecuritiesValue: float | None = None
    MarginRequirement: float = 0.0
    OpenPositionsProfitLoss: float = 0.0
    DailyProfitLoss: float = 0.0

    @classmethod
    def from_dict(cls, data: Any, where: str = "account") -> AccountSpec:
        allowed = {"TradeAccount", "AccountCurrency", *BALANCE_FIELDS}
        d = _mapping(data, where, allowed, {"TradeAccount"})
        money = {k: _number(d[k], f"{where}.{k}") for k in BALANCE_FIELDS if k in d}
        currency = _text(d.get("AccountCurrency", "USD"), f"{where}.AccountCurrency")
        return cls(TradeAccount=_text(d["TradeAccount"], f"{where}.TradeAccount"), AccountCurrency=currency, **money)


@dataclass(frozen=True)
class FillSpec:
    """One order that fills now: ``quantity`` contracts (> 0) on ``side`` ("BUY"/"SELL").

    ``partials`` are the (quantity, price) pieces of that one order, in execution order; empty means a single
    fill of ``quantity`` at ``price``. Their quantities sum to ``quantity``.
    """

    account: str
    symbol: str
    side: str
    quantity: float
    price: float
    partials: tuple[tuple[float, float], ...] = ()

    @property
    def pieces(self) -> tuple[tuple[float, float], ...]:
        """The (quantity, price) executions this order produces."""
        return self.partials or ((self.quantity, self.price),)

    @classmethod
    def create(
        cls,
        account: Any,
        symbol: Any,
        side: Any,
        quantity: Any,
        price: Any,
        partials: Any = None,
        where: str = "fill",
    ) -> FillSpec:
        """Validate loose input (JSON or API arguments) into a ``FillSpec``; raises ``ValueError``."""
        side_text = _text(side, f"{where}.side").upper()
        if side_text not in SIDES:
            raise ValueError(f"{where}.side: expected BUY or SELL, got {side!r}")
        qty = _number(quantity, f"{where}.quantity", positive=True)
        pieces: list[tuple[float, float]] = []
        if partials is not None:
            if not isinstance(partials, list | tuple) or not partials:
                raise ValueError(f"{where}.partials: expected a non-empty list of [quantity, price]")
            for i, piece in enumerate(partials):
                if not isinstance(piece, list | tuple) or len(piece) != 2:
                    raise ValueError(f"{where}.partials[{i}]: expected [quantity, price], got {piece!r}")
                pieces.append(
                    (
                        _number(piece[0], f"{where}.partials[{i}] quantity", positive=True),
                        _number(piece[1], f"{where}.partials[{i}] price", positive=True),
                    )
                )
            total = sum(q for q, _ in pieces)
            if abs(total - qty) > QTY_TOLERANCE:
                raise ValueError(f"{where}.partials: quantities sum to {total:g}, order quantity is {qty:g}")
        return cls(
            account=_text(account, f"{where}.account"),
            symbol=_text(symbol, f"{where}.symbol"),
            side=side_text,
            quantity=qty,
            price=_number(price, f"{where}.price", positive=True),
            partials=tuple(pieces),
        )

    @classmethod
    def from_dict(cls, data: Any, where: str = "fill") -> FillSpec:
        keys = {"account", "symbol", "side", "quantity", "price"}
        d = _mapping(data, where, keys | {"partials"}, keys)
        return cls.create(d["account"], d["symbol"], d["side"], d["quantity"], d["price"], d.get("partials"), where)


@dataclass(frozen=True)
class BalanceSpec:
    """A new balance for ``account``: the given ``ACCOUNT_BALANCE_UPDATE`` fields (account currency)."""

    account: str
    values: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, where: str = "balance") -> BalanceSpec:
        d = _mapping(data, where, {"account", *BALANCE_FIELDS}, {"account"})
        values = {k: _number(d[k], f"{where}.{k}") for k in BALANCE_FIELDS if k in d}
        if not values:
            raise ValueError(f"{where}: set at least one of {list(BALANCE_FIELDS)}")
        return cls(account=_text(d["account"], f"{where}.account"), values=values)


StepAction = (
    FillSpec
    | BalanceSpec
    | PriceSpec
    | PriceWalkSpec
    | SetPositionSpec
    | DropSpec
    | SilenceSpec
    | DuplicateFillSpec
    | LogoffSpec
    | HeartbeatsSpec
    | LogonResultSpec
    | PositionsRejectSpec
    | TradesRejectSpec
    | TradesDifferenceSpec
    | OrderRejectSpec
    | OrderDelaySpec
    | FillStopSpec
    | PlaceOrderSpec
)
STEP_KINDS: dict[str, Callable[[Any, str], StepAction]] = {
    "fill": FillSpec.from_dict,
    "balance": BalanceSpec.from_dict,
    "price": PriceSpec.from_dict,
    "price_walk": PriceWalkSpec.from_dict,
    "set_position": SetPositionSpec.from_dict,
    "drop": DropSpec.from_dict,
    "silence": SilenceSpec.from_dict,
    "duplicate_fill": DuplicateFillSpec.from_dict,
    "logoff": LogoffSpec.from_dict,
    "heartbeats": HeartbeatsSpec.from_dict,
    "logon_result": LogonResultSpec.from_dict,
    "positions_reject": PositionsRejectSpec.from_dict,
    "trades_reject": TradesRejectSpec.from_dict,
    "trades_difference": TradesDifferenceSpec.from_dict,
    "order_reject": OrderRejectSpec.from_dict,
    "order_delay": OrderDelaySpec.from_dict,
    "fill_stop": FillStopSpec.from_dict,
    "place_order": PlaceOrderSpec.from_dict,
}
"""Step kind (the action's JSON key) → parser of its object."""


@dataclass(frozen=True)
class Step:
    """Wait ``wait`` seconds (divided by the playback speed), then perform ``action``."""

    wait: float
    action: StepAction
    index: int = 0
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    """A named list of steps over declared accounts; ``loop`` repeats the steps forever.

    ``instruments`` (symbol → contract facts) answers SECURITY_DEFINITION_FOR_SYMBOL_REQUEST (506) and gives
    price walks their tick; ``market_data_rejected`` lists symbol prefixes, roots or exchanges whose
    MARKET_DATA_REQUEST (101) is rejected with 103, as Sierra does for CME Group data.
    """

    name: str = "empty"
    loop: bool = False
    accounts: tuple[AccountSpec, ...] = ()
    steps: tuple[Step, ...] = ()
    description: str = ""
    instruments: Mapping[str, InstrumentSpec] = field(default_factory=dict)
    market_data_rejected: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Any, source: str = "scenario") -> Scenario:
        """Build and validate a scenario from parsed JSON; raises ``ValueError`` naming the bad part."""
        keys = {"name", "loop", "accounts", "steps", "description", "instruments", "market_data_rejected"}
        d = _mapping(data, source, keys, {"accounts", "steps"})
        name = _text(d.get("name", "scenario"), f"{source}.name")
        loop = d.get("loop", False)
        if not isinstance(loop, bool):
            raise ValueError(f"{source}.loop: expected true or false, got {loop!r}")
        description = d.get("description", "")
        if not isinstance(description, str):
            raise ValueError(f"{source}.description: expected a string")
        if not isinstance(d["accounts"], list) or not isinstance(d["steps"], list):
            raise ValueError(f"{source}: 'accounts' and 'steps' must be lists")
        accounts = tuple(AccountSpec.from_dict(a, f"{source}.accounts[{i}]") for i, a in enumerate(d["accounts"]))
        names = [a.TradeAccount for a in accounts]
        if len(set(names)) != len(names):
            raise ValueError(f"{source}.accounts: duplicate TradeAccount in {names}")
        raw_instruments = d.get("instruments", {})
        if not isinstance(raw_instruments, Mapping):
            raise ValueError(f"{source}.instruments: expected an object of symbol -> {{tick, tick_value, ...}}")
        instruments = {
            sym: InstrumentSpec.from_dict(sym, x, f"{source}.instruments[{sym!r}]")
            for sym, x in raw_instruments.items()
        }
        rejected = d.get("market_data_rejected", [])
        if not isinstance(rejected, list):
            raise ValueError(f"{source}.market_data_rejected: expected a list of symbol prefixes or roots")
        restricted = tuple(_text(x, f"{source}.market_data_rejected[{i}]") for i, x in enumerate(rejected))
        steps = tuple(cls._step(s, i, f"{source}.steps[{i}]", set(names)) for i, s in enumerate(d["steps"]))
        if loop and (not steps or sum(s.wait for s in steps) <= 0):
            raise ValueError(f"{source}: a looping scenario needs steps with a total wait > 0")
        _check_walks(steps, instruments, f"{source}.steps")
        return cls(
            name=name,
            loop=loop,
            accounts=accounts,
            steps=steps,
            description=description,
            instruments=instruments,
            market_data_rejected=restricted,
        )

    @staticmethod
    def _step(data: Any, index: int, where: str, accounts: set[str]) -> Step:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        kinds = [k for k in data if k in STEP_KINDS]
        unknown = set(data) - set(STEP_KINDS) - {"wait", "note"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; step kinds: {sorted(STEP_KINDS)}")
        if len(kinds) != 1:
            raise ValueError(f"{where}: needs exactly one of {sorted(STEP_KINDS)}, got {kinds}")
        wait = _number(data.get("wait", 0.0), f"{where}.wait")
        if wait < 0:
            raise ValueError(f"{where}.wait: must be >= 0, got {wait}")
        note = data.get("note", "")
        if not isinstance(note, str):
            raise ValueError(f"{where}.note: expected a string")
        action = STEP_KINDS[kinds[0]](data[kinds[0]], f"{where}.{kinds[0]}")
        account = getattr(action, "account", None)
        if account is not None and account not in accounts:
            raise ValueError(f"{where}.{kinds[0]}.account: {account!r} is not in accounts {sorted(accounts)}")
        return Step(wait=wait, action=action, index=index, note=note)


def _check_walks(steps: tuple[Step, ...], instruments: Mapping[str, InstrumentSpec], where: str) -> None:
    """Every price-walk leg needs a tick (its own or its instrument's) and, without ``start``, a price set by
    an earlier step (fill, price, walk) or by its instrument's ``price``."""
    priced = {sym for sym, spec in instruments.items() if spec.price is not None}
    for step in steps:
        action = step.action
        if isinstance(action, FillSpec | PriceSpec):
            priced.add(action.symbol)
        elif isinstance(action, PriceWalkSpec):
            for leg in action.legs:
                here = f"{where}[{step.index}].price_walk ({leg.symbol})"
                if leg.tick is None and leg.symbol not in instruments:
                    raise ValueError(f"{here}: no tick given and {leg.symbol!r} is not in instruments")
                if leg.start is None and leg.symbol not in priced:
                    raise ValueError(f"{here}: no start given and no earlier step or instrument price sets one")
                priced.add(leg.symbol)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario JSON file; raises ``ValueError`` (with the path) on bad content."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p}: not valid JSON: {exc}") from None
    return Scenario.from_dict(data, source=p.name)
