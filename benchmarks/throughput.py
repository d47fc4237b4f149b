"""Receive-path throughput (messages/s on one core) and resident memory growth (MB) over a long stream.

- decode + route: ``FrameDecoder.feed`` (64 KiB chunks) → ``decode_message`` → ``MessageRouter.route`` →
  ``StateManager.publish()`` per chunk, over the realistic stream of ``benchmarks.stream`` (no database
  writes: no fills, and the 100 ms ``on_tick`` that would store MAE/MFE marks is not run);
- bare JSON parse (the ceiling): the same chunks through ``FrameDecoder.feed`` → ``msgspec.json.decode``
  to plain dicts; the typed decode (``decode_message`` to structs, no routing) is shown too;
- memory: RSS before and after routing 1,000,000 more messages, after a 100,000-message warm-up.

Each rate is the median of three runs over fresh streams (a replayed stream would carry old timestamps,
which the price book rejects early — an unrealistically cheap path).
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from benchmarks.common import Figure, rss_mb
from benchmarks.stream import StreamMaker, build_receive_path, split_chunks
from dtc.framing import FrameDecoder
from dtc.messages import decode_message

RUNS = 3


def _fresh_chunks(maker: StreamMaker, count: int) -> list[bytes]:
    return split_chunks(b"".join(maker.frames(count)))


def _rate(count: int, make: Callable[[], list[bytes]], consume: Callable[[list[bytes]], float]) -> float:
    """Median messages/s of ``RUNS`` runs of ``consume`` (returns the seconds it took) over fresh chunks."""
    rates = []
    for _ in range(RUNS):
        chunks = make()
        gc.collect()
        rates.append(count / consume(chunks))
    return statistics.median(rates)


def _timed(work: Callable[[list[bytes]], int], count: int) -> Callable[[list[bytes]], float]:
    def run(chunks: list[bytes]) -> float:
        began = time.perf_counter()
        done = work(chunks)
        if done != count:
            raise RuntimeError(f"expected {count} messages, processed {done}")
        return time.perf_counter() - began

    return run


def _bare_dict(chunks: list[bytes]) -> int:
    decoder, decode, n = FrameDecoder(), msgspec.json.decode, 0
    for chunk in chunks:
        for data in decoder.feed(chunk):
            decode(data)
            n += 1
    return n


def _bare_typed(chunks: list[bytes]) -> int:
    decoder, n = FrameDecoder(), 0
    for chunk in chunks:
        for data in decoder.feed(chunk):
            decode_message(data)
            n += 1
    return n


def measure_rates(count: int) -> list[Figure]:
    """Decode + route rate, bare parse rates and their ratio, over ``count`` messages per run."""
    maker = StreamMaker(seed=11)
    with tempfile.TemporaryDirectory(prefix="dtc-bench-route-", ignore_cleanup_errors=True) as tmp:
        path = build_receive_path(Path(tmp))

        def route(chunks: list[bytes]) -> float:
            before = path.messages
            took = path.feed_in_thread(chunks)
            path.drain()
            if path.messages - before != count:
                raise RuntimeError(f"expected {count} messages, routed {path.messages - before}")
            return took

        routed = _rate(count, lambda: _fresh_chunks(maker, count), route)
        bad = sum(path.router.bad_input.values())
        path.close()
    if bad:
        raise RuntimeError(f"the realistic stream produced {bad} bad-input counts")
    bare = _rate(count, lambda: _fresh_chunks(maker, count), _timed(_bare_dict, count))
    typed = _rate(count, lambda: _fresh_chunks(maker, count), _timed(_bare_typed, count))
    return [
        Figure("decode + route (realistic stream, 1 core)", routed, "msg/s", 150_000, True),
        Figure("bare JSON parse: framing + msgspec → dict", bare, "msg/s", note="ceiling"),
        Figure("typed decode: framing + decode_message", typed, "msg/s", note="information"),
        Figure("decode + route ÷ bare JSON parse", routed / bare, "ratio", 0.5, True),
    ]


def measure_memory(count: int, warmup: int = 100_000) -> Figure:
    """RSS growth (MiB) while ``count`` messages of the realistic stream go through the receive path, in
    slices of 100,000 with the queued snapshots delivered to the window between slices."""
    maker = StreamMaker(seed=13)
    with tempfile.TemporaryDirectory(prefix="dtc-bench-memory-", ignore_cleanup_errors=True) as tmp:
        path = build_receive_path(Path(tmp))
        path.feed_in_thread(maker.chunks(warmup))
        path.drain()
        gc.collect()
        before = rss_mb()
        done = 0
        while done < count:
            step = min(100_000, count - done)
            path.feed_in_thread(maker.chunks(step))
            path.drain()
            done += step
        gc.collect()
        after = rss_mb()
        path.close()
    growth = None if before is None or after is None else after - before
    per_million = None if growth is None else growth * 1_000_000 / count
    note = f"{count:,} messages, RSS {before:.0f} → {after:.0f} MB" if before and after else "no /proc: not measured"
    return Figure("memory growth per 1,000,000 messages", per_million, "MB", 20, False, note)
