"""The brain: message routing, the StateManager cache, position accounting, instruments and settings.

``core.accounting``, ``core.instruments`` and ``core.modes`` are pure Python (no Qt, no SQL).
"""
