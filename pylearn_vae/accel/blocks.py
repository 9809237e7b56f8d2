"""Running a formula in blocks, on several threads.

NumPy runs an elementwise formula on one core, a pass over the whole array per
operation: on a ``(200, 784)`` array each pass leaves the cache, and on a ``(1000, 10,
784)`` one each pass goes to memory. The accelerated formulas of
:mod:`pylearn_vae.accel.cpu` therefore run *in blocks*: :func:`for_blocks` cuts the
leading axes into blocks of about :data:`BLOCK_ELEMENTS` elements, small enough that
every temporary of the formula stays in the cache, and hands them to a small pool of
threads (:func:`pylearn_vae.threads.get_num_threads` of them). NumPy releases the GIL
inside its loops, so the blocks run on as many cores as there are threads. Each block
computes exactly what the whole-array formula computes for its elements (a row's
reduction over the last axis is never split), so results do not depend on the number
of threads.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from pylearn_vae.threads import get_num_threads

__all__ = ["BLOCK_ELEMENTS", "PARALLEL_MIN_BLOCKS", "blocks", "for_blocks"]

#: Elements per block (256 KiB of float32): a formula's three or four temporaries of
#: this size stay in a core's L2 cache.
BLOCK_ELEMENTS = 1 << 16

#: Blocks per thread below which a formula runs on this thread alone: handing a block
#: to another thread costs tens of microseconds (a wake-up), as much as a small block's
#: work, and the BLAS's own threads spin on the other cores for a while after each
#: product, so helpers on small arrays mostly wait.
PARALLEL_MIN_BLOCKS = 4

_state = {"pool": None, "pool_size": 0}
_lock = threading.Lock()


def _pool(size):
    with _lock:
        if _state["pool_size"] < size:
            if _state["pool"] is not None:
                _state["pool"].shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(size, thread_name_prefix="pylearn_vae")
            _state["pool_size"] = size
        return _state["pool"]


def blocks(shape, block_elements=BLOCK_ELEMENTS):
    """Index tuples cutting the leading axes of ``shape`` into blocks of about
    ``block_elements`` elements; the last axis is never cut.

    The outermost axis longer than 1 is cut (for ``(1, 200, 784)``, the 200 rows; for
    ``(1000, 10, 784)``, the 1,000 samples, 10 rows each).
    """
    if len(shape) < 2:
        return [(Ellipsis,)]
    leading = [i for i, size in enumerate(shape[:-1]) if size > 1]
    if not leading:
        return [(Ellipsis,)]
    axis = leading[0]
    per_index = 1
    for size in shape[axis + 1 :]:
        per_index *= size
    step = max(1, block_elements // max(per_index, 1))
    return [
        (slice(None),) * axis + (slice(start, min(start + step, shape[axis])),)
        for start in range(0, shape[axis], step)
    ]


def for_blocks(fn, shape, block_elements=BLOCK_ELEMENTS):
    """Call ``fn(index)`` for every block of :func:`blocks`, on :func:`get_num_threads`
    threads (this one included).

    ``fn`` must only write to the part of its outputs that ``index`` selects.
    Exceptions raised in any block are raised here.
    """
    indices = blocks(shape, block_elements)
    threads = min(get_num_threads(), len(indices) // PARALLEL_MIN_BLOCKS)
    if threads <= 1:
        for index in indices:
            fn(index)
        return
    work = iter(indices)
    take = threading.Lock()

    def drain():
        while True:
            with take:
                index = next(work, None)
            if index is None:
                return
            fn(index)

    helpers = [_pool(threads - 1).submit(drain) for _ in range(threads - 1)]
    try:
        drain()
    finally:
        for helper in helpers:
            helper.result()
