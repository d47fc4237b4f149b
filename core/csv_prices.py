"""Prices from a snapshot CSV written by a Sierra Chart study (Sierra Chart does not serve CME data over DTC).

The file holds one line of ``last,high,low,vwap,poc,cum_delta`` (optionally with that header, and optionally
with a leading ``symbol`` column and one row per symbol). A polling thread notices every rewrite (by
modification time and size) within ``poll_seconds`` and hands ``Quote``s stamped with the file's
modification time to ``on_quote``; when the file stops changing its quotes age and turn stale in the
``PriceBook``. A row prices only the contract it names: its ``symbol`` cell, else the ``symbol`` the source was
given (the ``price_csv_symbol`` setting). A row that names no symbol prices nothing — a last price of MES
must never become the price of CL — and ``on_problem`` is told once, so the window can say so.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.prices import Quote, utc_from_epoch

log = logging.getLogger(__name__)

COLUMNS = ("last", "high", "low", "vwap", "poc", "cum_delta")


class CsvFormatError(ValueError):
    """The CSV cannot be read as prices; the message names the line and the value."""


def _number(text: str, what: str, line: int) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CsvFormatError(f"line {line}: {what} is not a number: {text[:20]!r}") from None
    if not value.is_finite():
        raise CsvFormatError(f"line {line}: {what} is not finite")
    return value


def parse_prices(text: str, default_symbol: str = "") -> list[dict[str, Decimal | str | None]]:
    """Rows of the snapshot CSV as dicts with ``symbol`` and the ``COLUMNS`` (prices in points, ``None`` where
    empty). ``symbol`` is the row's symbol cell, else ``default_symbol``; ``""`` when neither names one.

    Raises ``CsvFormatError`` if a row has no ``last`` price or a value is not a number.
    """
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        return []
    header = [c.strip().lower() for c in rows[0]]
    if "last" in header:
        names, body, first_line = header, rows[1:], 2
    else:
        names = ["symbol", *COLUMNS] if len(rows[0]) == len(COLUMNS) + 1 else list(COLUMNS)
        body, first_line = rows, 1
    out = []
    for n, row in enumerate(body, first_line):
        record: dict[str, Decimal | str | None] = {"symbol": default_symbol}
        for name, cell in zip(names, row, strict=False):
            if name == "symbol":
                record["symbol"] = cell.strip() or default_symbol
            elif name in COLUMNS:
                record[name] = _number(cell, name, n)
        if record.get("last") is None:
            raise CsvFormatError(f"line {n}: no last price")
        out.append(record)
    return out


class CsvPriceSource:
    """Watches ``path`` on its own daemon thread and calls ``on_quote`` (on that thread) for every row that
    names a symbol (``symbol``: the one for rows without a symbol cell; empty = none).

    ``on_problem`` (same thread) gets one sentence for the trader when rows name no symbol — once, and again
    only after a read in which every row named one."""

    def __init__(
        self,
        path: Path,
        on_quote: Callable[[Quote], None],
        *,
        symbol: str = "",
        on_problem: Callable[[str], None] | None = None,
        poll_seconds: float = 0.2,
    ) -> None:
        self.path = path
        self._on_quote = on_quote
        self._symbol = symbol.strip()
        self._on_problem = on_problem
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: tuple[int, int] | None = None
        self._unnamed_said = False
        self.errors = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="csv-prices", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def thread(self) -> threading.Thread | None:
        """The thread of the latest ``start()`` (``None`` before): what a supervisor watches."""
        return self._thread

    def poll_once(self) -> int:
        """Read the file if it changed since the last look; returns how many quotes were delivered (rows
        naming no symbol are not delivered)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return 0
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._seen:
            return 0
        try:
            text = self.path.read_text(encoding="utf-8-sig", errors="replace")
            rows = parse_prices(text, self._symbol)
        except (OSError, CsvFormatError) as exc:
            self.errors += 1
            log.warning("price CSV %s unreadable (will retry): %s", self.path, exc)
            return 0  # not marked seen: a half-written file is read again on the next poll
        self._seen = stamp
        named = [row for row in rows if row["symbol"]]
        self._say_unnamed(len(rows) - len(named))
        when = utc_from_epoch(st.st_mtime_ns / 1e9)
        for row in named:
            self._on_quote(
                Quote(
                    symbol=str(row["symbol"]),
                    price=row["last"],  # type: ignore[arg-type]
                    time=when,
                    source="csv",
                    high=row.get("high"),  # type: ignore[arg-type]
                    low=row.get("low"),  # type: ignore[arg-type]
                    vwap=row.get("vwap"),  # type: ignore[arg-type]
                    poc=row.get("poc"),  # type: ignore[arg-type]
                    cum_delta=row.get("cum_delta"),  # type: ignore[arg-type]
                )
            )
        return len(named)

    def _say_unnamed(self, unnamed: int) -> None:
        if not unnamed:
            self._unnamed_said = False
            return
        if self._unnamed_said:
            return
        self._unnamed_said = True
        text = (
            f"Price CSV {self.path.name} names no symbol and no price CSV symbol is set: its prices are not used "
            "(add a symbol column, or set the symbol in Settings)"
        )
        log.warning("%s (%s)", text, self.path)
        if self._on_problem is not None:
            self._on_problem(text)

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            with contextlib.suppress(PermissionError):  # Windows: the study is writing it right now
                self.poll_once()
