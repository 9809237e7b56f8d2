"""Keep the memory of freed arrays for the next ones: glibc's malloc thresholds.

By default glibc's ``malloc`` serves a large request (above a threshold that starts at
128 KiB and adapts up to 32 MiB) with a fresh ``mmap`` and gives it back to the system
when it is freed; and it trims the top of its heap when more than twice that threshold
is free there. The next array of that size then starts on untouched pages, and the
kernel zeroes each 4 KiB page on first touch (a *page fault*). The importance-sampled
NLL evaluation allocates arrays of up to ``k_chunk * batch * nvis`` floats (31 MB for
the main job's 10 digits x 1,000 samples x 784 pixels) and frees them at every call:
about 2,700 page faults a call, 15% of its time on the development machine.

:func:`retain_freed_memory` raises both thresholds (``mallopt``), so such arrays come
from the heap and their memory stays there for the next call. The process keeps the
memory it has freed (up to ``trim_threshold`` bytes) instead of returning it: its
resident size stays at its peak rather than falling back after each call, the peak
itself does not grow. The command-line scripts (``bin/train.py``, ``bin/vae_nll.py``)
call it for their own process; a library import never does.

It does nothing (and says so by returning False) off glibc Linux, when the user set
``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or ``GLIBC_TUNABLES`` (their
choice stands), or with ``PYLEARN_VAE_RETAIN_MEMORY=0``.

:func:`available_memory` says how many bytes this process may still allocate before the
system (or its container) runs out: what the size checks of models and batches compare
against, so that a huge ``nhid`` or ``batch_size`` is refused by name before it is
allocated rather than ending in a ``MemoryError`` or the kernel's out-of-memory killer.
"""

import ctypes
import ctypes.util
import os
import sys

__all__ = ["OPT_OUT_VARIABLE", "USER_VARIABLES", "available_memory", "retain_freed_memory"]

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


def available_memory():
    """Bytes this process may still allocate, or None where it cannot be told.

    The smallest of the system's available memory (``MemAvailable`` in
    ``/proc/meminfo``, else free physical pages) and the room left under a cgroup
    (container) memory limit.

    Returns
    -------
    int or None
    """
    candidates = []
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not candidates:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, OSError, ValueError):
            pass
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
         "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            with open(limit_file, encoding="ascii") as f:
                limit = f.read().strip()
            with open(usage_file, encoding="ascii") as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:
            candidates.append(max(int(limit) - usage, 0))
    return min(candidates) if candidates else None
