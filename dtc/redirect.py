"""Whether to follow LOGON_RESPONSE (2) ``Result`` 4, ``LOGON_RECONNECT_NEW_ADDRESS``, to ``ReconnectAddress``.

The next logon carries the trader's username and password, so the panel only goes where the trader pointed
it: another port on the configured host is followed (for one connection; the one after that starts at the
configured address again), another host never is — the trader is told, and the panel keeps reconnecting to
the configured address.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Redirect:
    """The decision: ``follow`` is the (host, port) to connect to next, None when not followed; ``text`` says
    what Sierra Chart asked and what the panel does about it."""

    follow: tuple[str, int] | None
    text: str


def parse_address(address: str) -> tuple[str, int] | None:
    """``"host:port"`` or ``"[v6 address]:port"`` → (host, port 1–65535); None when it is not such an address."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or any(ch.isspace() or ch in "/@" for ch in host):
        return None
    return host, int(port)


def same_host(a: str, b: str) -> bool:
    """The same host name or address as written (case and a trailing dot ignored); no DNS lookup, so
    ``localhost`` and ``127.0.0.1`` count as different hosts."""
    return a.strip().rstrip(".").lower() == b.strip().rstrip(".").lower()


def decide(address: str, configured_host: str) -> Redirect:
    """What to do with ``ReconnectAddress`` ``address`` when the trader configured ``configured_host``."""
    target = parse_address(address)
    if target is None:
        return Redirect(None, f"Sierra Chart asked to reconnect to {address!r}, which is not host:port; not followed")
    if same_host(target[0], configured_host):
        return Redirect(target, f"Sierra Chart asked to reconnect to {address}: following (same host, other port)")
    return Redirect(
        None,
        f"Sierra Chart asked to reconnect to {address}; not followed: your username and password go only to "
        f"{configured_host}. Reconnecting there — change the address in Settings if Sierra Chart really moved",
    )
