"""The local API (issue 16): positions, P&L and health for other programs on this computer, read-only.

``LocalApi`` (``api/server.py``) serves HTTP and a WebSocket stream with aiohttp on its own asyncio loop in a
background thread; ``StreamHub`` (``api/hub.py``) keeps what it serves from the core's published events;
``api/schema.py`` is the JSON of each shape; ``api/reads.py`` the database reads on a read-only connection of
its own. The wire format is documented in ``docs/API.md``.
"""

from api.server import LocalApi

__all__ = ["LocalApi"]
