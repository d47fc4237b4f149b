"""What the panel knows of its local API (issue 16) without serving it: the bearer token, and whether an
address is this computer's. No aiohttp here: the settings dialog uses it too.

The token is kept like the DTC password, in the system keyring.

Where no keyring exists (a headless Linux box) the token is kept in ``<config dir>/api-token``, readable by
the user only (the data and config folders are private, see ``panels.startup_reports.make_private``). The
token never goes into ``settings.json`` or a log line.

One ``ApiToken`` per config folder is shared by the running API server and the settings dialog
(``api_token(config_dir)``): regenerating it in the dialog makes the old token stop working at once, and
the server closes the streams opened with it (``on_change`` listeners, called on the regenerating thread).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from core.secrets import SERVICE
from data.files import write_atomic

log = logging.getLogger(__name__)

KEYRING_NAME = "local-api-token"
"""The keyring entry's user name under the ``DTC Panel`` service."""
TOKEN_FILENAME = "api-token"
TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh random token: 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _load(path: Path) -> str:
    import keyring  # on first use, not at start-up (see ``core.secrets``)
    from keyring.errors import KeyringError, NoKeyringError

    try:
        token = keyring.get_password(SERVICE, KEYRING_NAME) or ""
        if token:
            return token
    except (NoKeyringError, KeyringError):
        pass
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read the local API token from %s: %s", path, exc.__class__.__name__)
        return ""


def _store(path: Path, token: str) -> str:
    """Store ``token``; returns where ("the system keyring" or the file)."""
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    try:
        keyring.set_password(SERVICE, KEYRING_NAME, token)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a file left from a machine without keyring would otherwise outlive a regenerate
        return "the system keyring"
    except (NoKeyringError, KeyringError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, token.encode("ascii"))
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    return str(path)


class ApiToken:
    """The token of one config folder: loaded (or created and stored) on first use, cached in memory.

    Thread-safe: ``matches`` runs on the API thread, ``regenerate`` on the GUI thread.
    Raises ``OSError`` from ``current``/``regenerate`` if a new token can be stored nowhere.
    """

    def __init__(self, config_dir: Path) -> None:
        self._path = config_dir / TOKEN_FILENAME
        self._lock = threading.Lock()
        self._token = ""
        self._listeners: list[Callable[[], None]] = []

    def current(self) -> str:
        with self._lock:
            if not self._token:
                self._token = _load(self._path)
                if not self._token:
                    self._token = new_token()
                    where = _store(self._path, self._token)
                    log.info("a new local API token was created (kept in %s)", where)
            return self._token

    def matches(self, presented: str) -> bool:
        """Whether ``presented`` is the current token (constant-time comparison)."""
        return hmac.compare_digest(presented.encode("utf-8", "replace"), self.current().encode("ascii"))

    def regenerate(self) -> str:
        """Replace the token; the old one stops working at once. Returns the new token."""
        with self._lock:
            token = new_token()
            where = _store(self._path, token)
            self._token = token
            listeners = list(self._listeners)
        log.info("the local API token was regenerated (kept in %s)", where)
        for listener in listeners:
            listener()
        return token

    def on_change(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._listeners.remove(listener)


_TOKENS: dict[Path, ApiToken] = {}
_TOKENS_LOCK = threading.Lock()


def api_token(config_dir: Path) -> ApiToken:
    """The one ``ApiToken`` of ``config_dir`` in this process."""
    key = config_dir.resolve()
    with _TOKENS_LOCK:
        token = _TOKENS.get(key)
        if token is None:
            token = _TOKENS[key] = ApiToken(key)
        return token


def is_loopback(address: str) -> bool:
    """Whether ``address`` only accepts connections from this computer (127.0.0.0/8, ::1, ``localhost``)."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip()).is_loopback
    except ValueError:
        return False


def exposure_warning(address: str, port: int | None = None) -> str:
    """What the trader reads when the API listens beyond this computer."""
    where = f"{address}:{port}" if port is not None else address
    return (
        f"The local API listens on {where}, reachable from other computers: anyone with the token can read your "
        "positions and P&L. Set its address to 127.0.0.1 to keep it on this computer."
    )
