"""`python -m evals SUITE|all|ci [--json] [--quick] [--out DIR]`."""

from __future__ import annotations

import sys

from evals.runner import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
