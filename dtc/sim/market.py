"""Market-data rules of the simulator: Sierra's data restriction and seeded random price walks.

Prices in points; a tick is the instrument's minimum price increment (points).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable

from dtc.sim.steps import exchange_of

_MONTH_YEAR = re.compile(r"^(?P<root>[A-Z0-9]+?)[FGHJKMNQUVXZ]\d{1,2}$")
_CME_GROUP = frozenset({"CME", "CBOT", "NYMEX", "COMEX", "GLOBEX", "CME_MINI", "CBT", "NYM"})
MAX_TICKS_PER_MOVE = 2


def symbol_exchange(symbol: str) -> str:
    """Exchange code in a symbol: "MESZ25-CME" → "CME", "ESM20_FUT_CME" → "CME", else ""."""
    s = symbol.upper()
    if "_" in s:
        return s.rsplit("_", 1)[1]
    return exchange_of(s)


def symbol_root(symbol: str) -> str:
    """Contract root: "MESZ25-CME" → "MES", "F.US.MESZ25" → "MES", "ESM20_FUT_CME" → "ES"."""
    s = symbol.upper().split("_", 1)[0]
    s = s.rpartition(".")[2]
    head, sep, _ = s.rpartition("-")
    s = head if sep and head else s
    m = _MONTH_YEAR.match(s)
    return m.group("root") if m else s


def restriction_text(symbol: str, exchange: str, restricted: Iterable[str]) -> str | None:
    """MARKET_DATA_REJECT (103) text when ``symbol`` matches a restricted entry, else None.

    An entry matches a symbol prefix ("MES" matches "MESZ25-CME"), an exact root ("ES" matches "ESZ25" but
    not "MESZ25"), or an exchange ("CME" matches "MESZ25-CME" and a request with ``Exchange`` "CME").
    """
    s, ex = symbol.upper(), (exchange or symbol_exchange(symbol)).upper()
    root = symbol_root(symbol)
    for entry in restricted:
        e = entry.upper()
        if s.startswith(e) or root == e or ex == e:
            group = "CME Group" if ex in _CME_GROUP or not ex else ex
            return f"Market data for this symbol is not available through the DTC server ({group} data restriction)"
    return None


def snap(price: float, tick: float) -> float:
    """``price`` rounded to the nearest multiple of ``tick`` (10 decimals, so 0.1 ticks stay exact)."""
    return round(round(price / tick) * tick, 10)


def walk_path(start: float, tick: float, count: int, seed: str, end: float | None = None) -> list[float]:
    """``count`` prices after ``start``, each -2..+2 ticks from the previous one, snapped to ``tick``.

    Deterministic for the same arguments (``seed`` is a string: the step's seed and the symbol). With ``end``
    the moves are steered so the last price is ``end`` (snapped) when it is reachable within 2 ticks per
    update, else as close as possible. Prices stay above one tick.
    """
    rng = random.Random(seed)
    ticks = round(start / tick)
    target = None if end is None else round(end / tick)
    path: list[float] = []
    for i in range(count):
        moves = list(range(-MAX_TICKS_PER_MOVE, MAX_TICKS_PER_MOVE + 1))
        if target is None:
            move = rng.choice(moves)
        else:
            remaining = count - i - 1  # updates left after this one
            gap = target - ticks
            reachable = [m for m in moves if abs(gap - m) <= MAX_TICKS_PER_MOVE * remaining]
            if not reachable:  # too far: head straight for it
                reachable = [min(moves, key=lambda m: abs(gap - m))]
            drift = gap / (remaining + 1)  # the even pace that lands on the target
            misses = [(m - drift) ** 2 for m in reachable]
            weights = [math.exp((min(misses) - miss) / 2.0) for miss in misses]  # best move weighs 1
            move = rng.choices(reachable, weights)[0]
        ticks = max(1, ticks + move)
        path.append(round(ticks * tick, 10))
    return path
