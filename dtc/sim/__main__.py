"""``python -m dtc.sim --scenario FILE --port P``: run the DTC simulator server."""

import sys

from dtc.sim.server import main

if __name__ == "__main__":
    sys.exit(main())
