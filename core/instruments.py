"""Instrument facts: symbol roots, point values and tick sizes of common futures.

Point value is the account-currency value of one full point of price per contract (MES: $5); tick size is
the minimum price increment in points (MES: 0.25). Lookups go: server definition (``SECURITY_DEFINITION_
RESPONSE`` 507, registered with ``InstrumentBook.define``) → trader's settings → the built-in table.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

_MONTH_CODES = "FGHJKMNQUVXZ"
POINTS = "pt"
"""The P&L unit of an instrument whose point value is unknown: points × contracts."""


@dataclass(frozen=True)
class Instrument:
    """Contract facts for one symbol root. ``point_value`` in account currency per point per contract."""

    root: str
    point_value: Decimal
    tick_size: Decimal
    known: bool = True
    """False when nothing told us this root's point value and a placeholder of 1 is in use."""
    currency: str = ""
    """ISO code of the currency ``point_value`` is in (507 ``Currency``); "" when not told (then the account's)."""

    def pnl_unit(self, account_currency: str) -> str:
        """What this instrument's P&L is in for an account in ``account_currency``: "" — the account's
        currency; ``POINTS`` — points × contracts (point value unknown); else the instrument's own currency
        code, when both are known and differ (never summed into the account's totals)."""
        if not self.known:
            return POINTS
        if self.currency and account_currency and self.currency != account_currency.strip().upper():
            return self.currency
        return ""


def _d(x: str) -> Decimal:
    return Decimal(x)


# (point value, tick size) of common CME/CBOT/NYMEX/COMEX futures and their micros.
BUILTIN: dict[str, tuple[Decimal, Decimal]] = {
    "ES": (_d("50"), _d("0.25")),
    "MES": (_d("5"), _d("0.25")),
    "NQ": (_d("20"), _d("0.25")),
    "MNQ": (_d("2"), _d("0.25")),
    "YM": (_d("5"), _d("1")),
    "MYM": (_d("0.5"), _d("1")),
    "RTY": (_d("50"), _d("0.1")),
    "M2K": (_d("5"), _d("0.1")),
    "EMD": (_d("100"), _d("0.1")),
    "CL": (_d("1000"), _d("0.01")),
    "MCL": (_d("100"), _d("0.01")),
    "QM": (_d("500"), _d("0.025")),
    "NG": (_d("10000"), _d("0.001")),
    "QG": (_d("2500"), _d("0.005")),
    "RB": (_d("42000"), _d("0.0001")),
    "HO": (_d("42000"), _d("0.0001")),
    "GC": (_d("100"), _d("0.1")),
    "MGC": (_d("10"), _d("0.1")),
    "SI": (_d("5000"), _d("0.005")),
    "SIL": (_d("1000"), _d("0.005")),
    "HG": (_d("25000"), _d("0.0005")),
    "PL": (_d("50"), _d("0.1")),
    "ZB": (_d("1000"), _d("0.03125")),
    "UB": (_d("1000"), _d("0.03125")),
    "ZN": (_d("1000"), _d("0.015625")),
    "ZF": (_d("1000"), _d("0.0078125")),
    "ZT": (_d("2000"), _d("0.00390625")),
    "ZC": (_d("50"), _d("0.25")),
    "ZS": (_d("50"), _d("0.25")),
    "ZW": (_d("50"), _d("0.25")),
    "ZL": (_d("600"), _d("0.01")),
    "ZM": (_d("100"), _d("0.1")),
    "LE": (_d("400"), _d("0.025")),
    "HE": (_d("400"), _d("0.025")),
    "6E": (_d("125000"), _d("0.00005")),
    "M6E": (_d("12500"), _d("0.0001")),
    "6J": (_d("12500000"), _d("0.0000005")),
    "6B": (_d("62500"), _d("0.0001")),
    "6A": (_d("100000"), _d("0.00005")),
    "6C": (_d("100000"), _d("0.00005")),
    "6S": (_d("125000"), _d("0.00005")),
    "BTC": (_d("5"), _d("5")),
    "MBT": (_d("0.1"), _d("5")),
    "ETH": (_d("50"), _d("0.5")),
    "MET": (_d("0.1"), _d("0.5")),
    "VX": (_d("1000"), _d("0.05")),
    "FDAX": (_d("25"), _d("1")),
    "FDXM": (_d("5"), _d("1")),
    "FESX": (_d("10"), _d("1")),
}

# Sierra/Denali "MESZ25-CME", CQG-style "F.US.MESZ25", "MESZ5.CME", "MESZ25_FUT_CME", plain "MESZ25".
_PREFIX = re.compile(r"^(?:[A-Z]\.[A-Z]{2}\.)")
_SUFFIX = re.compile(r"(?:[-.][A-Z]+|_FUT_[A-Z]+)$")
_CONTRACT = re.compile(rf"^(?P<root>[A-Z0-9]+?)(?P<month>[{_MONTH_CODES}])(?P<year>\d{{1,4}})$")


def _parse(symbol: str) -> tuple[str, re.Match[str] | None]:
    """The symbol upper-cased without exchange decorations, and its (root, month, year) match if it names a
    contract."""
    s = _SUFFIX.sub("", _PREFIX.sub("", symbol.strip().upper()))
    m = _CONTRACT.match(s)
    return s, (m if m and m.group("root") else None)


@functools.lru_cache(maxsize=4096)
def symbol_root(symbol: str) -> str:
    """The product root of a futures symbol: ``F.US.MESZ25``, ``MESZ25``, ``MESZ25-CME``, ``MESZ5.CME``,
    ``MESZ25_FUT_CME`` all give ``MES``. A symbol with no recognisable contract month is returned
    upper-cased and stripped of exchange decorations."""
    s, m = _parse(symbol)
    return m.group("root") if m else s


@functools.lru_cache(maxsize=4096)
def contract_symbol(symbol: str) -> str:
    """The contract a symbol names, root and month, without exchange decorations: ``F.US.MESZ25``,
    ``MESZ25``, ``MESZ25-CME``, ``MESZ2025`` and ``MESZ25_FUT_CME`` all give ``MESZ25`` (``MESZ5.CME`` gives
    ``MESZ5``: a one-digit year is kept as written). Prices are keyed by this, never by the root alone, so a
    quote for MESH26 never prices a MESZ25 position. A symbol with no recognisable contract month is returned
    upper-cased and stripped of exchange decorations."""
    s, m = _parse(symbol)
    if m is None:
        return s
    year = m.group("year")
    return m.group("root") + m.group("month") + (year[-2:] if len(year) == 4 else year)


def snap_to_tick(price: Decimal, tick: Decimal) -> Decimal:
    """``price`` rounded to the nearest multiple of ``tick`` (half-even), keeping the tick's exponent."""
    if tick <= 0:
        return price
    ticks = (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN)
    return (ticks * tick).quantize(tick) if tick.as_tuple().exponent < 0 else ticks * tick


class InstrumentBook:
    """Resolves a symbol to its ``Instrument``: server definitions, then settings, then the built-in table.

    ``overrides`` maps a root to ``(point_value, tick_size)`` from the trader's settings.
    Not thread-safe for writes; ``define`` is called on the DTC thread only.
    """

    def __init__(self, overrides: dict[str, tuple[Decimal, Decimal]] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._defined: dict[str, Instrument] = {}
        self._resolved: dict[str, Instrument] = {}  # symbol → instrument, cleared when a definition arrives

    def define(self, symbol: str, point_value: Decimal, tick_size: Decimal, currency: str = "") -> None:
        """Register what the server said (507 ``CurrencyValuePerIncrement`` / ``MinPriceIncrement``, and
        ``Currency``: what the point value is in)."""
        root = symbol_root(symbol)
        self._defined[root] = Instrument(root, point_value, tick_size, currency=currency.strip().upper()[:8])
        self._resolved = {}

    def lookup(self, symbol: str) -> Instrument:
        found = self._resolved.get(symbol)
        if found is None:
            if len(self._resolved) >= 4096:  # symbols come from the wire: stay bounded
                self._resolved = {}
            found = self._resolved[symbol] = self._resolve(symbol)
        return found

    def _resolve(self, symbol: str) -> Instrument:
        root = symbol_root(symbol)
        if root in self._defined:
            return self._defined[root]
        if root in self._overrides:
            pv, tick = self._overrides[root]
            return Instrument(root, pv, tick)
        if root in BUILTIN:
            pv, tick = BUILTIN[root]
            return Instrument(root, pv, tick)
        return Instrument(root, Decimal(1), Decimal(0), known=False)
