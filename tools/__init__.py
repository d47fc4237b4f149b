"""Developer tools run from the project folder with ``uv run python -m tools.<name>``."""
