"""Second chances for legal DTC JSON that the strict typed decoder refuses (dtc-protocol §3.2).

Only used after the strict decode failed, so the hot path pays nothing:

- ``null`` for any field means "not set": such keys are removed, and the reader then applies the field's
  default (0 / empty string / None), exactly as for an omitted key.
- DTC text is 8-bit, not UTF-8 (Sierra Chart is a Windows program): a frame that is not valid UTF-8 is read
  as Windows-1252, with Latin-1 for the five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90,
  0x9D), so every byte is a character and nothing is dropped.
"""

from __future__ import annotations

import codecs

import msgspec

_EIGHT_BIT_TABLE = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256))
_encoder = msgspec.json.Encoder()


def eight_bit_text(frame: bytes | bytearray | memoryview) -> str:
    """The frame's bytes read as 8-bit text: Windows-1252, Latin-1 where 1252 has no character."""
    return codecs.charmap_decode(frame, "strict", _EIGHT_BIT_TABLE)[0]


def without_nulls(frame: str) -> bytes | None:
    """The JSON object ``frame`` re-encoded without its top-level ``null`` members, or None when ``frame`` is
    not a JSON object or has no ``null`` member (nothing to retry). Arrays (the ``F`` of JSON Compact) keep
    their nulls: there a position is a field."""
    try:
        obj = msgspec.json.decode(frame)
    except msgspec.DecodeError:
        return None
    if not isinstance(obj, dict) or None not in obj.values():
        return None
    return _encoder.encode({key: value for key, value in obj.items() if value is not None})
