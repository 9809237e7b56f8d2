"""CPU threads: how many the BLAS and the accelerated formulas use.

One number of threads serves both the BLAS (through ``threadpoolctl``) and the block
pool of :mod:`pylearn_vae.accel.blocks`, like PyTorch's ``torch.set_num_threads``:

- default: ``PYLEARN_VAE_THREADS`` if set, else the BLAS's own thread count (which
  honours ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS``), else the CPUs this process
  may run on;
- :func:`set_num_threads` changes it for the process, :func:`limited` for a ``with``
  block.

:func:`user_fixed` says whether the user chose the number (environment variables or
:func:`set_num_threads`). Training and the NLL estimate ask :func:`tuner` for an object
whose ``start_epoch()`` and ``finish()`` they call; it does nothing unless a tuner
class was registered with :func:`register_tuner` (:mod:`pylearn_vae.accel` registers
:class:`pylearn_vae.accel.tuner.ThreadTuner`, which adapts the number to the machine's
load when the user did not fix it).
"""

import contextlib
import os

__all__ = [
    "THREAD_VARIABLES",
    "available_cpus",
    "default_num_threads",
    "get_num_threads",
    "limited",
    "register_tuner",
    "set_num_threads",
    "tuner",
    "user_fixed",
]

#: Environment variables that fix the number of threads (the first set one wins).
THREAD_VARIABLES = ("PYLEARN_VAE_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")

_state = {"threads": None, "default": None, "fixed": False, "tuner": None}


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


class FixedThreads:
    """The tuner used when none is registered: the number of threads stays as it is."""

    def start_epoch(self):
        """Called at the start of each epoch; does nothing."""

    def finish(self):
        """Called when training ends; does nothing."""


def register_tuner(tuner_class):
    """Make :func:`tuner` build ``tuner_class(batch_size=..., enabled=...)``; None: no tuner."""
    _state["tuner"] = tuner_class


def tuner(batch_size, enabled=True):
    """An object whose ``start_epoch()`` a loop calls before each epoch and ``finish()``
    at its end, to adapt the number of threads (see :func:`register_tuner`).

    Parameters
    ----------
    batch_size : int
        Rows of a step's matrix products.
    enabled : bool
        False where threads do not matter (a GPU).
    """
    if _state["tuner"] is None:
        return FixedThreads()
    return _state["tuner"](batch_size=batch_size, enabled=enabled)
