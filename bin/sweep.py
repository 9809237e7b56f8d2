#!/usr/bin/env python
"""See :mod:`pylearn_vae.scripts.sweep`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled

from pylearn_vae.scripts.sweep import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
