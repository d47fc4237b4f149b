"""SIM/LIVE classification of trade accounts (ARCHITECTURE §7).

Mode is a property of the trade account: names matching the SIM pattern (default: starting with ``Sim``,
case-insensitive — Sierra Chart's simulated accounts are ``Sim1``, ``Sim2`` …) are ``SIM``; all else ``LIVE``.
"""

from __future__ import annotations

import re
from enum import StrEnum

DEFAULT_SIM_PATTERN = r"^sim"


class Mode(StrEnum):
    SIM = "SIM"
    LIVE = "LIVE"


class ModeClassifier:
    """Maps a ``TradeAccount`` name to ``Mode`` with a case-insensitive regular expression.

    Raises ``re.error`` at construction if ``pattern`` is not a valid regular expression.
    """

    def __init__(self, pattern: str = DEFAULT_SIM_PATTERN) -> None:
        self._regex = re.compile(pattern, re.IGNORECASE)

    def mode_of(self, account: str) -> Mode:
        return Mode.SIM if self._regex.search(account) else Mode.LIVE
