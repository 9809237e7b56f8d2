"""Monitoring channels as TensorBoard scalars (not in Pylearn2).

:class:`TensorBoardLog` writes every monitoring step of every channel to TensorBoard
event files in ``log_dir`` with `tensorboardX <https://github.com/lanpa/tensorboardX>`_,
an optional dependency (``pip install 'pylearn-vae[tensorboard]'``); the x axis is the
number of epochs seen. ``train.py --tensorboard DIR`` adds one to a run; in YAML::

    extensions: [!obj:pylearn_vae.train_extensions.tensorboard.TensorBoardLog {
        log_dir: runs/vae}]

then ``tensorboard --logdir runs``. As with the CSV log
(:mod:`pylearn_vae.train_extensions.channel_log`), the first step of a run writes every
step the monitor already holds, so a continued run shows its whole history.
"""

import os

import numpy

from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.train_extensions.channel_log import COUNTERS, monitor_rows
from pylearn_vae.utils.images import MissingLibraryError
from pylearn_vae.utils.string_utils import preprocess

__all__ = ["TensorBoardLog"]

HINT = "pip install 'pylearn-vae[tensorboard]'"


class TensorBoardLog(TrainExtension):
    """Write each monitoring step to TensorBoard event files in ``log_dir``.

    Parameters
    ----------
    log_dir : str
        Folder of the event files (``${VAR}`` expanded; created).

    Raises
    ------
    MissingLibraryError
        tensorboardX is not installed (raised when built, before training starts).
    """

    def __init__(self, log_dir):
        self.log_dir = preprocess(os.fspath(log_dir))
        try:
            from tensorboardX import SummaryWriter
        except ImportError as exc:
            raise MissingLibraryError(
                f"writing TensorBoard event files needs tensorboardX, which is not "
                f"installed: {HINT}"
            ) from exc
        self._writer_class = SummaryWriter
        self._writer = None
        self._written = 0

    def setup(self, model, dataset, algorithm):
        self.close()

    def _open(self):
        if self._writer is None:
            self._writer = self._writer_class(logdir=self.log_dir)
            self._written = 0
        return self._writer

    def add_image(self, tag, picture, epoch):
        """Write the grey picture ``picture`` (uint8, shape ``(height, width)``) as the
        image ``tag`` of step ``epoch`` (TensorBoard's IMAGES tab)."""
        self._open().add_image(tag, numpy.asarray(picture), global_step=epoch, dataformats="HW")
        self._writer.flush()

    def on_monitor(self, model, dataset, algorithm):
        header, rows = monitor_rows(model.monitor)
        self._open()
        names = header[len(COUNTERS) :]
        for row in rows[self._written :]:
            epoch = int(row[0])
            for name, value in zip(names, row[len(COUNTERS) :], strict=True):
                if value != "":
                    self._writer.add_scalar(name, float(value), global_step=epoch)
        self._written = len(rows)
        self._writer.flush()

    def close(self):
        """Close the event file (training's end closes it too, when the object is freed)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __del__(self):
        self.close()
