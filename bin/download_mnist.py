#!/usr/bin/env python
"""Install MNIST's IDX files, checked, into $PYLEARN2_DATA_PATH/mnist (or --data-path).

See :mod:`pylearn_vae.scripts.download_mnist`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled

from pylearn_vae.scripts.download_mnist import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
