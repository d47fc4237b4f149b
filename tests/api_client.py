"""A real client of the local API for the tests: aiohttp's client on an asyncio loop in a thread of its own.

The test's main thread runs Qt (``qtbot.waitUntil``); HTTP requests and the WebSocket stream run on this
client's loop. Stream messages are collected as they arrive (``messages``), in order.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from typing import Any

import aiohttp


class ApiClient:
    def __init__(self, port: int, token: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = token
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-api-client", daemon=True)
        self._thread.start()
        self.session: aiohttp.ClientSession = self._run(self._session())
        self.messages: list[dict[str, Any]] = []
        self.closed: tuple[int | None, str] | None = None
        self._lock = threading.Lock()
        self._stream: asyncio.Future[None] | None = None

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float = 15.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def headers(self, token: str | None = None) -> dict[str, str]:
        token = self.token if token is None else token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        """(status, JSON body) of ``GET path``."""

        async def go() -> tuple[int, Any]:
            async with self.session.get(self.base + path, headers=self.headers(token)) as response:
                return response.status, await response.json(content_type=None)

        return self._run(go())

    def stream(self, token: str | None = None, path: str = "/stream") -> None:
        """Connect the WebSocket and collect its messages in the background. Raises
        ``aiohttp.WSServerHandshakeError`` if the server refuses the connection."""
        ws = self._run(self.session.ws_connect(self.base + path, headers=self.headers(token)))

        async def read() -> None:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    with self._lock:
                        self.messages.append(message.json())
            self.closed = (ws.close_code, "")

        self._stream = asyncio.run_coroutine_threadsafe(read(), self.loop)  # type: ignore[assignment]

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.messages)

    def events(self) -> list[dict[str, Any]]:
        """Every stream event so far, in the order received (the snapshot and control messages left out)."""
        out = []
        for message in self.received():
            if message["type"] == "events":
                out.extend(message["events"])
        return out

    def close(self) -> None:
        try:
            self._run(self.session.close(), 5.0)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5.0)


def raw_stream(port: int, token: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then reads nothing (a stuck program)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        (
            "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    return sock
