"""Every monitoring step as a row of a CSV file that any tool can read while training runs.

Not in Pylearn2, whose channel histories lived only inside the pickled model. A
:class:`ChannelLog` appends one row per monitoring step (epoch 0 included) and flushes
it at once, so ``tail -f run.monitor.csv``, a spreadsheet or
``pandas.read_csv`` see the run as it goes::

    epochs_seen,batches_seen,examples_seen,seconds,objective,train_objective,...
    0,0,0,0.84,543.21,544.02,...
    1,80,8000,3.97,205.6,206.1,...

The first four columns count what the monitor had seen when it measured the row
(``seconds`` since the monitor was created); then one column per channel, sorted as
the monitor logs them. The first row written by a run rewrites the file with every
step the monitor has recorded so far, so a model trained further (``model: !pkl:``) or
a resumed run continues its history instead of starting a second one.
:func:`read_channel_log` reads the file back (``plot_monitor.py run.monitor.csv``).

``train.py`` adds a :class:`ChannelLog` writing ``<save path stem>.monitor.csv`` to every
run that saves; in YAML it is::

    extensions: [!obj:pylearn_vae.train_extensions.channel_log.ChannelLog {
        path: "${PYLEARN2_TRAIN_FILE_FULL_STEM}.monitor.csv"}]
"""

import csv
import os

import numpy

from pylearn_vae import backend
from pylearn_vae.monitor import number_aware_alphabetical_key
from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.utils import serial
from pylearn_vae.utils.string_utils import preprocess

__all__ = [
    "COUNTERS",
    "ChannelHistory",
    "ChannelLog",
    "log_path_for",
    "monitor_rows",
    "read_channel_log",
]

# CSV column -> the MonitorChannel record it comes from.
COUNTERS = {
    "epochs_seen": "epoch_record",
    "batches_seen": "batch_record",
    "examples_seen": "example_record",
    "seconds": "time_record",
}


def log_path_for(save_path):
    """``run.pkl`` -> ``run.monitor.csv``: where the log of a run saved at ``save_path`` goes."""
    stem = save_path[: -len(".pkl")] if save_path.endswith(".pkl") else save_path
    return stem + ".monitor.csv"


def monitor_rows(monitor):
    """The header and every recorded step of ``monitor``, as CSV rows.

    Channels added later than others (a model trained further with new channels) have
    shorter records; they are aligned on the latest step and empty before.

    Returns
    -------
    header : list of str
    rows : list of lists
        One per monitoring step, oldest first.
    """
    names = sorted(monitor.channels, key=number_aware_alphabetical_key)
    channels = [monitor.channels[name] for name in names]
    steps = max((len(c.val_record) for c in channels), default=0)
    longest = max(channels, key=lambda c: len(c.val_record), default=None)
    rows = []
    for step in range(steps):
        row = [_number(getattr(longest, record)[step]) for record in COUNTERS.values()]
        for channel in channels:
            index = step - (steps - len(channel.val_record))
            row.append(_number(channel.val_record[index]) if index >= 0 else "")
        rows.append(row)
    return list(COUNTERS) + names, rows


def _number(value):
    """The shortest text that reads back as ``value`` in floatX (with float32, ``0.01``
    rather than ``0.009999999776482582``); counters stay integers."""
    if isinstance(value, (int, numpy.integer)):
        return str(int(value))
    return str(backend.cast_floatX(value))


class ChannelLog(TrainExtension):
    """Append each monitoring step to the CSV file ``path``, flushed at every row.

    Parameters
    ----------
    path : str
        The ``.csv`` file (``${VAR}`` expanded; its folder is created).
    """

    def __init__(self, path):
        self.path = preprocess(os.fspath(path))
        self._header = None

    def setup(self, model, dataset, algorithm):
        self._header = None  # the first row of this run rewrites the file

    def on_monitor(self, model, dataset, algorithm):
        header, rows = monitor_rows(model.monitor)
        if not rows:
            return
        if header != self._header:
            # First step of the run (or the channels changed): the whole history.
            self._write(header, rows, mode="w")
            self._header = header
        else:
            self._write(None, rows[-1:], mode="a")

    def _write(self, header, rows, mode):
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        with serial.open_output(self.path, mode, newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if header is not None:
                writer.writerow(header)
            writer.writerows(rows)
            f.flush()


class ChannelHistory:
    """One channel read back from a log: the records a MonitorChannel has.

    Attributes
    ----------
    epoch_record, batch_record, example_record, time_record, val_record : lists
    """

    def __init__(self):
        for record in (*COUNTERS.values(), "val_record"):
            setattr(self, record, [])


def read_channel_log(path):
    """Every channel of the CSV log at ``path``, as ``{name: ChannelHistory}``.

    Raises
    ------
    ValueError
        The file is not a channel log (its header lacks the counter columns) or a
        value is not a number; the message names the file and line.
    """
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or header[: len(COUNTERS)] != list(COUNTERS):
            raise ValueError(
                f"{path} is not a channel log: its first line should start with "
                f"{','.join(COUNTERS)} (train.py writes <save stem>.monitor.csv)"
            )
        channels = {name: ChannelHistory() for name in header[len(COUNTERS) :]}
        for row in reader:
            if not row:
                continue
            try:
                counters = [float(v) for v in row[: len(COUNTERS)]]
                values = [None if v == "" else float(v) for v in row[len(COUNTERS) :]]
            except ValueError as exc:
                raise ValueError(f"{path}:{reader.line_num}: {exc}") from None
            if len(values) != len(channels):
                raise ValueError(
                    f"{path}:{reader.line_num}: {len(row)} columns, the header has "
                    f"{len(header)} (a row cut short while being written?)"
                )
            for channel, value in zip(channels.values(), values, strict=True):
                if value is None:
                    continue
                for record, counter in zip(COUNTERS.values(), counters, strict=True):
                    getattr(channel, record).append(counter)
                channel.val_record.append(value)
    return channels
