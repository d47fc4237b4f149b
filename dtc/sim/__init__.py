"""The DTC simulator: a TCP server on loopback that speaks JSON DTC the way Sierra Chart does.

``dtc.sim.server.SimulatorServer`` is the entry point (``python -m dtc.sim``); scenarios are read by
``dtc.sim.scenario``. Used by ``--demo``, the end-to-end tests, the benchmarks and the crash torture.
"""
