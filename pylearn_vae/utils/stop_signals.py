"""Stopping a training run cleanly on SIGINT (Ctrl-C) or SIGTERM.

The first signal only asks the run to stop: it finishes its current batch, writes its
checkpoint and raises :class:`TrainingInterrupted`. A second signal stops at once (every
save is atomic, so no file is left half-written). :class:`StopOnSignals` installs the
handlers for the duration of a ``with`` block, in the main thread only.
"""

import os
import signal
import threading

__all__ = ["StopOnSignals", "TrainingInterrupted", "describe_position"]


def describe_position(epochs_done, batch):
    """``'the end of epoch 3'`` or ``'epoch 4, batch 17'``: where a checkpoint was taken."""
    if batch:
        return f"epoch {epochs_done + 1}, batch {batch}"
    return f"the end of epoch {epochs_done}"


class TrainingInterrupted(KeyboardInterrupt):
    """:meth:`pylearn_vae.train.Train.main_loop` was stopped by a signal (or by
    :meth:`~pylearn_vae.train.Train.request_stop`).

    Attributes
    ----------
    signum : int
        ``signal.SIGINT`` or ``signal.SIGTERM``.
    checkpoint_path : str or None
        The checkpoint to resume from: the one written on the way out, or after a
        second signal the last one written before (None when there is none).
    epochs_done, batch : int
        The run stopped after ``batch`` batches of the epoch that follows the
        ``epochs_done`` complete ones (batch 0: between epochs).
    at_once : bool
        A second signal stopped the run without a new checkpoint.
    """

    def __init__(self, signum, checkpoint_path, epochs_done, batch, at_once=False):
        self.signum = signum
        self.checkpoint_path = checkpoint_path
        self.epochs_done = epochs_done
        self.batch = batch
        self.at_once = at_once
        name = signal.Signals(signum).name
        where = describe_position(epochs_done, batch)
        if at_once:
            message = f"stopped at once by a second {name}; no new checkpoint written"
            if checkpoint_path is not None:
                message += f" (the last one is {checkpoint_path})"
        elif checkpoint_path is None:
            message = f"stopped by {name} at {where}; no checkpoint (the run has no save path)"
        else:
            message = f"stopped by {name} at {where}; checkpoint saved to {checkpoint_path}"
        super().__init__(message)

    @property
    def exit_status(self):
        """``128 + signum``: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + int(self.signum)


class StopOnSignals:
    """``with StopOnSignals(request, requested, last_checkpoint, epochs_done):``

    Inside the block, SIGINT and SIGTERM call ``request(signum)`` the first time; the
    next one, once ``requested()`` is true, restores the previous handlers and raises
    :class:`TrainingInterrupted` at once (``at_once=True``), naming
    ``last_checkpoint()`` and ``epochs_done()``. Outside the main thread it does nothing
    (Python delivers signals to the main thread only).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, request, requested, last_checkpoint, epochs_done):
        self._request = request
        self._requested = requested
        self._last_checkpoint = last_checkpoint
        self._epochs_done = epochs_done
        self._previous = {}

    def _handler(self, signum, frame):
        if not self._requested():
            self._request(signum)
            if os.isatty(2):  # a person at a terminal sees the key press was heard
                os.write(
                    2,
                    b"Stopping after the current batch to write a checkpoint "
                    b"(signal again to stop at once)...\n",
                )
            return
        self._restore()
        raise TrainingInterrupted(
            signum, self._last_checkpoint(), self._epochs_done(), 0, at_once=True
        )

    def _restore(self):
        for number, old in self._previous.items():
            signal.signal(number, old)
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, self._handler)
        return self

    def __exit__(self, *exc):
        self._restore()
        return False
