"""Choosing, during training, between all the CPU threads and one.

With 2 BLAS threads on 2 cores and another busy process, each matrix product waits
for a thread the scheduler has given away (OpenBLAS's threads spin while they wait),
and a training epoch can take several times as long as with 1 thread; on an idle
machine 2 threads are faster. :class:`ThreadTuner` times a step's worth of matrix
products both ways now and then and keeps the faster (``benchmarks/README.md`` has the
busy-machine figures). :mod:`pylearn_vae.accel` registers it with
:func:`pylearn_vae.threads.register_tuner`.
"""

import logging
import time

import numpy

from pylearn_vae.threads import (
    default_num_threads,
    get_num_threads,
    set_num_threads,
    user_fixed,
)

__all__ = ["ThreadTuner", "matmul_probe"]

log = logging.getLogger(__name__)


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
