"""Shared pieces of the benchmarks: the machine header, figures with targets, percentiles, resident memory.

Units are part of every ``Figure``: messages/s, ms, s, MB (memory in MiB = 2^20 bytes, see ``rss_mb``).
"""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux, else ``platform.processor()``)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_header() -> list[str]:
    """Lines describing this machine and the software under test."""
    import msgspec
    import PySide6

    now = datetime.now(UTC).astimezone()
    return [
        f"date       {now:%Y-%m-%d %H:%M %Z}",
        f"machine    {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}",
        f"software   Python {platform.python_version()} ({sys.implementation.name}), PySide6 {PySide6.__version__}, "
        f"msgspec {msgspec.__version__}, SQLite {sqlite3.sqlite_version}",
    ]


@dataclass(frozen=True)
class Figure:
    """One measured figure. ``target`` is the bound (same unit as ``value``); ``higher_is_better`` says which
    side of it meets the target. ``target`` None means the figure is informational."""

    name: str
    value: float | None
    unit: str
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def line(self) -> str:
        value = "n/a" if self.value is None else _number(self.value)
        text = f"{self.name:<44} {value:>12} {self.unit:<8}"
        if self.target is not None:
            sign = "≥" if self.higher_is_better else "≤"
            verdict = {True: "met", False: "MISSED", None: "n/a"}[self.met]
            text += f" target {sign} {_number(self.target)} {self.unit:<8} {verdict}"
        if self.note:
            text += f"  ({self.note})"
        return text.rstrip()


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``; 0.0 for an empty list."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def rss_mb() -> float | None:
    """This process's resident set size in MiB (Linux /proc/self/status ``VmRSS``); None where unavailable."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text(encoding="ascii", errors="replace").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB → MiB
    return None
