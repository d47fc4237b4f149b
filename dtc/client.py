"""The DTC client thread: connect, negotiate JSON, log on, heartbeats both ways, reconnect, logoff.

One plain Python thread owns the socket. It decodes every received chunk into typed messages and hands
them to ``on_message`` on this thread, then calls ``on_chunk_end`` once per chunk (so the consumer can
publish one update per burst). Other threads send with ``send()``, which queues the message and wakes the
thread; nothing but this thread touches the socket.

Link policy (dtc-protocol §5): HEARTBEAT every ``heartbeat_seconds``; no complete message (heartbeat or
other) for 1.5 intervals → STALE, for 2.5 intervals → the link is dead: close and reconnect with capped
exponential backoff and jitter. Bytes alone do not count: a frame that never ends is a stalled link.
``LOGON_RESPONSE.Result`` 3 and ``LOGOFF.DoNotReconnect`` stop reconnecting; Result 4's
``ReconnectAddress`` is followed for one connection only when it is the configured host (``dtc.redirect``):
credentials never go to another host. With ``tls`` the connection is TLS with certificate verification always on.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from dtc.framing import ENCODING_MESSAGE_SIZE, FrameDecoder, encoding_request, parse_encoding_message
from dtc.messages import (
    DecodeError,
    DTCMessage,
    Heartbeat,
    Logoff,
    LogonRequest,
    LogonResponse,
    UnknownMessage,
    decode_message,
    encode_message,
)
from dtc.redirect import decide
from dtc.types import EncodingEnum, LogonStatusEnum, MessageType

log = logging.getLogger(__name__)

RECV_BYTES = 1 << 16
GROUP_BYTES = 1 << 20
"""At most this much already-received data is routed as one chunk (one transaction of fills)."""
LOOP_TICK_SECONDS = 0.1
LOGOFF_SEND_SECONDS = 0.5
"""At most this long is spent handing LOGOFF (5) to a server that is not reading, when closing."""


class LinkState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    LOGGING_ON = "logging on"
    LOGGED_ON = "logged on"
    STALE = "stale"
    STOPPED = "stopped"


class ProtocolError(ConnectionError):
    """The server answered in a way this client cannot work with (encoding refused, logon failed)."""


class _StopReconnecting(ConnectionError):
    """The server told us not to reconnect (logon Result 3 or LOGOFF DoNotReconnect)."""


@dataclass(frozen=True)
class ClientConfig:
    """Connection settings. ``heartbeat_seconds`` is sent in LOGON_REQUEST and applies to both sides."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    heartbeat_seconds: int = 10
    client_name: str = "DTC Panel"
    encoding_request: bool = True
    connect_timeout: float = 5.0
    reconnect_min: float = 1.0
    reconnect_max: float = 30.0
    tls: bool = False
    """Wrap the connection in TLS (Sierra Chart's "Require TLS"); the certificate is always verified."""
    tls_trusted_certificate: str = ""
    """A certificate (or CA) file to trust in addition to the system's, e.g. Sierra Chart's self-signed one."""
    password_source: Callable[[], str] | None = None
    """Where the LOGON_REQUEST ``Password`` comes from when ``password`` is empty: called on the client's thread
    at each logon (e.g. the system keyring, whose first read can take a few hundred milliseconds). An exception
    from it is logged and the logon goes ahead without a password."""

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"ClientConfig(host={self.host!r}, port={self.port}, username={self.username!r}, password='***')"


def _noop(*_args: object) -> None:
    return None


class DTCClient:
    """Runs the DTC connection on its own daemon thread.

    Callbacks (all called on the client thread):
    ``on_message(msg)`` for every decoded message (including LOGON_RESPONSE and HEARTBEAT);
    ``on_bad_frame(kind, reason)`` for input that cannot be decoded (it is skipped);
    ``on_link(state, detail)`` on every link-state change;
    ``on_chunk_end()`` after each received chunk; ``on_tick()`` at least every 100 ms, connected or not;
    ``on_notice(text)`` once per distinct text the trader should read even after the link state moved on
    (a ``ReconnectAddress`` that was not followed).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        on_message: Callable[[DTCMessage | UnknownMessage], None] = _noop,
        on_bad_frame: Callable[[str, str], None] = _noop,
        on_link: Callable[[LinkState, str], None] = _noop,
        on_chunk_end: Callable[[], None] = _noop,
        on_tick: Callable[[], None] = _noop,
        on_notice: Callable[[str], None] = _noop,
    ) -> None:
        self.config = config
        self._host, self._port = config.host, config.port
        self._on_message = on_message
        self._on_bad_frame = on_bad_frame
        self._on_link = on_link
        self._on_chunk_end = on_chunk_end
        self._on_tick = on_tick
        self._on_notice = on_notice
        self._noticed: set[str] = set()
        self._next_address: tuple[str, int] | None = None
        """Where the next connection goes instead of the configured address (a followed ReconnectAddress)."""
        self._outbox: queue.SimpleQueue[DTCMessage] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread: threading.Thread | None = None
        self.state = LinkState.DISCONNECTED
        self.last_received = 0.0
        """``time.monotonic()`` when the last complete message arrived (or the connection started)."""
        self.connections = 0
        self._logged_on = False

    # --- public API (any thread) -----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dtc-client", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Send LOGOFF (5) if connected, close the socket and wait up to ``timeout`` seconds for the thread.

        Returns False if the thread is still busy then (e.g. inside a connect attempt, which ends within
        ``connect_timeout``): it is a daemon thread and stops at its next check without logging on again."""
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the DTC thread did not stop within %.1f s", timeout)
                return False
        with contextlib.suppress(OSError):
            self._wake_r.close()
            self._wake_w.close()
        return True

    def send(self, message: DTCMessage) -> None:
        """Queue ``message`` for the client thread to send (dropped if not connected when it is sent)."""
        self._outbox.put(message)
        self._wake()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def thread(self) -> threading.Thread | None:
        """The thread of the latest ``start()`` (``None`` before): what a supervisor watches."""
        return self._thread

    # --- thread ----------------------------------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\x01")

    def _set_state(self, state: LinkState, detail: str = "") -> None:
        if state == self.state and not detail:
            return
        self.state = state
        log.info("link %s%s", state.value, f": {detail}" if detail else "")
        self._on_link(state, detail)

    def _run(self) -> None:
        delay = self.config.reconnect_min
        while not self._stop.is_set():
            self._logged_on = False
            try:
                self._session()
                detail = "closed"
            except _StopReconnecting as exc:
                self._set_state(LinkState.STOPPED, str(exc))
                return
            except (OSError, ProtocolError) as exc:
                detail = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
            if self._stop.is_set():
                break
            if self._logged_on:  # a session that got through logon restarts the backoff, however it ended
                delay = self.config.reconnect_min
            wait = delay * random.uniform(0.8, 1.2)
            self._set_state(LinkState.DISCONNECTED, f"{detail}; reconnecting in {wait:.1f} s")
            deadline = time.monotonic() + wait
            while not self._stop.wait(min(LOOP_TICK_SECONDS, max(0.0, deadline - time.monotonic()))):
                self._on_tick()  # retries and repaints go on while disconnected
                if time.monotonic() >= deadline:
                    break
            delay = min(delay * 2, self.config.reconnect_max)
        self._set_state(LinkState.STOPPED, "client stopped")

    def _password(self) -> str:
        cfg = self.config
        if cfg.password or cfg.password_source is None:
            return cfg.password
        try:
            return cfg.password_source()
        except Exception as exc:  # a keyring backend's own error: log on without a password, say why
            log.warning("cannot read the DTC password (%s); logging on without one", exc.__class__.__name__)
            return ""

    def _session(self) -> bool:
        """One connection from connect to close. Returns True if the logon succeeded."""
        cfg = self.config
        self._host, self._port = self._next_address or (cfg.host, cfg.port)
        self._next_address = None  # a followed ReconnectAddress holds for this one connection
        self._set_state(LinkState.CONNECTING, f"{self._host}:{self._port}")
        sock = socket.create_connection((self._host, self._port), timeout=cfg.connect_timeout)
        self.connections += 1
        try:
            if cfg.tls:
                sock = self._tls_context().wrap_socket(sock, server_hostname=self._host)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            decoder = FrameDecoder()
            if cfg.encoding_request:
                leftover = self._negotiate_json(sock)
                frames = decoder.feed(leftover)
            else:
                frames = []
            if self._stop.is_set():  # closing while connecting: never log on (nothing to log off from)
                return False
            sock.setblocking(False)
            self._drain_outbox_discard()
            self._send_now(
                sock,
                LogonRequest(
                    Username=cfg.username,
                    Password=self._password(),
                    HeartbeatIntervalInSeconds=cfg.heartbeat_seconds,
                    ClientName=cfg.client_name,
                ),
            )
            self._set_state(LinkState.LOGGING_ON)
            return self._loop(sock, decoder, frames)
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _tls_context(self) -> ssl.SSLContext:
        """Verification on (hostname and chain); ``tls_trusted_certificate`` adds one trusted certificate.
        Raises ``ProtocolError`` if that file cannot be read."""
        context = ssl.create_default_context()
        if self.config.tls_trusted_certificate:
            try:
                context.load_verify_locations(cafile=self.config.tls_trusted_certificate)
            except (OSError, ssl.SSLError) as exc:
                raise ProtocolError(f"cannot load the trusted certificate: {exc}") from None
        return context

    def _negotiate_json(self, sock: socket.socket) -> bytes:
        sock.sendall(encoding_request(EncodingEnum.JSON_ENCODING))
        data = b""
        deadline = time.monotonic() + max(self.config.connect_timeout, 1.0) * 4
        while len(data) < ENCODING_MESSAGE_SIZE:
            if data.startswith(b"{"):
                return data  # the server is fixed to JSON and already speaks it
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = sock.recv(ENCODING_MESSAGE_SIZE - len(data))
            except TimeoutError:
                raise ProtocolError("no ENCODING_RESPONSE from the server") from None
            if not chunk:
                raise ProtocolError("server closed the connection during the encoding handshake")
            data += chunk
        try:
            reply = parse_encoding_message(data)
        except ValueError as exc:
            raise ProtocolError(f"bad ENCODING_RESPONSE: {exc}") from None
        if reply.type != MessageType.ENCODING_RESPONSE or reply.encoding != EncodingEnum.JSON_ENCODING:
            raise ProtocolError(
                f"server refused JSON encoding (it offers encoding {reply.encoding}); "
                "set Sierra Chart's DTC Encoding to JSON or Automatic"
            )
        return b""

    def _send_now(self, sock: socket.socket, message: DTCMessage, timeout: float | None = None) -> None:
        """Send ``message`` now, waiting at most ``timeout`` seconds (default ``connect_timeout``)."""
        data = encode_message(message)
        sock.setblocking(True)
        sock.settimeout(self.config.connect_timeout if timeout is None else timeout)
        try:
            sock.sendall(data)
        finally:
            sock.setblocking(False)

    def _drain_outbox_discard(self) -> None:
        """Requests queued while disconnected belong to the old connection's RequestIDs: drop them."""
        while True:
            try:
                self._outbox.get_nowait()
            except queue.Empty:
                return

    def _loop(self, sock: socket.socket, decoder: FrameDecoder, frames: list[bytes]) -> bool:
        interval = float(self.config.heartbeat_seconds)
        now = time.monotonic()
        self.last_received = now
        next_heartbeat = now + interval
        logon_deadline = now + max(self.config.connect_timeout, 1.0) * 2
        logged_on = False
        applied_at = now
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while True:
                if frames:
                    logged_on = self._handle_frames(frames, logged_on) or logged_on
                    frames = []
                    self._on_chunk_end()
                    # the time spent applying them (seconds for a large history batch on a busy machine) is
                    # ours, not the server's silence: its heartbeats wait unread in the socket meanwhile
                    applied_at = time.monotonic()
                if self._stop.is_set():
                    with contextlib.suppress(OSError):
                        self._send_now(sock, Logoff(Reason="client closing", DoNotReconnect=0), LOGOFF_SEND_SECONDS)
                    return logged_on
                while True:
                    try:
                        outgoing = self._outbox.get_nowait()
                    except queue.Empty:
                        break
                    self._send_now(sock, outgoing)
                now = time.monotonic()
                if now >= next_heartbeat:
                    self._send_now(sock, Heartbeat(CurrentDateTime=int(time.time())))
                    next_heartbeat = now + interval
                silent = now - max(self.last_received, applied_at)
                if not logged_on and now > logon_deadline:
                    raise ProtocolError("no LOGON_RESPONSE from the server")
                if silent > 2.5 * interval:
                    raise ConnectionError(f"no message from the server for {silent:.1f} s (heartbeat {interval:.0f} s)")
                if logged_on and silent > 1.5 * interval and self.state != LinkState.STALE:
                    self._set_state(LinkState.STALE, f"no message for {silent:.1f} s")
                self._on_tick()
                timeout = max(0.0, min(LOOP_TICK_SECONDS, next_heartbeat - now))
                for key, _ in sel.select(timeout):
                    if key.fileobj is self._wake_r:
                        with contextlib.suppress(BlockingIOError, OSError):
                            self._wake_r.recv(4096)
                        continue
                    try:
                        data = sock.recv(RECV_BYTES)
                        while isinstance(sock, ssl.SSLSocket) and sock.pending():  # decrypted, not signalled
                            data += sock.recv(RECV_BYTES)
                    except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        continue
                    if not data:
                        raise ConnectionError("server closed the connection")
                    data += self._drain(sock)
                    frames = decoder.feed(data)
                    if frames:  # a whole message arrived: bytes of an unfinished frame prove nothing
                        self.last_received = time.monotonic()
                        if self.state == LinkState.STALE:
                            self._set_state(LinkState.LOGGED_ON, "messages flowing again")
                    if decoder.oversized:
                        for _ in range(decoder.oversized):
                            self._on_bad_frame("oversized frame", "frame longer than the 1 MiB limit")
                        decoder.oversized = 0

    @staticmethod
    def _drain(sock: socket.socket) -> bytes:
        """What else the socket holds right now (never waits), up to ``GROUP_BYTES``: a burst read as one
        group, so its fills are stored in one transaction (``on_chunk_end``) instead of one per 64 KiB."""
        parts: list[bytes] = []
        size = 0
        while size < GROUP_BYTES:
            try:
                more = sock.recv(RECV_BYTES)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            if not more:  # closed: the next select() sees it again and reports it
                break
            parts.append(more)
            size += len(more)
        return b"".join(parts)

    def _handle_frames(self, frames: list[bytes], logged_on: bool) -> bool:
        """Decode and dispatch; returns True if a successful LOGON_RESPONSE was among them."""
        success = False
        for frame in frames:
            try:
                message = decode_message(frame)
            except DecodeError as exc:
                self._on_bad_frame("undecodable frame", exc.reason)
                continue
            if isinstance(message, LogonResponse):
                success = self._check_logon(message) or success
            elif isinstance(message, Logoff):
                reason = message.Reason or "no reason given"
                if message.DoNotReconnect:
                    raise _StopReconnecting(f"Sierra Chart logged off and asked not to reconnect: {reason}")
                raise ConnectionError(f"Sierra Chart logged off: {reason}")
            self._on_message(message)
        return success

    def _check_logon(self, response: LogonResponse) -> bool:
        text = response.ResultText or "no text"
        if response.Result == LogonStatusEnum.LOGON_SUCCESS:
            self._logged_on = True
            server = response.ServerName or "server"
            trading = "" if response.TradingIsSupported else " (trading not supported: turn on Allow Trading)"
            self._set_state(LinkState.LOGGED_ON, f"{server}: {text}{trading}")
            return True
        if response.Result == LogonStatusEnum.LOGON_ERROR_NO_RECONNECT:
            raise _StopReconnecting(f"logon refused, not reconnecting: {text}")
        if response.Result == LogonStatusEnum.LOGON_RECONNECT_NEW_ADDRESS:
            redirect = decide(response.ReconnectAddress, self.config.host)
            self._next_address = redirect.follow
            if redirect.follow is None and redirect.text not in self._noticed:
                self._noticed.add(redirect.text)
                self._on_notice(redirect.text)
            raise ProtocolError(redirect.text)
        raise ProtocolError(f"logon refused: {text}")
