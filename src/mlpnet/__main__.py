"""Run the ``mlpnet`` command line: ``python -m mlpnet COMMAND ...``."""

import sys

from mlpnet.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
