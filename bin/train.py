#!/usr/bin/env python
"""Train a model from a YAML file: ``bin/train.py [options] config.yaml``.

See :mod:`pylearn_vae.scripts.train` for the options.
"""

import os
import sys

try:
    import pylearn_vae  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pylearn_vae.scripts.train import main

if __name__ == "__main__":
    sys.exit(main())
