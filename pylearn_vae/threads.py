"""CPU threads: how many the BLAS and the elementwise formulas use, and running in blocks.

NumPy runs an elementwise formula on one core, a pass over the whole array per
operation: on a ``(200, 784)`` array each pass leaves the cache, and on a ``(1000, 10,
784)`` one each pass goes to memory. The hot formulas of :mod:`pylearn_vae.primitives`
(the Bernoulli log-likelihood and its gradient, the softplus, the Gaussian
log-density) therefore run *in blocks*: :func:`for_blocks` cuts the leading axes into
blocks of about :data:`BLOCK_ELEMENTS` elements, small enough that every temporary of
the formula stays in the cache, and hands them to a small pool of threads. NumPy
releases the GIL inside its loops, so the blocks run on as many cores as there are
threads. Each block computes exactly what the whole-array formula computes for its
elements (a row's reduction over the last axis is never split), so results do not
depend on the number of threads.

One number of threads serves both the BLAS (through ``threadpoolctl`` when it is
installed) and the block pool, like PyTorch's ``torch.set_num_threads``:

- default: ``PYLEARN_VAE_THREADS`` if set, else the BLAS's own thread count (which
  honours ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS``), else the CPUs this process
  may run on;
- :func:`set_num_threads` changes it for the process, :func:`limited` for a ``with``
  block.

:func:`user_fixed` says whether the user chose the number (environment variables or
:func:`set_num_threads`); training adapts the number to the machine's load only when
they did not (:class:`ThreadTuner`).

Why adapt: with 2 BLAS threads on 2 cores and another busy process, each matrix
product waits for a thread the scheduler has given away (OpenBLAS's threads spin while
they wait); on the 2-core AVX2 machine of issue 13 an epoch of the main job took 14.7 s
that way against 1.7 s with 1 thread, while on an idle machine 2 threads are faster.
:class:`ThreadTuner` times a step's worth of matrix products both ways now and then
and keeps the faster.
"""

import contextlib
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy

__all__ = [
    "BLOCK_ELEMENTS",
    "available_cpus",
    "blocks",
    "default_num_threads",
    "for_blocks",
    "get_num_threads",
    "limited",
    "matmul_probe",
    "set_num_threads",
    "user_fixed",
    "ThreadTuner",
]

#: Elements per block (256 KiB of float32): a formula's three or four temporaries of
#: this size stay in a core's L2 cache.
BLOCK_ELEMENTS = 1 << 16

#: Blocks per thread below which a formula runs on this thread alone: handing a block
#: to another thread costs tens of microseconds (a wake-up), as much as a small block's
#: work, and the BLAS's own threads spin on the other cores for a while after each
#: product, so helpers on small arrays mostly wait.
PARALLEL_MIN_BLOCKS = 4

#: Environment variables that fix the number of threads (the first set one wins).
THREAD_VARIABLES = ("PYLEARN_VAE_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")

log = logging.getLogger(__name__)

_state = {"threads": None, "default": None, "fixed": False, "pool": None, "pool_size": 0}
_lock = threading.Lock()


def available_cpus():
    """The number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def _blas_threads():
    """The BLAS's current thread count, or None when it cannot be read."""
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is None:
        return None
    counts = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    return max(counts) if counts else None


def _from_environment():
    for name in THREAD_VARIABLES:
        value = os.environ.get(name)
        if value is None or value.strip() == "":
            continue
        try:
            count = int(value)
        except ValueError:
            count = 0
        if count < 1:
            raise ValueError(
                f"environment variable {name}={value!r}: the number of threads must be an "
                "integer >= 1; unset it to let pylearn_vae choose"
            )
        return count
    return None


def get_num_threads():
    """The number of threads the BLAS and the block pool use."""
    if _state["threads"] is None:
        count = _from_environment()
        _state["fixed"] = count is not None
        if count is None:
            count = _blas_threads() or available_cpus()
        _state["default"] = count
        _apply(count)
    return _state["threads"]


def default_num_threads():
    """The number of threads the process started with (before any tuning or limit)."""
    get_num_threads()
    return _state["default"]


def user_fixed():
    """True when the user chose the number of threads (environment or :func:`set_num_threads`)."""
    get_num_threads()
    return _state["fixed"]


def _apply(count):
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is not None and _blas_threads() not in (None, count):
        threadpoolctl.threadpool_limits(count, user_api="blas")
    _state["threads"] = count


def set_num_threads(count, fixed=True):
    """Use ``count`` threads for the BLAS and the blocks from now on.

    Parameters
    ----------
    count : int
        At least 1.
    fixed : bool
        Whether this is the user's choice (default), which training then keeps; the
        training loop's own adaptation passes False.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"set_num_threads: count must be an integer >= 1, got {count!r}")
    get_num_threads()
    _apply(count)
    _state["fixed"] = _state["fixed"] or fixed


@contextlib.contextmanager
def limited(count):
    """A ``with`` block that uses ``count`` threads, then restores the previous number."""
    before, was_fixed = get_num_threads(), _state["fixed"]
    set_num_threads(count)
    try:
        yield
    finally:
        _apply(before)
        _state["fixed"] = was_fixed


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


class ThreadTuner:
    """Chooses, during training, between all the threads and one, whichever is faster now.

    At the start of a *probe* epoch it times matrix products the size of a training
    step's (:func:`matmul_probe`) with all the threads and with one, alternating, and
    keeps the faster for the epochs up to the next probe (the other setting must be
    faster by ``margin``). The interval between probes doubles (up to
    ``max_interval`` epochs) while the choice holds and falls back to 1 when it
    changes. The probe computes nothing training uses: on an idle machine, where all
    the threads win every probe, training runs exactly as with the thread count fixed.
    Does nothing when the user fixed the number of threads (:func:`user_fixed`), when
    only one CPU is available, or when ``enabled`` is False (a GPU).

    Parameters
    ----------
    batch_size : int
        Rows of the probe's products.
    margin : float
        Relative gain the other setting needs to win.
    max_interval : int
        Most epochs between probes.
    enabled : bool
    probe : callable, optional
        ``probe(count) -> seconds`` with ``count`` threads set; default
        :func:`matmul_probe` of ``batch_size`` rows.
    """

    def __init__(self, batch_size=200, margin=0.1, max_interval=8, enabled=True, probe=None):
        self.margin = margin
        self.max_interval = max_interval
        everything = default_num_threads()  # not the count an earlier tuner left
        self.active = enabled and not user_fixed() and everything > 1
        self.settings = (everything, 1)
        self.current = everything
        self.interval = 1
        self.until_probe = 0
        self.chosen = []  # what each probe kept, with the times: for logs and tests
        self._probe = probe or (lambda count: matmul_probe(batch_size))

    def start_epoch(self):
        """Call at the start of each epoch: probes when due, then sets the threads."""
        if not self.active:
            return
        if self.until_probe > 0:
            self.until_probe -= 1
        else:
            self._decide(self._measure())
        if get_num_threads() != self.current:
            set_num_threads(self.current, fixed=False)

    def finish(self):
        """Call when training ends: back to the number of threads training started with."""
        if self.active and get_num_threads() != self.settings[0]:
            set_num_threads(self.settings[0], fixed=False)

    def _measure(self, rounds=3):
        times = {count: [] for count in self.settings}
        for r in range(rounds):
            for count in self.settings[:: 1 if r % 2 == 0 else -1]:
                set_num_threads(count, fixed=False)
                times[count].append(self._probe(count))
        return {count: sorted(t)[len(t) // 2] for count, t in times.items()}

    def _decide(self, times):
        other = self.settings[1] if self.current == self.settings[0] else self.settings[0]
        if times[other] < (1 - self.margin) * times[self.current]:
            self.current = other
            self.interval = 1
        else:
            self.interval = min(2 * self.interval, self.max_interval)
        self.until_probe = self.interval - 1
        changed = not self.chosen or self.chosen[-1][0] != self.current
        self.chosen.append((self.current, times))
        # Said when the choice is made or changes; each probe that keeps it, for --debug.
        log.log(
            logging.INFO if changed else logging.DEBUG,
            "threads: %d (a step's products took %s)",
            self.current,
            ", ".join(f"{1e3 * t:.1f} ms with {c}" for c, t in times.items()),
        )


def matmul_probe(rows, width=512, repeats=4):
    """Seconds of ``repeats`` float32 products ``(rows, width) @ (width, width)``.

    About as much work as a small training step's matrix products; what the BLAS
    threads do when the cores are busy shows in it. The arrays are made once.
    """
    key = (rows, width)
    arrays = _PROBE_ARRAYS.get(key)
    if arrays is None:
        generator = numpy.random.default_rng(0)
        arrays = _PROBE_ARRAYS[key] = (
            generator.standard_normal((rows, width), dtype=numpy.float32),
            generator.standard_normal((width, width), dtype=numpy.float32),
        )
    a, b = arrays
    start = time.perf_counter()
    for _ in range(repeats):
        numpy.dot(a, b)
    return time.perf_counter() - start


_PROBE_ARRAYS = {}
