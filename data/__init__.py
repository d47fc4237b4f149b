"""The store: SQLModel schema, engine with SQLite pragmas, and the repository used by ``StateManager``.

Nothing here imports Qt.
"""
