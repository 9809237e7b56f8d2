"""One line per monitoring step, a bar over the whole run, and what was achieved.

Not in Pylearn2, which logged every channel at every step (``train.py --verbose`` still
does). :class:`ProgressReport` logs, after each monitoring step::

    epoch  12/300  train 205.61  valid 207.02  (expectation 190.30, KL 16.72)
        best valid 207.02 @ 12  1.3 s/epoch  6 min 15 s left

(on one line): the epochs seen out of the run's total (when an
:class:`~pylearn_vae.termination_criteria.EpochCounter` sets it), the ``train_`` and
``valid_`` objectives, the expectation and KL terms of the -ELBO on the validation set
(the training set when there is none), the best value of the watched channel so far
in the whole run (a resumed run included) and its epoch, the wall-clock seconds per
epoch (monitoring included) and the time the remaining epochs will take at that speed.
On a terminal a bar over the whole run sits on stderr.
:meth:`ProgressReport.summary` gives the closing lines ``train.py`` prints.
"""

import logging
import sys
import time

from pylearn_vae.termination_criteria import epoch_limit
from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.utils.progress import format_duration, is_terminal

__all__ = ["ProgressReport"]

log = logging.getLogger(__name__)


def _main_channels(names):
    """``(objectives, expectation, kl, watched)`` channel names among ``names``."""
    objectives = [n for n in ("train_objective", "valid_objective") if n in names]
    if not objectives:
        objectives = sorted(n for n in names if n.endswith("objective"))[:2]
    prefix = "valid_" if "valid_objective" in names else "train_"
    expectation = prefix + "expectation_term"
    kl = prefix + "kl_divergence_term"
    watched = "valid_objective" if "valid_objective" in names else next(iter(objectives), None)
    return (
        objectives,
        expectation if expectation in names else None,
        kl if kl in names else None,
        watched,
    )


def _short(name):
    """``'valid_objective'`` -> ``'valid'``; other names unchanged."""
    return name[: -len("_objective")] if name.endswith("_objective") else name


class ProgressReport(TrainExtension):
    """Log one line per monitoring step; keep the best value for the closing summary.

    Parameters
    ----------
    channel_name : str, optional
        The channel whose best (lowest) value is reported; default ``valid_objective``,
        else the first objective channel.
    bar : bool, optional
        Show a bar over the whole run on stderr; default: when stderr is a terminal and
        tqdm is installed.

    Attributes
    ----------
    best_value, best_epoch : float, int
        The lowest value of the watched channel and the epoch it was reached.
    epochs_seen, total_epochs : int
        The last monitoring step's epoch count and the run's total (None if unknown).
    watched : str
        The channel whose best value is kept (set at the first monitoring step).
    """

    def __init__(self, channel_name=None, bar=None):
        self.channel_name = channel_name
        self.bar = bar
        self._bar = None
        self.best_value = self.best_epoch = None
        self.epochs_seen = self.total_epochs = None
        self.watched = channel_name

    def setup(self, model, dataset, algorithm):
        self._close_bar()
        self.best_value = self.best_epoch = None
        self._criterion = getattr(algorithm, "termination_criterion", None)
        self._first = None  # (epoch, time) of this run's first monitoring step
        self._watched = self.channel_name

    def on_monitor(self, model, dataset, algorithm):
        monitor = model.monitor
        epoch = monitor.get_epochs_seen()
        now = time.perf_counter()
        if self._first is None:
            self._first = (epoch, now)
            self.total_epochs = epoch_limit(self._criterion, epoch)
        self.epochs_seen = epoch
        names = monitor.channels
        objectives, expectation, kl, watched = _main_channels(names)
        watched = self._watched or watched

        def last(name):
            record = names[name].val_record
            return float(record[-1]) if record else None

        if watched in names and last(watched) is not None:
            # From the whole record, which a resumed run restores with the monitor: the
            # best of the run, not of this sitting.
            channel = names[watched]
            best = channel.lowest_index()
            self.best_value = float(channel.val_record[best])
            self.best_epoch = int(channel.epoch_record[best])
        self.watched = watched
        total = f"/{self.total_epochs}" if self.total_epochs is not None else ""
        width = len(str(self.total_epochs or epoch))
        parts = [f"epoch {epoch:>{width}}{total}"]
        objectives = [name for name in objectives if last(name) is not None]
        parts += [f"{_short(name)} {last(name):.2f}" for name in objectives]
        terms = [
            (label, n)
            for label, n in (("expectation", expectation), ("KL", kl))
            if n and last(n) is not None
        ]
        if terms:
            parts.append("(" + ", ".join(f"{label} {last(n):.2f}" for label, n in terms) + ")")
        if self.best_value is not None:
            parts.append(f"best {_short(watched)} {self.best_value:.2f} @ {self.best_epoch}")
        done = epoch - self._first[0]
        if done > 0:
            per_epoch = (now - self._first[1]) / done
            parts.append(f"{format_duration(per_epoch)}/epoch")
            if self.total_epochs is not None:
                left = max(self.total_epochs - epoch, 0) * per_epoch
                parts.append(f"{format_duration(left)} left")
        self._update_bar(epoch)
        if self._bar is not None:
            self._bar.clear()
        log.info("  ".join(parts))
        if self._bar is not None:
            self._bar.refresh()

    def _update_bar(self, epoch):
        wanted = self.bar if self.bar is not None else is_terminal(sys.stderr)
        if not wanted or self.total_epochs is None:
            return
        if self._bar is None:
            try:
                from tqdm import tqdm
            except ImportError:
                self.bar = False
                return
            self._bar = tqdm(
                total=self.total_epochs,
                initial=epoch,
                desc="run",
                unit="epoch",
                leave=False,
                file=sys.stderr,
            )
        self._bar.update(epoch - self._bar.n)

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def summary(self):
        """Lines on what the run reached: epochs, best value and its epoch."""
        self._close_bar()
        if self.epochs_seen is None:
            return []
        lines = [f"Trained {self.epochs_seen} epochs."]
        if self.best_value is not None:
            lines.append(f"Best {self.watched}: {self.best_value:.2f} at epoch {self.best_epoch}.")
        return lines
