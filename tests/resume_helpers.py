"""Update callbacks that stop a training run at a chosen batch, for the resume tests.

Both keep their batch count in a checkpoint (``_state_fields``), so the resumed run,
built from the same YAML file, does not stop again at the same batch.
"""

import os
import signal
import sys
import time

from pylearn_vae.utils.checkpoint import Stateful


class SignalAtBatch(Stateful):
    """Send ``signum`` to this process after batch ``batch`` (counted over the run).

    The handler :meth:`pylearn_vae.train.Train.main_loop` installs runs before the
    algorithm's next check, so the run stops exactly at this batch boundary.
    """

    _state_fields = ("_count",)

    def __init__(self, batch, signum="SIGINT"):
        self.batch = batch
        self.signum = getattr(signal, signum)
        self._count = 0

    def __call__(self, algorithm):
        self._count += 1
        if self._count == self.batch:
            signal.raise_signal(self.signum)


class WaitForSignalAt(Stateful):
    """After batch ``batch``, print ``READY`` and wait (up to 60 s) for a stop signal.

    Only when the environment variable ``RESUME_TEST_WAIT`` is set, so a reference run
    of the same YAML file goes straight through.
    """

    _state_fields = ("_count",)

    def __init__(self, batch):
        self.batch = batch
        self._count = 0

    def __call__(self, algorithm):
        self._count += 1
        if self._count != self.batch or not os.environ.get("RESUME_TEST_WAIT"):
            return
        print("READY", flush=True)
        sys.stdout.flush()
        deadline = time.monotonic() + 60
        while not algorithm.stop_requested() and time.monotonic() < deadline:
            time.sleep(0.01)
