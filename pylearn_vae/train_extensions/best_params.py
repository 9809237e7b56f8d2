"""Keep the best model, judged by one channel (``pylearn2/train_extensions/best_params.py``)."""

import copy
import logging
import os
import socket

from pylearn_vae.train import log_timing, save_naming_the_file
from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.utils.checkpoint import params_state, set_params_state
from pylearn_vae.utils.string_utils import preprocess
from pylearn_vae.utils.validation import check_nonnegative_int, check_writable_file

__all__ = ["MonitorBasedSaveBest"]

log = logging.getLogger(__name__)


class MonitorBasedSaveBest(TrainExtension):
    """Save (and/or keep a copy of) the model whenever ``channel_name`` improves.

    After each monitoring step, epoch 0 included, the channel's last value is compared
    with the best so far; on improvement (and once ``start_epoch`` epochs are seen) the
    model's tag is updated and the model is saved to ``save_path`` with
    ``serial.save(..., on_overwrite='backup')``.

    Parameters
    ----------
    channel_name : str
    save_path : str, optional
    store_best_model : bool
        Keep a deep copy in ``self.best_model``.
    start_epoch : int
        Ignore improvements before this many epochs are seen.
    higher_is_better : bool
    tag_key : str, optional
        Key of ``model.tag`` holding ``channel_name``, ``save_path``, ``hostname`` and
        ``best_cost``; the class name by default.
    """

    def __init__(
        self,
        channel_name,
        save_path=None,
        store_best_model=False,
        start_epoch=0,
        higher_is_better=False,
        tag_key=None,
    ):
        if save_path is None and not store_best_model:
            raise AssertionError(
                "MonitorBasedSaveBest: either save_path must be defined or store_best_model "
                "must be True (or both)."
            )
        owner = type(self).__name__
        if not (isinstance(channel_name, str) and channel_name):
            raise ValueError(
                f"{owner}: channel_name must be a monitoring channel's name (a string), "
                f"got {channel_name!r}"
            )
        if save_path is not None:
            check_writable_file(owner, "save_path", preprocess(save_path))
        self.channel_name = channel_name
        self.save_path = save_path
        self.store_best_model = store_best_model
        self.start_epoch = check_nonnegative_int(owner, "start_epoch", start_epoch)
        self.higher_is_better = higher_is_better
        self.coeff = -1.0 if higher_is_better else 1.0
        self.best_cost = self.coeff * float("inf")
        self.best_model = None
        self.tag_key = tag_key

    def setup(self, model, dataset, algorithm):
        self._model = model  # what set_state copies the best model from
        # The algorithm has set up the monitor: a misspelt channel fails now, not after
        # the first epoch.
        _check_channel_exists(type(self).__name__, model.monitor.channels, self.channel_name)
        if self.tag_key is None:
            self.tag_key = type(self).__name__
        if self.tag_key in model.tag:
            log.warning(
                'Model tag key "%s" already found. This may indicate multiple instances of %s '
                "trying to use the same tag.",
                self.tag_key,
                type(self).__name__,
            )
        tag = model.tag[self.tag_key]
        tag["channel_name"] = self.channel_name
        if self.save_path is not None:
            tag["save_path"] = os.path.abspath(self.save_path)
        tag["hostname"] = socket.gethostname()
        self._update_tag(model)

    def on_monitor(self, model, dataset, algorithm):
        monitor = model.monitor
        channels = monitor.channels
        _check_channel_exists(type(self).__name__, channels, self.channel_name)
        new_cost = channels[self.channel_name].val_record[-1]
        if (
            self.coeff * new_cost < self.coeff * self.best_cost
            and monitor.get_epochs_seen() >= self.start_epoch
        ):
            self.best_cost = new_cost
            self._update_tag(model)
            if self.store_best_model:
                self.best_model = copy.deepcopy(model)
            if self.save_path is not None:
                with log_timing(log, "Saving to " + self.save_path):
                    save_naming_the_file(self.save_path, model)

    def get_state(self):
        """``best_cost`` and, with ``store_best_model``, the best model's parameters."""
        best = self.best_model
        return {
            "best_cost": float(self.best_cost),
            "best_params": None if best is None else params_state(best.get_params()),
        }

    def set_state(self, state):
        """Back to :meth:`get_state`'s ``state``; the best model is rebuilt from the
        current one (after ``setup``) with the saved parameters."""
        self.best_cost = state["best_cost"]
        self.best_model = None
        if state["best_params"] is not None:
            self.best_model = copy.deepcopy(self._model)
            set_params_state(
                self.best_model.get_params(), state["best_params"], "the best model's parameters"
            )

    def _update_tag(self, model):
        model.tag[self.tag_key]["best_cost"] = self.best_cost


def _check_channel_exists(owner, channels, name):
    if name not in channels:
        hint = (
            f"its channels are {', '.join(sorted(channels))}"
            if channels
            else "it has none: give the algorithm a monitoring_dataset"
        )
        raise ValueError(f"{owner}: channel_name {name!r} is not a channel of the monitor; {hint}")
