"""How much memory this process may still allocate.

:func:`available_memory` is what the size checks of models and batches compare against
(:func:`pylearn_vae.utils.validation.check_fits_in_memory`), so that a huge ``nhid`` or
``batch_size`` is refused by name before it is allocated, rather than ending in a
``MemoryError`` or the kernel's out-of-memory killer.
"""

import os

__all__ = ["available_memory"]


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
