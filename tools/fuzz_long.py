"""Long fuzzing run of the wire properties of ``tests/test_fuzz.py`` (see ``tools.fuzz_wire``).

    uv run python -m tools.fuzz_long --minutes 10 [--seed 1]

Runs the in-process properties in rounds (random bytes, bad frames, absurd values, oversized frames), each
round a fresh hypothesis run of ``--examples`` examples with a new seed, until the time is up; a failing
property is shrunk by hypothesis, printed with its minimal example and counted, and the run goes on. Prints
examples run, bad frames counted and failures; exits 1 if any property failed.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tools import fuzz_wire as fw


def _properties(receiver: fw.Receiver) -> dict[str, Callable[[], None]]:
    """Each property as a hypothesis test over ``receiver`` (settings applied per round)."""

    @given(stream=fw.random_bytes(), cuts=fw.chunkings())
    def random_bytes(stream: bytes, cuts: list[int]) -> None:
        fw.prop_random_bytes(receiver, stream, cuts)

    @given(frames=st.lists(fw.bad_frame(), min_size=1, max_size=8), cuts=fw.chunkings())
    def bad_frames(frames: list[bytes], cuts: list[int]) -> None:
        fw.prop_bad_frames(receiver, frames, cuts)

    @given(frames=st.lists(fw.absurd_frame(), min_size=1, max_size=8), cuts=fw.chunkings())
    def absurd_values(frames: list[bytes], cuts: list[int]) -> None:
        fw.prop_absurd_messages(receiver, frames, cuts)

    @given(sizes=st.lists(st.integers(0, 700), min_size=1, max_size=6), cuts=fw.chunkings(3000))
    def oversized(sizes: list[int], cuts: list[int]) -> None:
        fw.prop_oversized(receiver, sizes, cuts, limit=256)

    return {"random bytes": random_bytes, "bad frames": bad_frames, "absurd values": absurd_values,
            "oversized": oversized}  # fmt: skip


def run(minutes: float, examples: int, seed: int) -> int:
    logging.basicConfig(level=logging.ERROR)  # the router logs every skipped frame at WARNING: keep it quiet
    rng = random.Random(seed)
    deadline = time.monotonic() + minutes * 60
    failures: Counter[str] = Counter()
    rounds: Counter[str] = Counter()
    retired: Counter[str] = Counter()  # examples and bad-frame counts of receivers replaced after a failure
    seen: Counter[str] = Counter()  # distinct failures and how often each was hit
    with tempfile.TemporaryDirectory(prefix="dtc-fuzz-", ignore_cleanup_errors=True) as tmp:
        receiver = fw.build_receiver(Path(tmp) / "data")
        names = list(_properties(receiver))
        began = time.monotonic()
        next_report = began + 60
        while time.monotonic() < deadline:
            for name in names:
                if time.monotonic() >= deadline:
                    break
                test = _properties(receiver)[name]  # a fresh function: settings and seed apply once each
                configured = settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    derandomize=False,
                    phases=[Phase.generate, Phase.shrink],
                    suppress_health_check=list(HealthCheck),
                )(test)
                rounds[name] += 1
                try:
                    seeded = _seed(configured, rng.getrandbits(64))
                    seeded()
                except Exception as exc:  # every failing property is reported and the run goes on
                    failures[name] += 1
                    signature = f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    if signature not in seen:  # the shrunk example once per distinct failure
                        print(f"\nFAILED property '{name}':\n{traceback.format_exc(limit=8)}", flush=True)
                    seen[signature] += 1
                    retired["examples"] += receiver.examples
                    retired["bad"] += receiver.bad
                    receiver.close()
                    receiver = fw.build_receiver(Path(tmp) / f"data-{sum(failures.values())}")
            if time.monotonic() >= next_report:
                next_report += 60
                _report(began, receiver, retired, rounds, failures)
        _report(began, receiver, retired, rounds, failures)
        receiver.close()
    for signature, count in seen.items():
        print(f"distinct failure ({count} round(s)): {signature}")
    print(
        "verdict: "
        + ("no failure" if not failures else f"{sum(failures.values())} failing round(s), {len(seen)} distinct")
    )
    return 1 if failures else 0


def _seed(test: Callable[[], None], value: int) -> Callable[[], None]:
    from hypothesis import seed

    return seed(value)(test)


def _report(
    began: float, receiver: fw.Receiver, retired: Counter[str], rounds: Counter[str], failures: Counter[str]
) -> None:
    elapsed = time.monotonic() - began
    print(
        f"[{elapsed / 60:5.1f} min] examples {receiver.examples + retired['examples']:,}, "
        f"bad frames counted {receiver.bad + retired['bad']:,} (now {dict(receiver.router.bad_input)}), "
        f"rounds {sum(rounds.values())}, failures {sum(failures.values())} {dict(failures)}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fuzz_long", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to fuzz (default 10)")
    parser.add_argument("--examples", type=int, default=200, help="examples per property round (default 200)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="seed of the rounds' seeds")
    args = parser.parse_args(argv)
    print(f"fuzzing the wire for {args.minutes:g} min, {args.examples} examples per round, seed {args.seed}")
    return run(args.minutes, args.examples, args.seed)


if __name__ == "__main__":
    sys.exit(main())
