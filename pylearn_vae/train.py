"""``Train``: the main loop tying a dataset, a model and an algorithm (``pylearn2/train.py``).

::

    setup()                           monitor, algorithm.setup, extensions' setup,
                                      model.enforce_constraints()
    monitor()  + on_monitor hooks     epoch 0: before any update
    while continue_learning:
        algorithm.train(dataset)      one epoch
        monitor() + on_monitor hooks
        save every save_freq epochs   (on_save hooks, then the pickle)
    save at the end

Departures from Pylearn2, on purpose: the default save path of a phase is
``<stem>.<phase>.pkl`` (it was a TypeError, docs/quirks.md#quirk-16); a run stopped by the
time budget is not marked ``training_succeeded`` and the last epoch is never pickled twice
(docs/quirks.md#quirk-18); ``on_save`` hooks run only when something is saved
(docs/quirks.md#quirk-19).
"""

import contextlib
import datetime
import logging
import math
import os
import time
import warnings

from pylearn_vae.models.model import Param
from pylearn_vae.monitor import Monitor
from pylearn_vae.space import NullSpace
from pylearn_vae.utils import serial
from pylearn_vae.utils.string_utils import preprocess
from pylearn_vae.utils.validation import check_nonnegative_int
from pylearn_vae.utils.validation_extra import (
    check_data_values,
    check_writable_file,
    outside_0_1,
)

__all__ = ["Train", "log_timing", "time_string"]

log = logging.getLogger(__name__)


def time_string(seconds):
    """``'%f seconds'`` below a minute, else ``str(timedelta)`` (``'0:01:05.5'``)."""
    if seconds < 60:
        return f"{seconds:f} seconds"
    return str(datetime.timedelta(seconds=seconds))


@contextlib.contextmanager
def log_timing(logger, task, level=logging.INFO, final_msg=None, callbacks=None):
    """Log ``'<task>...'`` then ``'<task> done. Time elapsed: <t>'`` around a block.

    With ``final_msg`` the closing line is ``'<final_msg> <t>'``; each callback gets
    the elapsed seconds.
    """
    if task is not None:
        logger.log(level, "%s...", task)
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    if final_msg is None:
        logger.log(level, "%s done. Time elapsed: %s", task, time_string(elapsed))
    else:
        logger.log(level, "%s %s", final_msg, time_string(elapsed))
    for callback in callbacks or ():
        callback(elapsed)


class _SerializationGuard:
    """Set on the dataset while saving: pickling the dataset with the model is a bug."""

    def __getstate__(self):
        raise OSError(
            "You tried to pickle the training dataset while saving the model; the model "
            "should not hold a reference to it."
        )


class Train:
    """Train ``model`` on ``dataset`` with ``algorithm``.

    Parameters
    ----------
    dataset : Dataset
    model : Model
    algorithm : TrainingAlgorithm, optional
        None uses ``model.train_all`` / ``model.continue_learning``.
    save_path : str, optional
        ``${VAR}`` expanded. None with ``save_freq > 0`` means
        ``${PYLEARN2_TRAIN_FILE_FULL_STEM}.pkl`` (``.<phase>.pkl`` inside a phase).
    save_freq : int
        Save every this many epochs and at the end; 0 never saves. A non-negative int.
    extensions : list of TrainExtension, optional
    allow_overwrite : bool
        False: the first save onto an existing file is an IOError.
    """

    def __init__(
        self,
        dataset,
        model,
        algorithm=None,
        save_path=None,
        save_freq=0,
        extensions=None,
        allow_overwrite=True,
    ):
        save_freq = check_nonnegative_int("Train", "save_freq", save_freq)
        self.allow_overwrite = allow_overwrite
        self.first_save = True
        self.dataset = dataset
        self.model = model
        self.algorithm = algorithm
        self.save_freq = save_freq
        if save_path is not None:
            if save_freq == 0:
                warnings.warn(
                    "save_path specified but save_freq is 0 (never save). Is this intentional?",
                    stacklevel=2,
                )
            save_path = preprocess(save_path)
        elif save_freq > 0:
            save_path = self._default_save_path()
        if save_path is not None and save_freq > 0:
            # Found now, not at the first save after an epoch of training.
            check_writable_file("Train", "save_path", save_path)
        self.save_path = save_path
        yaml_src = getattr(dataset, "yaml_src", None)
        if yaml_src is not None:
            model.dataset_yaml_src = yaml_src
        else:
            warnings.warn(
                "dataset has no yaml src, model won't know what data it was trained on",
                stacklevel=2,
            )
        self.extensions = list(extensions) if extensions is not None else []
        for ext in self.extensions:
            if not all(hasattr(ext, hook) for hook in ("setup", "on_monitor", "on_save")):
                raise ValueError(f"Train: extensions must be TrainExtensions, got {ext!r}")
        self.training_seconds = Param(0.0, name="training_seconds_this_epoch")
        self.total_seconds = Param(0.0, name="total_seconds_last_epoch")
        self._last_saved_epoch = None

    @staticmethod
    def _default_save_path():
        stem = os.environ.get("PYLEARN2_TRAIN_FILE_FULL_STEM")
        if stem is None:
            raise ValueError(
                "Train: save_freq > 0 without save_path needs PYLEARN2_TRAIN_FILE_FULL_STEM "
                "(set by train.py); give save_path explicitly"
            )
        phase = os.environ.get("PYLEARN2_TRAIN_PHASE")
        # The phase variable already reads 'phase1' (Pylearn2 formatted it with %d).
        return ".".join([stem, phase, "pkl"] if phase else [stem, "pkl"])

    # -- setup and monitoring -----------------------------------------------------------
    def setup(self):
        """Attach a monitor, set up the algorithm, then the extensions, in that order."""
        self.model.monitor = Monitor.get_monitor(self.model)
        self.model.monitor.time_budget_exceeded = False
        if self.algorithm is not None:
            self.algorithm.setup(model=self.model, dataset=self.dataset)
        self.setup_extensions()
        # Constraints (e.g. max norms) also bind the initial weights.
        self.model.enforce_constraints()

    def setup_extensions(self):
        for ext in self.extensions:
            ext.setup(self.model, self.dataset, self.algorithm)

    def run_callbacks_and_monitoring(self):
        """Monitor, then every ``on_monitor``; False if an extension asked to stop."""
        try:
            self.model.monitor()
            check_finite_channels(self.model.monitor, self._dataset_names())
            for ext in self.extensions:
                ext.on_monitor(self.model, self.dataset, self.algorithm)
        except StopIteration:
            log.info("Extension requested training halt.")
            return False
        return True

    def exceeded_time_budget(self, t0, time_budget):
        """True (and flag the monitor) once ``time_budget`` seconds have passed."""
        elapsed = time.perf_counter() - t0
        if time_budget is not None and elapsed > time_budget:
            log.warning("Time budget exceeded (%.3f/%d seconds).", elapsed, time_budget)
            self.model.monitor.time_budget_exceeded = True
            return True
        return False

    # -- the loop ------------------------------------------------------------------------
    def main_loop(self, time_budget=None):
        """Train until the algorithm (or an extension, or the time budget) says stop.

        Parameters
        ----------
        time_budget : float, optional
            Seconds; checked before each epoch.
        """
        t0 = time.perf_counter()
        self.setup()
        if self.algorithm is None:
            train_epoch, keep_going = self.model.train_all, self.model.continue_learning
            what = "Model.train_all"
        else:

            def train_epoch(dataset):
                return self.algorithm.train(dataset=dataset)

            def keep_going():
                return self.algorithm.continue_learning(self.model)

            what = "TrainingAlgorithm.train"
        monitor = getattr(self.model, "monitor", None)
        if monitor is None:
            raise RuntimeError(
                "The algorithm is responsible for setting up the Monitor, but failed to."
            )
        if self.algorithm is not None and monitor._datasets:
            self._add_timing_channels(monitor)
        criterion = getattr(self.algorithm, "termination_criterion", None)
        if criterion is not None and hasattr(criterion, "check_channels"):
            criterion.check_channels(monitor.channels)
        check_training_data(
            self.model, self.dataset, getattr(self.algorithm, "monitoring_dataset", None)
        )

        cont = self.run_callbacks_and_monitoring()
        cont = bool(keep_going() and cont)
        succeeded = not cont
        while cont:
            if self.exceeded_time_budget(t0, time_budget):
                break
            with log_timing(log, None, logging.DEBUG, "Total time this epoch:", [self._set_total]):
                with log_timing(
                    log, None, final_msg="Time this epoch:", callbacks=[self._set_training]
                ):
                    rval = train_epoch(self.dataset)
                if rval is not None:
                    raise ValueError(
                        f"{what} should not return anything. Use continue_learning to "
                        "control whether learning continues."
                    )
                monitor.report_epoch()
                cont = self.run_callbacks_and_monitoring()
                cont = bool(keep_going() and cont)
                if not cont:
                    # The final save below records this epoch once, as succeeded.
                    succeeded = True
                elif self.save_freq > 0 and monitor.get_epochs_seen() % self.save_freq == 0:
                    self.save()
        monitor.training_succeeded = succeeded
        if self.save_freq > 0 and (
            succeeded or self._last_saved_epoch != monitor.get_epochs_seen()
        ):
            self.save()

    def _set_training(self, seconds):
        self.training_seconds.set_value(seconds)

    def _set_total(self, seconds):
        self.total_seconds.set_value(seconds)

    def _add_timing_channels(self, monitor):
        first = monitor._datasets[0]
        for param, doc in (
            (self.training_seconds, "The number of seconds spent in algorithm.train this epoch."),
            (self.total_seconds, "The seconds the whole last epoch took, monitoring included."),
        ):
            param.doc = doc
            monitor.add_channel(
                name=param.name,
                ipt=None,
                val=param,
                data_specs=(NullSpace(), ""),
                dataset=first,
            )

    # -- saving --------------------------------------------------------------------------
    def save(self):
        """Run the ``on_save`` hooks and pickle the model to ``save_path``."""
        if self.save_path is None:
            return
        for ext in self.extensions:
            ext.on_save(self.model, self.dataset, self.algorithm)
        with log_timing(log, "Saving to " + self.save_path):
            if self.first_save and not self.allow_overwrite and os.path.exists(self.save_path):
                raise OSError(
                    f"Trying to overwrite file when not allowed: {self.save_path} exists and "
                    "allow_overwrite is False"
                )
            guarded = _guard(self.dataset)
            try:
                save_naming_the_file(self.save_path, self.model)
            finally:
                _unguard(self.dataset, guarded)
        self.first_save = False
        self._last_saved_epoch = self.model.monitor.get_epochs_seen()

    def _dataset_names(self):
        """``{id(dataset): name}`` of the algorithm's monitoring datasets."""
        named = getattr(self.algorithm, "monitoring_dataset", None) or {}
        return {id(d): name for name, d in named.items()}


def save_naming_the_file(path, model):
    """``serial.save(path, model)``; an OSError (disk full, permission) names ``path``."""
    try:
        serial.save(path, model, on_overwrite="backup")
    except OSError as exc:
        if exc.filename is not None or path in str(exc):
            raise
        raise OSError(
            exc.errno, f"Cannot save the model to {path}: {exc.strerror or exc}", path
        ) from exc


def check_finite_channels(monitor, dataset_names=None):
    """Stop training (RuntimeError) when a monitoring channel's latest value is NaN or inf.

    The message names the channel, its dataset and the epoch; as with a non-finite
    cost (see :mod:`pylearn_vae.training_algorithms.sgd`), nothing more is saved.
    """
    dataset_names = dataset_names or {}
    for name, channel in monitor.channels.items():
        if not channel.val_record:
            continue
        value = float(channel.val_record[-1])
        if not math.isfinite(value):
            dataset = dataset_names.get(id(channel.dataset))
            where = "" if dataset is None else f" (monitoring dataset {dataset!r})"
            raise RuntimeError(
                f"monitoring channel {name}{where} is {value} at epoch "
                f"{monitor.get_epochs_seen()}: training stopped. Check that dataset's values "
                "and try a smaller learning rate"
            )


def check_training_data(model, dataset, monitoring_datasets=None):
    """Before training: every dataset's values must be finite (ValueError), and a warning
    is logged when the model's conditional is a
    :class:`~pylearn_vae.models.vae.conditional.BernoulliVector` and they are not in
    ``[0, 1]`` (only logged: Pylearn2's own VAE test YAMLs train one on Gaussian noise).
    """
    from pylearn_vae.models.vae.conditional import BernoulliVector

    binary = isinstance(getattr(model, "conditional", None), BernoulliVector)
    named = [("training dataset", dataset)] + [
        (f"monitoring dataset {name!r}", d) for name, d in (monitoring_datasets or {}).items()
    ]
    seen = set()
    for what, data in named:
        get = getattr(data, "get_design_matrix", None)
        if get is None or id(data) in seen:
            continue
        seen.add(id(data))
        what = f"the {what} ({type(data).__name__})"
        X = check_data_values(what, get())
        problem = outside_0_1(what, X) if binary else None
        if problem:
            log.warning("%s", problem)


def _guard(dataset):
    try:
        dataset._serialization_guard = _SerializationGuard()
    except AttributeError:
        return False
    return True


def _unguard(dataset, guarded):
    if guarded:
        dataset._serialization_guard = None
