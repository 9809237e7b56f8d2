#!/usr/bin/env python
"""Run, from this clone, the pylearn_vae script registered under this file's name.

Every file of bin/ is this same file: pylearn_vae.scripts._commands.SCRIPTS maps its
name to the module whose main() it runs (docs/contributing.md, "A script").
"""

import os
import sys

CLONE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, CLONE)  # this clone's package first, whatever an installed copy says

try:
    from pylearn_vae.scripts._commands import run_file
except ImportError as exc:  # a dependency of the package is not installed
    sys.exit(
        f"{os.path.basename(__file__)}: error: {exc} (pip install -e {CLONE} installs "
        "the package's dependencies)"
    )

if __name__ == "__main__":
    sys.exit(run_file(__file__))
