"""Fuzzing the wire: hypothesis strategies for hostile DTC input and the properties the receive path must keep.

Shared by ``tests/test_fuzz.py`` (bounded, in CI) and ``tools/fuzz_long.py`` (the same properties for
minutes or hours). The receive path under test is the client thread's, minus the socket: ``FrameDecoder.feed``
→ oversized frames reported to ``router.skip`` → ``DTCClient._handle_frames`` (``decode_message``, bad
frames to ``router.skip``, messages to ``MessageRouter.route``) → ``StateManager.publish()``, over a real
``StateManager`` and SQLite database wired as ``app_manager.build_app`` wires them.

Properties (ARCHITECTURE §9): nothing raises out of the receive path; every bad frame is counted once in
``router.bad_input``; a valid fill sent after the garbage is applied.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import strategies as st
from sqlalchemy import Engine

from core.fills import FillFactory
from core.instruments import InstrumentBook
from core.market_data import MarketDataFeed, SecurityDefinitions
from core.modes import ModeClassifier
from core.orders import OrderBook
from core.prices import PriceBook
from core.resync import ResyncController
from core.router import MessageRouter
from core.state import StateManager
from data.db import make_engine
from data.repository import PositionStore
from dtc.client import ClientConfig, DTCClient
from dtc.framing import MAX_FRAME_BYTES, FrameDecoder
from dtc.messages import (
    AccountBalanceUpdate,
    DecodeError,
    DTCMessage,
    HistoricalOrderFillResponse,
    OrderUpdate,
    PositionUpdate,
    UnknownMessage,
    decode_message,
    encode_message,
)
from dtc.types import MessageType

ACCOUNT = "Sim1"
PROBE_SYMBOL = "FZPROBEZ25"
"""The symbol of the valid fills sent after garbage; no generated message uses it."""

DBL_MAX = 1.7976931348623157e308
SENTINEL_NUMBERS: tuple[float | int, ...] = (
    0, -1, 1, 2147483647, -2147483648, 4294967295, 9223372036854775807, -9223372036854775808,
    18446744073709551615, 2**70, -(2**70), 10**309, -(10**309), DBL_MAX, -DBL_MAX, 5e-324, 1e-300, 1e15, 1e12,
    999999999.75, 1773000000000, 1773000000000000,
)  # fmt: skip
SENTINEL_TEXT: tuple[str, ...] = ("", " ", "Sim1", "MESZ25", "Ω账户", "🙂" * 30, "x" * 2000, "\u0000", "\\", '"')

FUZZ_TYPES: tuple[type[DTCMessage], ...] = (OrderUpdate, HistoricalOrderFillResponse, PositionUpdate,
                                            AccountBalanceUpdate)  # fmt: skip
"""301, 304, 306, 600: the messages that reach the database and the positions."""

KEY_FIELDS = frozenset({"TradeAccount", "Symbol", "Quantity", "Price", "BuySell", "UniqueExecutionID", "LastFillPrice",
                        "LastFillQuantity", "LastFillExecutionID", "AveragePrice", "CashBalance"})  # fmt: skip
ACCOUNTS = ("Fz1", "120005", "", "Ω账户", "SimFz")
SYMBOLS = ("MESZ25", "F.US.MNQZ25", "", "ÄÖÜ", "X" * 300, "ESZ5.CME")


# --- strategies ----------------------------------------------------------------------------------------


def _kind(annotation: Any) -> str:
    text = str(annotation)
    if "tuple" in text:
        return "skip"
    if "str" in text:
        return "str"
    if "float" in text:
        return "float"
    return "int"


def absurd_value(kind: str) -> st.SearchStrategy[Any]:
    """A value of the right JSON type for a field of ``kind`` that is absurd for a trading panel."""
    if kind == "str":  # null is "not set" for any field (dtc-protocol §3.2)
        return st.one_of(st.sampled_from(SENTINEL_TEXT), st.text(max_size=40), st.none())
    integers = st.one_of(st.sampled_from([v for v in SENTINEL_NUMBERS if isinstance(v, int)]),
                         st.integers(-(2**80), 2**80))  # fmt: skip
    if kind == "int":
        return st.one_of(integers, st.none())
    floats = st.floats(allow_nan=False, allow_infinity=False)
    return st.one_of(st.sampled_from(SENTINEL_NUMBERS), floats, integers, st.none())


def wrong_value(kind: str) -> st.SearchStrategy[Any]:
    """A value of the wrong JSON type for a field of ``kind``."""
    containers = st.one_of(st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers()))
    if kind == "str":
        return st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), containers)
    return st.one_of(st.text(min_size=0, max_size=10), st.booleans(), containers)


@st.composite
def message_dict(draw: st.DrawFn, wrong: bool = False) -> dict[str, Any]:
    """A 301/304/306/600 as a JSON object: ``Type`` plus a random subset of its fields with absurd values
    (``TradeAccount``/``Symbol`` from small pools); with ``wrong`` one field has the wrong JSON type."""
    cls = draw(st.sampled_from(FUZZ_TYPES))
    fields = [f for f in msgspec.structs.fields(cls) if _kind(f.type) != "skip"]
    chosen = draw(st.lists(st.sampled_from(fields), unique_by=lambda f: f.name, max_size=len(fields)))
    if draw(st.integers(0, 4)):  # mostly with the keys a handler needs, so the values reach deep
        chosen += [f for f in fields if f.name in KEY_FIELDS and f not in chosen]
    out: dict[str, Any] = {"Type": int(cls.TYPE)}
    for f in chosen:
        if f.name == "TradeAccount":
            out[f.name] = draw(st.sampled_from(ACCOUNTS))
        elif f.name == "Symbol":
            out[f.name] = draw(st.sampled_from(SYMBOLS))
        else:
            out[f.name] = draw(absurd_value(_kind(f.type)))
    if cls is OrderUpdate and draw(st.booleans()):
        out["OrderUpdateReason"] = draw(st.sampled_from((4, 5)))  # a fill, more often than by chance
    if wrong:
        target = draw(st.sampled_from(fields))
        out[target.name] = draw(wrong_value(_kind(target.type)))
    return out


def to_json(value: dict[str, Any], ascii_only: bool = True) -> bytes:
    """JSON text; non-finite floats become the non-JSON tokens ``NaN``/``Infinity`` (bad frames)."""
    return json.dumps(value, allow_nan=True, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


EIGHT_BIT_TEXT = (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80", b"ex\xe9cut\xe9")
"""Text that is not UTF-8: legal in DTC, whose text is 8-bit (read as Windows-1252)."""


@st.composite
def absurd_frame(draw: st.DrawFn) -> bytes:
    """A well-formed frame (no terminator) of a 301/304/306/600 with absurd values of the right types, and
    sometimes 8-bit (not UTF-8) text in a text field the type declares."""
    message = draw(message_dict())
    frame = to_json(message, draw(st.booleans()))
    cls = next(c for c in FUZZ_TYPES if message["Type"] == c.TYPE)
    free = [f.name for f in msgspec.structs.fields(cls) if _kind(f.type) == "str" and f.name not in message]
    if free and draw(st.booleans()):
        junk = draw(
            st.one_of(st.sampled_from(EIGHT_BIT_TEXT), st.lists(st.integers(0x80, 0xFF), max_size=6).map(bytes))
        )
        frame = frame[:-1] + b', "%s": "%s"}' % (draw(st.sampled_from(free)).encode(), junk)
    return frame


_KNOWN_TYPES = frozenset(int(t) for t in MessageType)


@st.composite
def bad_frame(draw: st.DrawFn) -> bytes:
    """A frame (no terminator) that must be counted as bad input exactly once."""
    how = draw(st.sampled_from(("truncated", "wrong type", "nan", "not object", "no type", "unknown")))
    if how == "truncated":
        text = to_json(draw(message_dict()))
        return text[: draw(st.integers(1, len(text) - 1))]
    if how == "wrong type":
        return to_json(draw(message_dict(wrong=True)))
    if how == "nan":
        message = draw(message_dict())
        message[draw(st.sampled_from(("Price1", "Quantity", "CashBalance", "Price", "x")))] = draw(
            st.sampled_from((float("nan"), float("inf"), float("-inf")))
        )
        return to_json(message)
    if how == "not object":
        value = draw(st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3), st.none()))
        return json.dumps(value).encode()
    if how == "no type":
        return to_json(draw(st.dictionaries(st.sampled_from(("Symbol", "Price", "Typ")), st.integers(), max_size=2)))
    # a Type the protocol does not define (Sierra Chart's custom 10100-10102 are modelled since issue 15)
    unknown = st.integers(10_000, 2**40).filter(lambda t: t not in _KNOWN_TYPES)
    return to_json({"Type": draw(unknown), "Whatever": draw(st.text(max_size=5))})


def random_bytes() -> st.SearchStrategy[bytes]:
    """Random bytes with NULs sprinkled in, well-formed frames and pieces of frames among them."""
    piece = st.one_of(st.binary(max_size=200), st.just(b"\x00"), absurd_frame(), bad_frame(),
                      st.sampled_from((b"{", b"}", b'"Type":301', b"\x00\x00\x00", b"\xff" * 5)))  # fmt: skip
    return st.lists(piece, max_size=12).map(b"".join)


def chunkings(data_size: int = 4096) -> st.SearchStrategy[list[int]]:
    """Cut points (byte offsets) at which a stream is split into ``recv`` chunks."""
    return st.lists(st.integers(0, data_size), max_size=8)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


# --- the receive path ----------------------------------------------------------------------------------


class Receiver:
    """The app's receive path (router + state + SQLite), fed chunk by chunk as the client thread would."""

    def __init__(
        self, engine: Engine, state: StateManager, router: MessageRouter, client: DTCClient, decoder: FrameDecoder
    ) -> None:
        self.engine = engine
        self.state = state
        self.router = router
        self.client = client
        self.decoder = decoder
        self.sessions_ended = 0
        self.probes = 0
        self.examples = 0

    @property
    def bad(self) -> int:
        """Bad input counted so far (all kinds)."""
        return sum(self.router.bad_input.values())

    def receive(self, chunk: bytes) -> None:
        """One ``recv``: what ``DTCClient._loop`` does with it. A LOGOFF or failed LOGON_RESPONSE ends the
        session (``ConnectionError``) — by design, the client reconnects — and is noted, not raised."""
        frames = self.decoder.feed(chunk)
        for _ in range(self.decoder.oversized):
            self.router.skip("oversized frame", "frame longer than the limit")
        self.decoder.oversized = 0
        if not frames:
            return
        try:
            self.client._handle_frames(frames, True)  # the client's own decode-and-dispatch
        except ConnectionError:
            self.sessions_ended += 1
            self.decoder = FrameDecoder(self.decoder._max)  # a new session, a new decoder
        self.state.publish()

    def receive_all(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.receive(chunk)

    def probe_fill(self) -> tuple[str, Decimal]:
        """Send one valid fill on (``ACCOUNT``, ``PROBE_SYMBOL``) that flattens or opens 1 contract; returns
        its execution id and the position quantity it must leave."""
        self.probes += 1
        held = self.state.position("SIM", ACCOUNT, PROBE_SYMBOL)
        buy = held is None or held.quantity < 0
        execution_id = f"FUZZ-PROBE-{id(self)}-{self.probes}"
        fill = OrderUpdate(
            Symbol=PROBE_SYMBOL, TradeAccount=ACCOUNT, ServerOrderID=f"FZO-{self.probes}", OrderStatus=7,
            OrderUpdateReason=4, OrderType=1, BuySell=1 if buy else 2, OrderQuantity=1.0, FilledQuantity=1.0,
            LastFillPrice=100.25, LastFillQuantity=1.0, LastFillExecutionID=execution_id,
        )  # fmt: skip
        self.receive(b"\x00" + encode_message(fill))  # a NUL first: garbage without one ends here
        after = (held.quantity if held is not None else Decimal(0)) + (1 if buy else -1)
        return execution_id, after

    def position_quantity(self) -> Decimal:
        held = self.state.position("SIM", ACCOUNT, PROBE_SYMBOL)
        return held.quantity if held is not None else Decimal(0)

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"Receiver(examples={self.examples}, probes={self.probes}, bad={dict(self.router.bad_input)})"


def build_receiver(data_dir: Path, max_frame_bytes: int = MAX_FRAME_BYTES) -> Receiver:
    """A ``Receiver`` over a fresh database in ``data_dir``, wired like ``build_app`` (not logged on, so
    live fills apply at once)."""
    sent: list[DTCMessage] = []
    engine = make_engine(data_dir)
    store = PositionStore(engine)
    instruments = InstrumentBook()
    state = StateManager(store, instruments, ModeClassifier(), prices=PriceBook(), orders=OrderBook())
    resync = ResyncController(sent.append, state, store)
    router = MessageRouter(
        state,
        FillFactory(instruments, lambda _root: Decimal("0.62")),
        resync,
        instruments,
        feed=MarketDataFeed(sent.append, state.on_price),
        definitions=SecurityDefinitions(sent.append, instruments.define),
    )
    client = DTCClient(ClientConfig("127.0.0.1", 1), on_message=router.route, on_bad_frame=router.skip)
    return Receiver(engine, state, router, client, FrameDecoder(max_frame_bytes))


def frames_of(stream: bytes) -> Iterator[bytes]:
    """The non-empty NUL-terminated frames of ``stream`` (an unterminated tail is left out)."""
    parts = stream.split(b"\x00")
    yield from (p for p in parts[:-1] if p)


def surely_bad(frame: bytes) -> bool:
    """True if ``decode_message`` refuses ``frame`` or finds an unmodelled ``Type`` (both counted as bad).
    Any other exception propagates: it would escape the receive path too."""
    try:
        return isinstance(decode_message(frame), UnknownMessage)
    except DecodeError:
        return True


# --- properties (each raises AssertionError, or whatever escaped the receive path) -------------------------


def check_probe(receiver: Receiver) -> None:
    """A valid fill after whatever came before is applied: the probe position moves by one contract."""
    bad_before = receiver.bad
    _, expected = receiver.probe_fill()
    assert receiver.bad == bad_before, f"the valid fill was counted as bad input: {dict(receiver.router.bad_input)}"
    assert receiver.position_quantity() == expected, "the valid fill after the garbage was not applied"


def prop_random_bytes(receiver: Receiver, stream: bytes, cuts: list[int]) -> None:
    """Random bytes in random chunks: nothing raises; each undecodable frame is counted, no frame twice."""
    receiver.examples += 1
    stream += b"\x00"
    frames = list(frames_of(stream))
    must = sum(1 for f in frames if surely_bad(f))
    before = receiver.bad
    receiver.receive_all(split_at(stream, cuts))
    counted = receiver.bad - before
    assert must <= counted <= len(frames), f"{counted} counted for {must} bad of {len(frames)} frames"
    check_probe(receiver)


def prop_bad_frames(receiver: Receiver, frames: list[bytes], cuts: list[int]) -> None:
    """Frames that are all bad, in random chunks: each counted exactly once, nothing raises."""
    receiver.examples += 1
    stream = b"".join(f + b"\x00" for f in frames)
    before = receiver.bad
    receiver.receive_all(split_at(stream, cuts))
    assert receiver.bad - before == len(frames), f"{receiver.bad - before} counted for {len(frames)} bad frames"
    check_probe(receiver)


def prop_absurd_messages(receiver: Receiver, frames: list[bytes], cuts: list[int]) -> None:
    """Well-formed 301/304/306/600 with absurd values: nothing raises, nothing non-finite is kept, at most
    one count per frame, and the next valid fill is applied."""
    receiver.examples += 1
    stream = b"".join(f + b"\x00" for f in frames)
    before = receiver.bad
    receiver.receive_all(split_at(stream, cuts))
    assert receiver.bad - before <= len(frames)
    for view in receiver.state.snapshot().positions + receiver.state.snapshot().other_open:
        assert view.quantity.is_finite() and view.quantity != 0 and view.avg_entry.is_finite()
    check_probe(receiver)


def prop_oversized(receiver: Receiver, sizes: list[int], cuts: list[int], limit: int) -> None:
    """Frames around the size limit (``receiver.decoder`` must have ``limit``) in random chunks: each one
    longer than the limit is counted once as oversized; the heartbeats between them still get through."""
    receiver.examples += 1
    receiver.decoder = FrameDecoder(limit)
    heartbeat = b'{"Type":3}'
    stream = b"".join(b'{"Type":3,"Pad":"' + b"x" * size + b'"}\x00' + heartbeat + b"\x00" for size in sizes)
    longer = sum(1 for size in sizes if size + 19 > limit)
    oversized_before = receiver.router.bad_input["oversized frame"]
    heartbeats_before = receiver.router.routed["Heartbeat"]
    receiver.receive_all(split_at(stream, cuts))
    assert receiver.router.bad_input["oversized frame"] - oversized_before == longer
    passed = receiver.router.routed["Heartbeat"] - heartbeats_before
    assert passed == 2 * len(sizes) - longer, f"{passed} heartbeats got through, expected {2 * len(sizes) - longer}"
    receiver.decoder = FrameDecoder()
    check_probe(receiver)
