"""Memory: refuse work that cannot fit, and let big arrays reuse freed memory."""

import sys

from pylearn_vae.scripts._errors import RuntimeFailure
from pylearn_vae.utils.memory import available_memory

__all__ = ["check_memory", "keep_freed_memory"]


def keep_freed_memory():
    """Let this process's big arrays reuse freed memory (:mod:`pylearn_vae.accel.memory`);
    nothing with ``PYLEARN_VAE_REFERENCE=1``, where the acceleration is off."""
    if sys.modules.get("pylearn_vae.accel") is None:
        return False
    from pylearn_vae.accel.memory import retain_freed_memory

    return retain_freed_memory()


def check_memory(num_bytes, what):
    """A RuntimeFailure when ``what`` needs more than the free memory."""
    free = available_memory()
    if free is not None and num_bytes > free:
        raise RuntimeFailure(
            f"{what} needs about {num_bytes / 2**30:.1f} GiB of memory and "
            f"{free / 2**30:.1f} GiB is free: ask for less"
        )
