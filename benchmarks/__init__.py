"""Measurements (not tests): run as modules, e.g. ``uv run python -m benchmarks.gui_lateness``."""
