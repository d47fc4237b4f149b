"""No thread dies silently: the DTC connection thread and the price thread are supervised.

``ThreadSupervisor.start(name, worker, on_failure)`` starts a worker — anything with ``start()`` and a
``thread`` property (``dtc.client.DTCClient``, ``core.csv_prices.CsvPriceSource``). When the worker's thread
ends with an exception, ``threading.excepthook`` hands it here: the traceback goes to the log, the trader is
told which thread stopped and why (``on_failure(text)``, called on the failing thread just before it ends),
and the worker is started again after a pause — 1 s, doubling up to 30 s while it keeps failing within a
minute of each start. A thread that ends without an exception (stopped, or told by Sierra Chart not to
reconnect) is left alone, and nothing is restarted after ``stop()``.

The hook is process-wide and chained: exceptions of threads no supervisor watches are logged and passed on to
the hook that was installed before. Pure Python, no Qt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
HEALTHY_AFTER = 60.0
"""A worker that ran this long before failing starts again after ``FIRST_DELAY`` (its failures are forgiven)."""


class Restartable(Protocol):
    """A worker that runs on a thread of its own and can be started again after that thread ended."""

    @property
    def thread(self) -> threading.Thread | None: ...

    def start(self) -> None: ...


@dataclass(eq=False)
class _Watch:
    name: str
    worker: Restartable
    on_failure: Callable[[str], None]
    started: float = 0.0
    failures: int = 0
    pending: threading.Timer | None = None


class ThreadSupervisor:
    """Starts workers and restarts any whose thread dies of an exception (see the module docstring)."""

    def __init__(
        self, first_delay: float = FIRST_DELAY, max_delay: float = MAX_DELAY, healthy_after: float = HEALTHY_AFTER
    ) -> None:
        self._first_delay, self._max_delay, self._healthy_after = first_delay, max_delay, healthy_after
        self._watches: list[_Watch] = []
        self._lock = threading.Lock()
        self._stopped = False
        self.restarts = 0

    def start(self, name: str, worker: Restartable, on_failure: Callable[[str], None]) -> None:
        """Start ``worker`` and watch its thread. ``name`` says in the trader's words what stopped
        (e.g. "DTC connection"); ``on_failure(text)`` shows ``text`` to the trader."""
        _register(self)
        watch = _Watch(name, worker, on_failure)
        with self._lock:
            self._stopped = False
            self._watches.append(watch)
            self._launch(watch)

    def stop(self) -> None:
        """Restart nothing from now on (call before stopping the workers); pending restarts are cancelled."""
        with self._lock:
            self._stopped = True
            pending = [w.pending for w in self._watches if w.pending is not None]
            self._watches.clear()
        for timer in pending:
            timer.cancel()
        _unregister(self)

    def _launch(self, watch: _Watch) -> None:
        """Under the lock: start the worker (so ``stop()`` never races a restart)."""
        watch.started = time.monotonic()
        watch.pending = None
        watch.worker.start()

    def _watch_of(self, thread: threading.Thread) -> _Watch | None:
        with self._lock:
            return next((w for w in self._watches if w.worker.thread is thread), None)

    def _failed(self, watch: _Watch, args: threading.ExceptHookArgs) -> None:
        """On the failing thread: log, tell the trader, and schedule the restart."""
        with self._lock:
            if time.monotonic() - watch.started >= self._healthy_after:
                watch.failures = 0
            watch.failures += 1
            delay = min(self._first_delay * 2 ** (watch.failures - 1), self._max_delay)
        error = args.exc_type.__name__ if not str(args.exc_value) else f"{args.exc_type.__name__}: {args.exc_value}"
        text = f"{watch.name} stopped by an unexpected error ({error}); restarting in {delay:g} s"
        log.error("%s", text, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))  # type: ignore[arg-type]
        try:
            watch.on_failure(text)
        except Exception:  # the report itself failed: the restart must still happen, and the log says why
            log.exception("could not show the failure of %s in the window", watch.name)
        timer = threading.Timer(delay, self._restart, args=(watch, args.thread))
        timer.name = f"restart {watch.name}"
        timer.daemon = True
        with self._lock:
            if self._stopped or watch not in self._watches:
                return
            watch.pending = timer
            timer.start()

    def _restart(self, watch: _Watch, failed: threading.Thread | None) -> None:
        if failed is not None:
            failed.join(5.0)  # it has finished reporting and is ending
        with self._lock:
            if self._stopped or watch not in self._watches:
                return
            self.restarts += 1
            log.info("restarting %s (failure %d)", watch.name, watch.failures)
            self._launch(watch)


# --- the process-wide hook ---------------------------------------------------------------------------------

_supervisors: list[ThreadSupervisor] = []
_previous_hook: Callable[[threading.ExceptHookArgs], object] | None = None
_hook_lock = threading.Lock()


def _hook(args: threading.ExceptHookArgs) -> None:
    """``threading.excepthook``: a watched thread's failure goes to its supervisor; any other is logged and
    passed on. ``SystemExit`` ends a thread on purpose and is only passed on."""
    thread = args.thread
    if thread is not None and not issubclass(args.exc_type, SystemExit):
        with _hook_lock:
            supervisors = list(_supervisors)
        for supervisor in supervisors:
            watch = supervisor._watch_of(thread)
            if watch is not None:
                supervisor._failed(watch, args)
                return
        log.error(
            "thread %s ended by an exception",
            thread.name,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
        )
    (_previous_hook or threading.__excepthook__)(args)


def _register(supervisor: ThreadSupervisor) -> None:
    global _previous_hook
    with _hook_lock:
        if supervisor not in _supervisors:
            _supervisors.append(supervisor)
        if threading.excepthook is not _hook:  # first use, or someone (a test runner) set another since
            _previous_hook = threading.excepthook
            threading.excepthook = _hook


def _unregister(supervisor: ThreadSupervisor) -> None:
    global _previous_hook
    with _hook_lock:
        if supervisor in _supervisors:
            _supervisors.remove(supervisor)
        if not _supervisors and threading.excepthook is _hook:
            threading.excepthook = _previous_hook or threading.__excepthook__
            _previous_hook = None
