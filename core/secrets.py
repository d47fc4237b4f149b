"""The DTC password in the system keyring (Windows Credential Manager, macOS Keychain, Secret Service).

It is never written to the settings file, a log or an exception message. Where no keyring backend exists
(a headless Linux box), ``load_password`` returns "" and ``save_password`` says so by returning False.

``keyring`` is imported on first use: importing it and finding its backend costs a few hundred milliseconds that
a start-up should not wait for (the password is read on the DTC thread when it logs on).
"""

from __future__ import annotations

import contextlib
import logging

log = logging.getLogger(__name__)

SERVICE = "DTC Panel"


def load_password(username: str) -> str:
    """The stored password for ``username`` ("" if none or no keyring)."""
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    try:
        return keyring.get_password(SERVICE, username or "default") or ""
    except (NoKeyringError, KeyringError) as exc:
        log.info("no system keyring available (%s); no stored DTC password", exc.__class__.__name__)
        return ""


def save_password(username: str, password: str) -> bool:
    """Store (or, for "", delete) the password; False if no keyring is available."""
    import keyring
    from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

    try:
        if password:
            keyring.set_password(SERVICE, username or "default", password)
        else:
            with contextlib.suppress(PasswordDeleteError):  # nothing stored: nothing to delete
                keyring.delete_password(SERVICE, username or "default")
        return True
    except (NoKeyringError, KeyringError) as exc:
        log.warning("cannot store the DTC password: no system keyring (%s)", exc.__class__.__name__)
        return False
