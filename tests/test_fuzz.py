"""Fuzzing the wire (ARCHITECTURE §9): hostile bytes never escape the receive path, every bad frame is counted
once, and a valid fill after the garbage is applied — in-process over the real router, state and SQLite, and
once end to end over a real socket from the DTC simulator to the running client thread and Panel2.

Bounded for CI (about 12 s in all); ``uv run python -m tools.fuzz_long --minutes N`` runs the same
properties for longer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_manager import build_app
from core.settings import Settings
from dtc.framing import MAX_FRAME_BYTES
from dtc.sim.server import SimulatorServer
from tools import fuzz_wire as fw

CI = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
E2E = settings(CI, max_examples=15)


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fw.Receiver]:
    r = fw.build_receiver(tmp_path_factory.mktemp("fuzz") / "data")
    yield r
    r.close()


@CI
@given(stream=fw.random_bytes(), cuts=fw.chunkings())
def test_random_bytes_never_escape_and_are_counted(receiver: fw.Receiver, stream: bytes, cuts: list[int]) -> None:
    fw.prop_random_bytes(receiver, stream, cuts)


@CI
@given(frames=st.lists(fw.bad_frame(), min_size=1, max_size=8), cuts=fw.chunkings())
def test_every_bad_frame_is_counted_exactly_once(receiver: fw.Receiver, frames: list[bytes], cuts: list[int]) -> None:
    fw.prop_bad_frames(receiver, frames, cuts)


@CI
@given(frames=st.lists(fw.absurd_frame(), min_size=1, max_size=8), cuts=fw.chunkings())
def test_absurd_values_are_skipped_or_applied_never_fatal(
    receiver: fw.Receiver, frames: list[bytes], cuts: list[int]
) -> None:
    fw.prop_absurd_messages(receiver, frames, cuts)


@settings(CI, max_examples=60)
@given(sizes=st.lists(st.integers(0, 700), min_size=1, max_size=6), cuts=fw.chunkings(3000))
def test_oversized_frames_are_counted_once_at_any_split(
    receiver: fw.Receiver, sizes: list[int], cuts: list[int]
) -> None:
    fw.prop_oversized(receiver, sizes, cuts, limit=256)


def test_a_frame_over_the_real_1_mib_limit_is_dropped_once(receiver: fw.Receiver) -> None:
    for size in (MAX_FRAME_BYTES - 19, MAX_FRAME_BYTES - 18, 3 * MAX_FRAME_BYTES):
        sizes = [size]
        stream_len = size + 40
        fw.prop_oversized(receiver, sizes, [stream_len // 3, 65_536, stream_len // 2], MAX_FRAME_BYTES)


# --- end to end: simulator → socket → client thread → router → SQLite → Panel2 ---------------------------


def _garbage() -> st.SearchStrategy[bytes]:
    return st.one_of(fw.random_bytes(), st.lists(fw.bad_frame(), min_size=1, max_size=4).map(b"\x00".join))


def test_garbage_over_a_real_socket_keeps_the_client_alive(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    simulator = SimulatorServer(None, autoplay=False)
    simulator.start()
    app = build_app(replace(settings, host="127.0.0.1", port=simulator.port, heartbeat_seconds=2))
    qtbot.addWidget(app.window)
    app.start()
    fills = {"n": 0}
    try:
        assert simulator.wait_for_logons(1, timeout=20)

        @E2E
        @given(garbage=_garbage())
        def run(garbage: bytes) -> None:
            before = sum(app.router.bad_input.values())
            must = sum(1 for frame in fw.frames_of(garbage + b"\x00") if fw.surely_bad(frame))
            simulator.send_raw(garbage + b"\x00")
            fills["n"] += 1
            buy = fills["n"] % 2 == 1
            simulator.fill("Sim1", "MESZ25", "BUY" if buy else "SELL", 1, 6000.25)
            expected = "LONG 1 MESZ25" if buy else "FLAT"
            qtbot.waitUntil(lambda: _panel2(app) == expected or not app.client.alive, timeout=5000)
            assert app.client.alive, "the DTC client thread died"
            assert sum(app.router.bad_input.values()) - before >= must

        run()
        assert fills["n"] >= 10, f"only {fills['n']} examples ran"
    finally:
        app.stop()
        simulator.stop()
    assert app.client.connections == 1, "garbage made the client reconnect"


def _panel2(app) -> str:  # type: ignore[no-untyped-def]
    cards = app.window.panel2.card_texts()
    if cards:
        return " | ".join(" · ".join(c.split(" · ")[:1]) for c in cards)
    return app.window.panel2.flat.text()


def test_receiver_wiring_matches_a_fresh_database(tmp_path: Path) -> None:
    r = fw.build_receiver(tmp_path / "data")
    try:
        fw.check_probe(r)
        fw.check_probe(r)
        assert r.position_quantity() == 0 and r.bad == 0
    finally:
        r.close()


# --- regressions found by fuzzing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        b'{"Type":301,"Symbol":"\xff","TradeAccount":"Sim1"}',  # 8-bit (not UTF-8) text in a declared text field
        b'{"Type":306,"TradeAccount":"\xc3\x28"}',
        b'{"Type":306,"TradeAccount":"Fz1","Symbol":"MESZ25","Quantity":1,"EntryDateTime":1' + b"0" * 309 + b"}",
        b'{"Type":301,"TradeAccount":"Fz1","Symbol":"MESZ25","OrderUpdateReason":4,"BuySell":1,"LastFillPrice":1,'
        b'"LastFillQuantity":1,"LastFillExecutionID":"BIG-T","LastFillDateTime":9' + b"9" * 320 + b"}",
        b'{"Type":304,"RequestID":77,"TradeAccount":"Fz1","Symbol":"MESZ25","BuySell":1,"Price":1,"Quantity":1,'
        b'"UniqueExecutionID":"BIG-H","DateTime":-' + b"9" * 320 + b"}",
    ],
    ids=["utf8-301", "utf8-306", "huge-int-306-entry-time", "huge-int-301-fill-time", "huge-int-304-time"],
)
def test_found_by_fuzzing_never_escapes(receiver: fw.Receiver, frame: bytes) -> None:
    before = receiver.bad
    receiver.receive(frame + b"\x00")
    assert receiver.bad - before <= 1
    fw.check_probe(receiver)
