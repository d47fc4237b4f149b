"""Framing of the DTC JSON encoding and the 16-byte binary encoding handshake.

JSON DTC messages are JSON objects each terminated by one 0x00 byte, in both directions; TCP gives no
message boundaries, so bytes are buffered until a terminator arrives (half a frame or a hundred per read).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from dtc.types import PROTOCOL_VERSION, EncodingEnum, MessageType

TERMINATOR = b"\x00"
MAX_FRAME_BYTES = 1 << 20
"""Largest JSON frame accepted (1 MiB); a longer one is dropped and reported as oversized."""

_ENCODING_STRUCT = struct.Struct("<HHii4s")  # Size, Type, ProtocolVersion, Encoding, ProtocolType
ENCODING_MESSAGE_SIZE = _ENCODING_STRUCT.size  # 16


def encoding_request(encoding: EncodingEnum = EncodingEnum.JSON_ENCODING) -> bytes:
    """The binary ENCODING_REQUEST (6) a client sends first when the server's encoding is Automatic.

    For JSON this is ``10 00 06 00 08 00 00 00 02 00 00 00 44 54 43 00``.
    """
    return _ENCODING_STRUCT.pack(
        ENCODING_MESSAGE_SIZE, MessageType.ENCODING_REQUEST, PROTOCOL_VERSION, encoding, b"DTC\x00"
    )


def encoding_response(encoding: EncodingEnum = EncodingEnum.JSON_ENCODING) -> bytes:
    """The binary ENCODING_RESPONSE (7) a server sends back (same layout, ``Type`` 7)."""
    return _ENCODING_STRUCT.pack(
        ENCODING_MESSAGE_SIZE, MessageType.ENCODING_RESPONSE, PROTOCOL_VERSION, encoding, b"DTC\x00"
    )


@dataclass(frozen=True)
class EncodingMessage:
    """A decoded binary ENCODING_REQUEST/RESPONSE."""

    type: int
    protocol_version: int
    encoding: int


def parse_encoding_message(data: bytes) -> EncodingMessage:
    """Parse a 16-byte binary ENCODING_REQUEST or ENCODING_RESPONSE.

    Raises ``ValueError`` if ``data`` is not 16 bytes with ``Size`` 16 and ``Type`` 6 or 7.
    """
    if len(data) != ENCODING_MESSAGE_SIZE:
        raise ValueError(f"encoding message must be {ENCODING_MESSAGE_SIZE} bytes, got {len(data)}")
    size, mtype, version, encoding, _ = _ENCODING_STRUCT.unpack(data)
    if size != ENCODING_MESSAGE_SIZE or mtype not in (
        MessageType.ENCODING_REQUEST,
        MessageType.ENCODING_RESPONSE,
    ):
        raise ValueError(f"not a binary encoding message (Size={size}, Type={mtype})")
    return EncodingMessage(type=mtype, protocol_version=version, encoding=encoding)


def looks_like_encoding_request(prefix: bytes) -> bool:
    """True if ``prefix`` (at least 4 bytes) starts like a binary ENCODING_REQUEST (Size 16, Type 6)."""
    return prefix[:4] == encoding_request()[:4]


class FrameDecoder:
    """Incremental splitter of a NUL-terminated JSON byte stream into frames.

    ``feed(data)`` returns the complete frames (terminator removed, empty frames skipped) and keeps any
    partial tail for the next call. A frame that grows beyond ``max_frame_bytes`` without a terminator is
    discarded up to its terminator and counted in ``oversized``; decoding then resumes with the next frame.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_frame_bytes
        self._discarding = False
        self.oversized = 0

    @property
    def pending_bytes(self) -> int:
        """Bytes buffered while waiting for a terminator."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        frames: list[bytes] = []
        buf = self._buffer
        buf += data
        start = 0
        while True:
            end = buf.find(0, start)
            if end < 0:
                break
            if self._discarding:
                self._discarding = False
            elif end > start:
                if end - start > self._max:
                    self.oversized += 1
                else:
                    frames.append(bytes(buf[start:end]))
            start = end + 1
        del buf[:start]
        if len(buf) > self._max:
            if not self._discarding:
                self.oversized += 1
            self._discarding = True
            buf.clear()
        return frames
