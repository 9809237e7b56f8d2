#!/usr/bin/env python
"""Download binarized MNIST into $PYLEARN2_DATA_PATH/binarized_mnist (or --data-path).

See :mod:`pylearn_vae.scripts.download_binarized_mnist`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled

from pylearn_vae.scripts.download_binarized_mnist import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
