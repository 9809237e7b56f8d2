"""With ``tests/cupy_shim`` on ``PYTHONPATH``, ``import cupy`` gives the NumPy stand-in.

For subprocesses: the GPU tests (``tests/test_gpu.py``) and the GPU benchmark run
through the ``'gpu'`` device on a machine without one (``tests/test_gpu_emulated.py``).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from fake_cupy import make_fake_cupy  # noqa: E402

sys.modules[__name__] = make_fake_cupy()
