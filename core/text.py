"""Text that came from the network, made safe to show and to log.

DTC text fields (``ResultText``, ``Reason``, ``RejectText``, names) are whatever the server — or anything
between it and the panel — put there. Written raw, an ESC sequence drives the terminal that shows the log
and a CR/LF forges a log line. ``printable`` writes every such character as its Python escape instead;
``EscapeControlCharacters`` does that for every log record.
"""

from __future__ import annotations

import logging


def printable(text: str) -> str:
    """``text`` with every non-printable character written as its Python ``repr`` escape: control
    characters (``"\\x1b"``, ``"\\r"``, ``"\\n"``, ``"\\t"``, ``"\\x7f"``, C1), line and paragraph separators
    and format characters such as bidirectional overrides (``"\\u202e"``). Everything else, the space and
    the backslash included, is unchanged."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class EscapeControlCharacters(logging.Filter):
    """A handler filter: the record's message (format and arguments merged) goes out through ``printable``,
    so one record is one log line whatever its arguments hold. Tracebacks are left as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = printable(message)
        if safe != message:
            record.msg, record.args = safe, None
        return True
