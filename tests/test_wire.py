"""The wire: NUL framing at every split, the real-server fixtures, the encoding handshake bytes."""

from __future__ import annotations

import json

import msgspec
import pytest

from dtc.framing import FrameDecoder, encoding_request, encoding_response, parse_encoding_message
from dtc.messages import (
    MESSAGE_CLASSES,
    AccountBalanceUpdate,
    DecodeError,
    Heartbeat,
    HistoricalOrderFillsReject,
    LogonRequest,
    LogonResponse,
    OrderUpdate,
    PositionUpdate,
    TradeAccountResponse,
    UnknownMessage,
    decode_message,
    encode_message,
)
from dtc.timeconv import to_utc
from tests.conftest import fixture_messages


def _recorded_stream() -> tuple[bytes, list[bytes]]:
    frames = [json.dumps(m, separators=(",", ":")).encode() for m in fixture_messages()]
    return b"".join(f + b"\x00" for f in frames), frames


def test_every_split_of_a_recorded_stream_gives_the_same_frames() -> None:
    stream, frames = _recorded_stream()
    assert len(frames) >= 10
    for cut in range(len(stream) + 1):
        decoder = FrameDecoder()
        got = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert got == frames, f"split at byte {cut}"
        assert decoder.pending_bytes == 0


def test_byte_at_a_time_and_all_at_once_agree() -> None:
    stream, frames = _recorded_stream()
    decoder = FrameDecoder()
    got: list[bytes] = []
    for i in range(len(stream)):
        got += decoder.feed(stream[i : i + 1])
    assert got == frames
    assert FrameDecoder().feed(stream) == frames


def test_every_fixture_message_decodes_to_its_type() -> None:
    expected = {
        2: LogonResponse,
        3: Heartbeat,
        401: TradeAccountResponse,
        306: PositionUpdate,
        600: AccountBalanceUpdate,
        308: HistoricalOrderFillsReject,
    }
    seen = set()
    for obj in fixture_messages():
        message = decode_message(json.dumps(obj).encode())
        seen.add(obj["Type"])
        if obj["Type"] in expected:
            assert isinstance(message, expected[obj["Type"]])
        else:
            assert not isinstance(message, UnknownMessage) or obj["Type"] == 501
    assert seen >= set(expected)


def test_fixture_values_survive_decoding() -> None:
    by_type: dict[int, list] = {}
    for obj in fixture_messages():
        by_type.setdefault(obj["Type"], []).append(decode_message(json.dumps(obj).encode()))
    short = [p for p in by_type[306] if p.Quantity and p.Quantity < 0]
    assert short and short[0].AveragePrice == 6857.0 and short[0].Unsolicited == 1
    flat = [p for p in by_type[306] if p.NoPositions == 1]
    assert flat and flat[0].Symbol == "" and flat[0].TradeAccount == "Sim1"
    assert {a.TradeAccount for a in by_type[401]} == {"120005", "Sim1"}
    assert by_type[308][0].RejectText == "TradeAccount is not set"
    compact = by_type[3][0]
    assert compact.F == (0, 1762600000)
    assert by_type[600][0].CashBalance == 21.66


def test_unknown_keys_ignored_and_unknown_type_reported() -> None:
    msg = decode_message(b'{"Type":306,"Symbol":"ESZ25","Quantity":2,"BrandNewField":7}')
    assert isinstance(msg, PositionUpdate) and msg.Quantity == 2
    assert decode_message(b'{"Type":12345,"X":1}') == UnknownMessage(Type=12345)


@pytest.mark.parametrize(
    "frame",
    [b"{not json", b'{"Type":"301"}', b'{"Type":301,"LastFillQuantity":"one"}', b"[1,2]", b'{"NoType":1}', b"NaN"],
)
def test_malformed_frames_raise_decode_error(frame: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_message(frame)


def test_encode_puts_type_first_and_terminates() -> None:
    data = encode_message(OrderUpdate(Symbol="MESZ25", BuySell=1))
    assert data.endswith(b"\x00") and data.count(b"\x00") == 1
    assert data.startswith(b'{"Type":301,')


def test_password_never_in_repr() -> None:
    text = repr(LogonRequest(Username="trader", Password="hunter2-secret"))
    assert "hunter2-secret" not in text and "trader" in text


def test_encoding_handshake_bytes_match_sierra() -> None:
    assert encoding_request().hex(" ") == "10 00 06 00 08 00 00 00 02 00 00 00 44 54 43 00"
    assert encoding_response().hex(" ") == "10 00 07 00 08 00 00 00 02 00 00 00 44 54 43 00"
    parsed = parse_encoding_message(bytes.fromhex("10000700080000000200000044544300"))
    assert (parsed.type, parsed.protocol_version, parsed.encoding) == (7, 8, 2)
    with pytest.raises(ValueError):
        parse_encoding_message(b"\x00" * 16)


def test_oversized_frame_is_dropped_and_next_frame_kept() -> None:
    decoder = FrameDecoder(max_frame_bytes=32)
    frames = decoder.feed(b"{" + b"x" * 100)
    frames += decoder.feed(b"}\x00" + b'{"Type":3}\x00')
    assert frames == [b'{"Type":3}']
    assert decoder.oversized == 1


def test_time_fields_normalised_by_magnitude() -> None:
    seconds = to_utc(1763050000)
    assert seconds is not None
    assert to_utc(1763050000000) == seconds
    assert to_utc(1763050000000000) == seconds
    assert to_utc(0) is None and to_utc(1.7976931348623157e308) is None


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=lambda c: c.__name__)
def test_null_in_any_field_reads_as_not_set(cls: type) -> None:
    """JSON null means "not set" (dtc-protocol §3.2): every field of every message type takes its default."""
    names = [f.name for f in msgspec.structs.fields(cls)]
    frame = json.dumps({"Type": int(cls.TYPE), **dict.fromkeys(names)}).encode()
    assert decode_message(frame) == cls()


def test_fill_with_null_info_text_and_fill_time_is_kept() -> None:
    frame = (
        b'{"Type":301,"Symbol":"MESZ25","TradeAccount":"Sim1","OrderUpdateReason":4,"BuySell":1,"LastFillPrice":6000,'
        b'"LastFillQuantity":1,"LastFillExecutionID":"E1","InfoText":null,"LastFillDateTime":null,"Price2":null}'
    )
    msg = decode_message(frame)
    assert isinstance(msg, OrderUpdate)
    assert (msg.LastFillExecutionID, msg.InfoText, msg.LastFillDateTime, msg.Price2) == ("E1", "", 0, None)


def test_accented_account_and_order_text_read_as_sierra_chart_wrote_them() -> None:
    """DTC text is 8-bit: a frame that is not valid UTF-8 is read as Windows-1252 (Latin-1 where 1252 has no
    character), the whole frame alike; valid UTF-8 is read as UTF-8."""
    frame = b'{"Type":301,"TradeAccount":"J\xfcrgen","InfoText":"ex\xe9cut\xe9 \x80\x81","FreeFormText":"\xb1"}'
    msg = decode_message(frame)
    assert isinstance(msg, OrderUpdate)
    assert (msg.TradeAccount, msg.InfoText, msg.FreeFormText) == (
        "J\u00fcrgen",
        "ex\u00e9cut\u00e9 \u20ac\x81",
        "\u00b1",
    )
    utf8 = decode_message('{"Type":301,"InfoText":"\u00e9 \u20ac"}'.encode())
    assert isinstance(utf8, OrderUpdate) and utf8.InfoText == "\u00e9 \u20ac"


def test_8_bit_text_and_null_in_one_frame() -> None:
    msg = decode_message(
        b'{"Type":306,"TradeAccount":"Sim\xe9","Symbol":"MESZ25","Quantity":2,"PositionIdentifier":null}'
    )
    assert isinstance(msg, PositionUpdate) and (msg.TradeAccount, msg.PositionIdentifier) == ("Sim\u00e9", "")


@pytest.mark.parametrize(
    "frame",
    [
        b'{"Type":306,"PositionIdentifier":null,"TradeAccount":"Sim\xe9","Quantity":2}',
        b'{"Type":306,"TradeAccount":"Sim\xe9","PositionIdentifier":null,"Quantity":2}',
    ],
    ids=["null-first", "8-bit-first"],
)
def test_position_with_8_bit_account_and_null_field_is_read_in_any_order(frame: bytes) -> None:
    msg = decode_message(frame)
    assert isinstance(msg, PositionUpdate)
    assert (msg.TradeAccount, msg.PositionIdentifier, msg.Quantity) == ("Sim\u00e9", "", 2)


@pytest.mark.parametrize(
    "frame",
    [
        b'{"Type":306,"Quantity":"two","TradeAccount":"Sim\xe9"}',
        b'{"Type":306,"Quantity":"two","PositionIdentifier":null}',
        b'{"Type":306,"TradeAccount":"Sim\xe9",',
        b'{"Type":null,"TradeAccount":"Sim\xe9"}',
        b'{"TradeAccount":"Sim\xe9","Quantity":null}',
    ],
)
def test_bad_input_with_8_bit_text_or_null_is_still_refused(frame: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_message(frame)


def test_unknown_type_with_8_bit_text_and_null_is_ignored_not_refused() -> None:
    assert decode_message(b'{"Type":4242,"X":null,"Y":"\xe9"}') == UnknownMessage(Type=4242)
