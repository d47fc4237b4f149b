"""One simulator client connection: the send gate (silence, dead readers), the encoding sniff and JSON frame
reader, and the HEARTBEAT (3) sender. Everything here runs on the simulator's event-loop thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from dtc import framing
from dtc.sim.steps import LogonResultSpec
from dtc.sim.wire import heartbeat

log = logging.getLogger("dtc.sim.server")

DEFAULT_HEARTBEAT_S, MAX_HEARTBEAT_S = 10, 3600
READ_CHUNK = 65536
MAX_WRITE_BUFFER = 8 << 20
"""A client with more unsent bytes than this (it stopped reading) is disconnected."""


@dataclasses.dataclass
class Faults:
    """Injected misbehaviour shared by every connection (changed on the loop thread only)."""

    heartbeats: bool = True
    """False: no HEARTBEAT (3) is sent; everything else still flows."""
    silent: bool = False
    """True: nothing at all is sent (messages produced meanwhile are dropped, not queued)."""
    logon: LogonResultSpec = dataclasses.field(default_factory=lambda: LogonResultSpec(result=1))
    """How LOGON_REQUEST (1) is answered; a Result other than 1 closes the connection after the 2."""
    positions_reject: str | None = None
    """Set: CURRENT_POSITIONS_REQUEST (305) is answered with 307 and this RejectText."""
    history_reject: str | None = None
    """Set: HISTORICAL_ORDER_FILLS_REQUEST (303) is answered with 308 and this RejectText."""
    market_data_rejected: tuple[str, ...] = ()
    """Symbol prefixes, roots or exchanges whose MARKET_DATA_REQUEST (101) gets 103."""


@dataclasses.dataclass(frozen=True)
class LogonSeen:
    """A LOGON_REQUEST (1) as the simulator received it; the password itself is not kept, only whether one
    was sent."""

    peer: str
    username: str
    password_sent: bool
    heartbeat_seconds: int
    client_name: str


@dataclasses.dataclass(frozen=True)
class LogoffSeen:
    """A LOGOFF (5) received from a logged-on client: its ``Reason`` text."""

    peer: str
    reason: str


@dataclasses.dataclass(eq=False)
class Client:
    """A connected socket; ``subscriptions`` maps the client's market-data SymbolID → symbol."""

    writer: asyncio.StreamWriter
    peer: str
    faults: Faults
    logged_on: bool = False
    heartbeat_s: int = DEFAULT_HEARTBEAT_S
    last_heartbeat: float = 0.0
    heartbeat_task: asyncio.Task[None] | None = None
    subscriptions: dict[int, str] = dataclasses.field(default_factory=dict)

    @property
    def closed(self) -> bool:
        return self.writer.is_closing()

    def send(self, data: bytes) -> bool:
        """Queue bytes for the client; False if nothing was queued (silenced, gone, or stopped reading)."""
        if self.faults.silent or not data:
            return False
        return self.write_raw(data)

    def write_raw(self, data: bytes) -> bool:
        """Queue bytes regardless of silence (fault injection of broken frames); False if the client is gone."""
        if self.writer.is_closing():
            return False
        if self.writer.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            log.warning("client %s stopped reading (> %d bytes queued): disconnecting", self.peer, MAX_WRITE_BUFFER)
            self.writer.close()
            return False
        self.writer.write(data)
        return True

    def start_heartbeats(self, interval: int) -> None:
        """(Re)start HEARTBEAT (3) every ``interval`` s (0 or less → 10 s; capped at 3600 s)."""
        self.heartbeat_s = min(interval, MAX_HEARTBEAT_S) if interval > 0 else DEFAULT_HEARTBEAT_S
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
        self.heartbeat_task = asyncio.get_running_loop().create_task(self._heartbeats())

    def stop_heartbeats(self) -> None:
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
            self.heartbeat_task = None

    async def _heartbeats(self) -> None:
        """Send HEARTBEAT with CurrentDateTime (UTC s) every ``heartbeat_s`` s unless disabled or silenced."""
        while not self.closed:
            await asyncio.sleep(self.heartbeat_s)
            if self.faults.heartbeats:
                self.send(heartbeat())


async def read_frames(client: Client, reader: asyncio.StreamReader, on_frame: Callable[[Client, bytes], bool]) -> None:
    """Answer an optional binary ENCODING_REQUEST (6) with the 16-byte JSON ENCODING_RESPONSE (7), then feed
    each NUL-terminated JSON frame to ``on_frame`` until EOF or until it returns False."""
    decoder, head, json_mode, oversized = framing.FrameDecoder(), b"", False, 0
    size = framing.ENCODING_MESSAGE_SIZE
    while True:
        data = await reader.read(READ_CHUNK)
        if not data:
            log.info("client %s disconnected", client.peer)
            return
        if not json_mode:  # sniff the first bytes for the binary ENCODING_REQUEST (6)
            head += data
            if len(head) < 4 and framing.encoding_request().startswith(head):
                continue
            if framing.looks_like_encoding_request(head):
                if len(head) < size:
                    continue
                request = framing.parse_encoding_message(head[:size])
                log.info(
                    "client %s: binary ENCODING_REQUEST (encoding %d), answering JSON", client.peer, request.encoding
                )
                client.send(framing.encoding_response())
                head = head[size:]
            data, head, json_mode = head, b"", True
        for frame in decoder.feed(data):
            if not on_frame(client, frame):
                return
            if client.closed:  # dropped by fault injection while handling the frame
                return
        if decoder.oversized != oversized:
            oversized = decoder.oversized
            log.warning("client %s: dropped an oversized frame (%d so far)", client.peer, oversized)
