"""``HeldFills``: the fills the database refused, in arrival order, until they are stored — and, with a
``FillJournal``, on disk as well, so that quitting (or a crash) does not lose them.

Every fill that starts being held is appended to the journal once (keyed by account and execution id); when
every held fill is stored the journal is emptied. ``storage_error`` is what the window shows: the database's
error and whether the held fills would survive a quit.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence

from core.accounting import Fill
from core.fill_journal import FillJournal

log = logging.getLogger(__name__)

Item = tuple[Fill, str]  # (fill, reason)


class HeldFills:
    """A queue of (fill, reason) waiting to be stored, mirrored in an optional journal file."""

    def __init__(self) -> None:
        self._items: deque[Item] = deque()
        self._journal: FillJournal | None = None
        self._journaled: set[tuple[str, str]] = set()
        self._journal_error: str | None = None
        self.error: str | None = None
        """The database's last error while fills are held (``None``: storing works)."""

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    @property
    def storage_error(self) -> str | None:
        """The database's error, and whether the held fills are saved should the trader quit."""
        error, journal = self.error, self._journal
        if error is None or journal is None:
            return error
        if self._journal_error is not None:
            return (
                f"{error}; the held fills could NOT be saved to {journal.path.name} either ({self._journal_error}): "
                "quitting now loses those Sierra Chart's history cannot supply again"
            )
        return f"{error}; the held fills are saved in {journal.path.name} if you quit"

    def use_journal(self, journal: FillJournal) -> None:
        """Write every fill that starts being held to ``journal`` (append + fsync)."""
        self._journal = journal

    def load_journal(self) -> int:
        """Hold the fills an earlier run journaled (oldest first, behind none). Returns how many. Raises
        ``OSError`` if the journal cannot be read."""
        if self._journal is None:
            return 0
        items = self._journal.read()
        self._items.extend(items)
        self._journaled.update((f.account, f.execution_id) for f, _ in items)
        if items:
            log.warning("%d fill(s) held at the last quit are in %s: storing them", len(items), self._journal.path)
        return len(items)

    def hold(self, items: Sequence[Item], first: bool = False) -> None:
        """Hold ``items`` (``first``: ahead of those already held) and journal the ones not journaled yet."""
        if first:
            self._items.extendleft(reversed(items))
        else:
            self._items.extend(items)
        new = [(f, r) for f, r in items if (f.account, f.execution_id) not in self._journaled]
        if self._journal is None or not new:
            return
        try:
            self._journal.append(new)
        except OSError as exc:
            if self._journal_error is None:
                log.error("cannot journal %d held fill(s) to %s: %s", len(new), self._journal.path, exc)
            self._journal_error = exc.strerror or str(exc)
        else:
            self._journaled.update((f.account, f.execution_id) for f, _ in new)
            self._journal_error = None

    def take(self) -> list[Item]:
        """Every held fill, oldest first; the queue is empty afterwards (the journal keeps them)."""
        items = list(self._items)
        self._items.clear()
        return items

    def stored_all(self) -> bool:
        """Every held fill is stored: empty the journal, clear the error. Returns whether there was one."""
        if self._journal is not None and self._journaled:
            try:
                self._journal.clear()
                self._journaled.clear()
            except OSError as exc:  # harmless: its fills are stored and a replay skips them
                log.error("cannot empty %s: %s", self._journal.path, exc)
        failing, self.error, self._journal_error = self.error is not None, None, None
        return failing
