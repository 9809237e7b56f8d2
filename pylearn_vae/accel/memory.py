"""Keep the memory of freed arrays for the next ones: glibc's malloc thresholds.

By default glibc's ``malloc`` serves a large request (above a threshold that starts at
128 KiB and adapts up to 32 MiB) with a fresh ``mmap`` and gives it back to the system
when it is freed; and it trims the top of its heap when more than twice that threshold
is free there. The next array of that size then starts on untouched pages, and the
kernel zeroes each 4 KiB page on first touch (a *page fault*). The importance-sampled
NLL evaluation allocates arrays of up to ``k_chunk * batch * nvis`` floats (31 MB for
the main job's 10 digits x 1,000 samples x 784 pixels) and frees them at every call:
thousands of page faults a call (``benchmarks/README.md`` has the measured share).

:func:`retain_freed_memory` raises both thresholds (``mallopt``), so such arrays come
from the heap and their memory stays there for the next call. The process keeps the
memory it has freed (up to ``trim_threshold`` bytes) instead of returning it: its
resident size stays at its peak rather than falling back after each call, the peak
itself does not grow. The command-line scripts (``bin/train.py``, ``bin/vae_nll.py``)
call it for their own process (through their ``_cli.keep_freed_memory``,
unless ``PYLEARN_VAE_REFERENCE=1``); a library import never does.

It does nothing (and says so by returning False) off glibc Linux, when the user set
``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or ``GLIBC_TUNABLES`` (their
choice stands), or with ``PYLEARN_VAE_RETAIN_MEMORY=0``.
"""

import ctypes
import ctypes.util
import os
import sys

__all__ = ["OPT_OUT_VARIABLE", "USER_VARIABLES", "retain_freed_memory"]

#: ``PYLEARN_VAE_RETAIN_MEMORY=0`` leaves glibc's defaults alone.
OPT_OUT_VARIABLE = "PYLEARN_VAE_RETAIN_MEMORY"

#: The user's own malloc settings; when any is set, :func:`retain_freed_memory` defers.
USER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")

_M_TRIM_THRESHOLD = -1  # glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3


def retain_freed_memory(mmap_threshold=64 << 20, trim_threshold=512 << 20, environ=None):
    """Serve arrays up to ``mmap_threshold`` bytes from the heap and keep up to
    ``trim_threshold`` bytes of freed heap, for this whole process.

    Parameters
    ----------
    mmap_threshold : int
        Requests above it still get their own ``mmap``; glibc refuses values above
        half its largest heap (32 MiB on some builds), and then 32 MiB is used.
    trim_threshold : int
    environ : mapping, optional
        The environment to read (default ``os.environ``).

    Returns
    -------
    bool
        Whether the thresholds were set.
    """
    environ = os.environ if environ is None else environ
    if environ.get(OPT_OUT_VARIABLE, "1").strip() == "0":
        return False
    if any(name in environ for name in USER_VARIABLES):
        return False
    mallopt = _mallopt()
    if mallopt is None:
        return False
    if not mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)):
        if not mallopt(_M_MMAP_THRESHOLD, 32 << 20):
            return False
    return bool(mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))


def _mallopt():
    """glibc's ``int mallopt(int, int)``, or None (another platform or C library)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version")):
        return None  # only glibc has both
    function = libc.mallopt
    function.argtypes = (ctypes.c_int, ctypes.c_int)
    function.restype = ctypes.c_int
    return function
