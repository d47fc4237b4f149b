"""The DTC wire: message types and enums, framing, typed messages, the client thread and a simulator server.

Nothing in this package imports Qt. Message numbers, enum values and JSON field names follow the official
DTC protocol v8 header (see ``../shared/docs/dtc-protocol.md``).
"""
