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

Stopping and resuming (not in Pylearn2)
---------------------------------------
A run keeps a *checkpoint* beside its save path (``model.pkl`` -> ``model.ckpt.pkl``,
see :attr:`Train.checkpoint_path`), written atomically after the first monitoring
step, at every periodic save, at the end, and when the run is stopped: the parameters,
the learning rule's state, every schedule, counter, termination criterion and
extension, the monitor's history and the state of every random generator, as plain
data (:mod:`pylearn_vae.utils.checkpoint`).
SIGINT (Ctrl-C) or SIGTERM during :meth:`Train.main_loop` finishes the current batch,
writes the checkpoint and raises :class:`TrainingInterrupted`; a second signal stops at
once (every save is atomic, so no file is left half-written).
:meth:`Train.resume` (or :meth:`Train.load_checkpoint` then ``main_loop``) continues a
run from its checkpoint, on the CPU with exactly the numbers an uninterrupted run would
have produced.
"""

import contextlib
import datetime
import logging
import math
import os
import signal
import threading
import time
import warnings

from pylearn_vae.models.model import Param
from pylearn_vae.monitor import Monitor
from pylearn_vae.space import NullSpace
from pylearn_vae.training_algorithms.training_algorithm import Interrupted
from pylearn_vae.utils import serial
from pylearn_vae.utils.checkpoint import (
    checkpoint_contents,
    checkpoint_path_for,
    get_state_of,
    params_state,
    plain,
    read_checkpoint,
    set_params_state,
    set_states_of,
)
from pylearn_vae.utils.rng import generator_states, set_generator_states
from pylearn_vae.utils.string_utils import preprocess
from pylearn_vae.utils.validation import (
    check_data_values,
    check_nonnegative_int,
    check_writable_file,
    outside_0_1,
)

__all__ = ["Train", "TrainingInterrupted", "describe_position", "log_timing", "time_string"]

# Attributes the walk for random generators does not enter: the monitor (its datasets
# are reached through the Train object) and copies of the model.
_NOT_GENERATOR_OWNERS = ("monitor", "best_model", "_model")

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


def describe_position(epochs_done, batch):
    """``'the end of epoch 3'`` or ``'epoch 4, batch 17'``: where a checkpoint was taken."""
    if batch:
        return f"epoch {epochs_done + 1}, batch {batch}"
    return f"the end of epoch {epochs_done}"


class TrainingInterrupted(KeyboardInterrupt):
    """:meth:`Train.main_loop` was stopped by a signal (or :meth:`Train.request_stop`).

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
            # A requested stop, not a problem: INFO, and the model is saved as usual.
            log.info(
                "Time budget of %s spent (%s elapsed): stopping before the next epoch.",
                time_string(time_budget),
                time_string(elapsed),
            )
            self.model.monitor.time_budget_exceeded = True
            return True
        return False

    # -- the loop ------------------------------------------------------------------------
    def main_loop(self, time_budget=None):
        """Train until the algorithm (or an extension, or the time budget) says stop.

        After :meth:`load_checkpoint` it continues the checkpoint's run instead of
        starting one (and does nothing if that run had finished). SIGINT and SIGTERM
        stop it cleanly at the next batch boundary (see :class:`TrainingInterrupted`).

        Parameters
        ----------
        time_budget : float, optional
            Seconds; checked before each epoch.

        Raises
        ------
        TrainingInterrupted
            A signal or :meth:`request_stop` stopped the run; its checkpoint is written.
        """
        t0 = time.perf_counter()
        self._stop_signal = None
        for path in self.output_paths():
            serial.remove_stale_temporaries(path)
        with self._stop_on_signals():
            try:
                self._train(t0, time_budget)
            except Interrupted as exc:  # between two batches of an epoch
                self._stop(exc.batches_done)
            finally:
                if self.algorithm is not None:
                    self.algorithm.stop_check = None
                    tuner = getattr(self.algorithm, "thread_tuner", None)
                    if tuner is not None:
                        tuner.finish()

    def _train(self, t0, time_budget):
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
            self.algorithm.stop_check = self.stop_requested
        monitor = getattr(self.model, "monitor", None)
        if monitor is None:
            raise RuntimeError(
                "The algorithm is responsible for setting up the Monitor, but failed to."
            )
        if self.algorithm is not None and monitor.datasets:
            self._add_timing_channels(monitor)
        criterion = getattr(self.algorithm, "termination_criterion", None)
        if criterion is not None and hasattr(criterion, "check_channels"):
            criterion.check_channels(monitor.channels)
        check_training_data(
            self.model, self.dataset, getattr(self.algorithm, "monitoring_dataset", None)
        )

        resume, self._resume_state = getattr(self, "_resume_state", None), None
        if resume is not None:
            self.set_state(resume)
            where = describe_position(resume["epochs_done"], resume["batch"])
            if resume["finished"]:
                log.info("This run had finished at %s: nothing to do.", where)
                return
            cont, succeeded = True, False
            log.info("Resuming from the checkpoint written at %s.", where)
        else:
            cont = self.run_callbacks_and_monitoring()
            cont = bool(keep_going() and cont)
            succeeded = not cont
            if cont and self.save_freq > 0:
                self.write_checkpoint()  # so a run stopped in its first epoch can resume
        while cont:
            if self.stop_requested():
                self._stop(0)
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
                    self.write_checkpoint()
        monitor.training_succeeded = succeeded
        if self.save_freq > 0 and (
            succeeded or self._last_saved_epoch != monitor.get_epochs_seen()
        ):
            self.save()
        if self.save_freq > 0:
            self.write_checkpoint(finished=succeeded)

    # -- stopping ----------------------------------------------------------------------
    def request_stop(self, signum=signal.SIGINT):
        """Ask :meth:`main_loop` to stop at the next batch boundary, as ``signum`` does."""
        self._stop_signal = signum

    def stop_requested(self):
        """Whether a signal or :meth:`request_stop` asked the run to stop."""
        return getattr(self, "_stop_signal", None) is not None

    def _stop(self, batches_done):
        """Write the checkpoint and raise :class:`TrainingInterrupted`."""
        path = self.checkpoint_path
        if path is not None:
            self.write_checkpoint()
        raise TrainingInterrupted(
            self._stop_signal, path, self.model.monitor.get_epochs_seen(), batches_done
        )

    @contextlib.contextmanager
    def _stop_on_signals(self):
        """SIGINT/SIGTERM request a stop; a second one stops at once (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {}

        def handler(signum, frame):
            if not self.stop_requested():
                self._stop_signal = signum
                if os.isatty(2):  # a person at a terminal sees the key press was heard
                    os.write(
                        2,
                        b"Stopping after the current batch to write a checkpoint "
                        b"(signal again to stop at once)...\n",
                    )
                return
            for number, old in previous.items():
                signal.signal(number, old)
            path = self.checkpoint_path
            last = path if path is not None and os.path.exists(path) else None
            monitor = getattr(self.model, "monitor", None)
            epochs = 0 if monitor is None else monitor.get_epochs_seen()
            raise TrainingInterrupted(signum, last, epochs, 0, at_once=True)

        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, handler)
        try:
            yield
        finally:
            for number, old in previous.items():
                signal.signal(number, old)

    def _set_training(self, seconds):
        self.training_seconds.set_value(seconds)

    def _set_total(self, seconds):
        self.total_seconds.set_value(seconds)

    def _add_timing_channels(self, monitor):
        first = monitor.datasets[0]
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

    # -- checkpoints -----------------------------------------------------------------------
    @property
    def checkpoint_path(self):
        """Where the run's checkpoint lives: ``<save_path stem>.ckpt.pkl``.

        Without a ``save_path``, ``${PYLEARN2_TRAIN_FILE_FULL_STEM}.ckpt.pkl`` when train.py
        set that variable, else None (no checkpoint) unless assigned.
        """
        explicit = getattr(self, "_checkpoint_path", None)
        if explicit is not None:
            return explicit
        if self.save_path is not None:
            return checkpoint_path_for(self.save_path)
        if os.environ.get("PYLEARN2_TRAIN_FILE_FULL_STEM") is not None:
            return checkpoint_path_for(self._default_save_path())
        return None

    @checkpoint_path.setter
    def checkpoint_path(self, path):
        self._checkpoint_path = None if path is None else preprocess(path)

    def output_paths(self):
        """The files this run writes: its save path, its checkpoint and its extensions'
        ``save_path`` (``${VAR}`` expanded)."""
        paths = [self.save_path, self.checkpoint_path]
        paths += [getattr(ext, "save_path", None) for ext in self.extensions]
        unique = []
        for path in paths:
            if isinstance(path, str) and preprocess(path) not in unique:
                unique.append(preprocess(path))
        return unique

    def get_state(self, finished=False):
        """The whole state of the run, as the plain-data dict a checkpoint holds.

        Parameters
        ----------
        finished : bool
            Record that the run is over (a resumed finished run does nothing).
        """
        monitor = self.model.monitor
        algorithm_state = None if self.algorithm is None else self.algorithm.get_state()
        position = None
        if isinstance(algorithm_state, dict):
            position = algorithm_state.get("position")
        return {
            "finished": bool(finished),
            "epochs_done": monitor.get_epochs_seen(),
            "batch": position["batch"] if position else 0,
            "train": {
                "first_save": self.first_save,
                "last_saved_epoch": self._last_saved_epoch,
                "timing": params_state([self.training_seconds, self.total_seconds]),
            },
            "model": {
                "params": params_state(self.model.get_params()),
                "tag": {key: plain(dict(value)) for key, value in self.model.tag.items()},
            },
            "monitor": monitor.get_state(),
            "algorithm": algorithm_state,
            "extensions": [get_state_of(ext) for ext in self.extensions],
            "generators": generator_states(self, _NOT_GENERATOR_OWNERS),
        }

    def set_state(self, state):
        """Give the run (after :meth:`setup`) the state :meth:`get_state` returned.

        Raises
        ------
        ValueError
            The state does not fit this run (another model, channels or generators).
        """
        set_params_state(
            self.model.get_params(), state["model"]["params"], "the model's parameters"
        )
        tag = self.model.tag
        tag.clear()
        tag.update({key: dict(value) for key, value in state["model"]["tag"].items()})
        self.model.monitor.set_state(state["monitor"])
        if self.algorithm is None:
            if state["algorithm"] is not None:
                raise ValueError("the checkpoint was written by a run with a training algorithm")
        else:
            self.algorithm.set_state(state["algorithm"])
        set_states_of(self.extensions, state["extensions"], "extensions")
        set_generator_states(self, state["generators"], _NOT_GENERATOR_OWNERS)
        self.first_save = state["train"]["first_save"]
        self._last_saved_epoch = state["train"]["last_saved_epoch"]
        set_params_state(
            [self.training_seconds, self.total_seconds], state["train"]["timing"], "timing"
        )

    def write_checkpoint(self, finished=False):
        """Save :meth:`get_state` to :attr:`checkpoint_path` (atomically); no path: no-op."""
        path = self.checkpoint_path
        if path is None:
            return
        with log_timing(log, None, logging.DEBUG, f"Checkpoint written to {path} in"):
            contents = checkpoint_contents(self.get_state(finished=finished))
            save_naming_the_file(path, contents, "the checkpoint")

    def load_checkpoint(self, path=None):
        """Make the next :meth:`main_loop` continue the run saved in a checkpoint.

        Parameters
        ----------
        path : str, optional
            Default :attr:`checkpoint_path`.

        Returns
        -------
        dict
            The checkpoint (``'finished'``, ``'epoch'``, ``'batch'``, ...).
        """
        path = self.checkpoint_path if path is None else preprocess(path)
        if path is None:
            raise ValueError(
                "this Train has no checkpoint path (no save_path): pass the checkpoint's path"
            )
        self._resume_state = read_checkpoint(path)
        return self._resume_state

    @classmethod
    def resume(cls, config_path, allow_modules=None, trusted=False):
        """The Train of a YAML file, ready to continue from its checkpoint.

        ``Train.resume('exp.yaml').main_loop()`` is ``train.py exp.yaml --resume``: the
        file is parsed again (with the ``PYLEARN2_TRAIN_*`` variables train.py sets),
        then its checkpoint is loaded into the new objects.

        Parameters
        ----------
        config_path : str
        allow_modules : list of str, optional
        trusted : bool
            How the file is loaded, as for
            :func:`pylearn_vae.config.yaml_parse.load_path`.

        Raises
        ------
        FileNotFoundError
            The run has no checkpoint.
        """
        from pylearn_vae.config.yaml_parse import load_train_file

        train = load_train_file(config_path, allow_modules=allow_modules, trusted=trusted)
        if not isinstance(train, cls):
            raise TypeError(
                f"{config_path} describes a {type(train).__name__}, not one Train: resume a "
                "list of phases with train.py --resume"
            )
        train.load_checkpoint()
        return train

    def _dataset_names(self):
        """``{id(dataset): name}`` of the algorithm's monitoring datasets."""
        named = getattr(self.algorithm, "monitoring_dataset", None) or {}
        return {id(d): name for name, d in named.items()}


def save_naming_the_file(path, model, what="the model"):
    """``serial.save(path, model)``; an OSError (disk full, permission) names ``path``
    (and ``what`` was being saved)."""
    try:
        serial.save(path, model, on_overwrite="backup")
    except OSError as exc:
        if exc.filename is not None or path in str(exc):
            raise
        raise OSError(
            exc.errno, f"Cannot save {what} to {path}: {exc.strerror or exc}", path
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
