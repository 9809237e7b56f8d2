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
step, at every periodic save, at the end, and when the run is stopped: what it holds
and how it is given back is :mod:`pylearn_vae.train_checkpoint`.
SIGINT (Ctrl-C) or SIGTERM during :meth:`Train.main_loop` finishes the current batch,
writes the checkpoint and raises :class:`TrainingInterrupted`; a second signal stops at
once (:mod:`pylearn_vae.utils.stop_signals`).
:meth:`Train.resume` (or :meth:`Train.load_checkpoint` then ``main_loop``) continues a
run from its checkpoint, on the CPU with exactly the numbers an uninterrupted run would
have produced. A finished run whose termination criterion counts epochs only continues
when it now allows more epochs (``train.py --epochs 8 --resume`` after 5), with the
numbers of a run of that many epochs from the start.
"""

import logging
import os
import signal
import time
import warnings

from pylearn_vae import train_checkpoint
from pylearn_vae.config.settings import describe
from pylearn_vae.config.yaml_parse import instantiate, load_train_file
from pylearn_vae.models.model import Param
from pylearn_vae.monitor import Monitor
from pylearn_vae.space import NullSpace
from pylearn_vae.termination_criteria import counts_epochs_only
from pylearn_vae.train_checkpoint import save_naming_the_file
from pylearn_vae.train_checks import check_finite_channels, check_training_data
from pylearn_vae.training_algorithms.training_algorithm import Interrupted
from pylearn_vae.utils import serial
from pylearn_vae.utils.checkpoint import read_checkpoint
from pylearn_vae.utils.stop_signals import StopOnSignals, TrainingInterrupted, describe_position
from pylearn_vae.utils.string_utils import preprocess
from pylearn_vae.utils.timing import log_timing, time_string
from pylearn_vae.utils.validation import check_nonnegative_int, check_writable_file

__all__ = [
    "Train",
    "TrainingInterrupted",
    "check_finite_channels",
    "check_training_data",
    "describe_position",
    "log_timing",
    "save_naming_the_file",
    "time_string",
]

log = logging.getLogger(__name__)


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
            save_path = self.default_save_path()
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
        # The epoch of the last save (None before one); the run's settings as plain
        # data (pylearn_vae.config.settings), set by whoever built it from a file.
        self.last_saved_epoch = None
        self.settings = None

    @staticmethod
    def default_save_path():
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
        starting one (a finished run only if it may now train more epochs). SIGINT and
        SIGTERM stop it cleanly at the next batch boundary (see
        :class:`TrainingInterrupted`).

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
        self.nothing_to_do = False
        for path in self.output_paths():
            serial.remove_stale_temporaries(path)
        signals = StopOnSignals(
            self.request_stop, self.stop_requested, self._last_checkpoint, self._epochs_seen
        )
        with signals:
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
        train_epoch, keep_going = self._prepare()
        monitor = self.model.monitor
        cont = self._start_or_resume(keep_going)
        if cont is None:
            return
        succeeded = not cont
        while cont:
            if self.stop_requested():
                self._stop(0)
            if self.exceeded_time_budget(t0, time_budget):
                break
            cont = self._one_epoch(train_epoch, keep_going)
            succeeded = not cont  # the final save below records the last epoch once
        monitor.training_succeeded = succeeded
        unsaved = self.last_saved_epoch != monitor.get_epochs_seen()
        if self.save_freq > 0 and (succeeded or unsaved):
            self.save()
        if self.save_freq > 0:
            self.write_checkpoint(finished=succeeded)

    def _prepare(self):
        """Set up, check the data and the channels; ``(train_epoch, keep_going)``."""
        self.setup()
        if self.algorithm is None:
            train_epoch, keep_going = self.model.train_all, self.model.continue_learning
        else:
            train_epoch, keep_going = self.algorithm.train, self._algorithm_continues
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
        return train_epoch, keep_going

    def _algorithm_continues(self):
        return self.algorithm.continue_learning(self.model)

    def _start_or_resume(self, keep_going):
        """Monitor epoch 0, or give the run its checkpoint's state: whether to train on
        (None: a finished run with nothing more to do)."""
        resume, self._resume_state = getattr(self, "_resume_state", None), None
        if resume is None:
            cont = self.run_callbacks_and_monitoring()
            cont = bool(keep_going() and cont)
            if cont and self.save_freq > 0:
                self.write_checkpoint()  # so a run stopped in its first epoch can resume
            return cont
        train_checkpoint.restore_run_state(self, resume)
        # The flag tells whether *this* sitting ran out of its budget, not an earlier one.
        self.model.monitor.time_budget_exceeded = False
        where = describe_position(resume["epochs_done"], resume["batch"])
        if not resume["finished"]:
            log.info("Resuming from the checkpoint written at %s.", where)
            return True
        if self._counts_epochs_only() and keep_going():  # asking changes nothing
            log.info("Continuing the run that had finished at %s: more epochs asked.", where)
            return True
        log.info("This run had finished at %s: nothing to do.", where)
        self.nothing_to_do = True
        return None

    def _counts_epochs_only(self):
        criterion = getattr(self.algorithm, "termination_criterion", None)
        return criterion is not None and counts_epochs_only(criterion)

    def extends(self, state):
        """Whether resuming the finished run of checkpoint ``state`` trains on
        (:func:`pylearn_vae.train_checkpoint.extends`)."""
        return self._counts_epochs_only() and train_checkpoint.extends(self, state)

    def _one_epoch(self, train_epoch, keep_going):
        """Train one epoch, monitor it and save when due; whether to go on."""
        with log_timing(log, None, logging.DEBUG, "Total time this epoch:", [self._set_total]):
            timing = [self._set_training]
            with log_timing(log, None, final_msg="Time this epoch:", callbacks=timing):
                rval = train_epoch(self.dataset)
            if rval is not None:
                what = "Model.train_all" if self.algorithm is None else "TrainingAlgorithm.train"
                raise ValueError(
                    f"{what} should not return anything. Use continue_learning to control "
                    "whether learning continues."
                )
            self.model.monitor.report_epoch()
            cont = self.run_callbacks_and_monitoring()
            cont = bool(keep_going() and cont)
            epochs = self.model.monitor.get_epochs_seen()
            if cont and self.save_freq > 0 and epochs % self.save_freq == 0:
                self.save()
                self.write_checkpoint()
        return cont

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
        raise TrainingInterrupted(self._stop_signal, path, self._epochs_seen(), batches_done)

    def _last_checkpoint(self):
        path = self.checkpoint_path
        return path if path is not None and os.path.exists(path) else None

    def _epochs_seen(self):
        monitor = getattr(self.model, "monitor", None)
        return 0 if monitor is None else monitor.get_epochs_seen()

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
        """Run the ``on_save`` hooks and save the model to ``save_path``
        (:func:`pylearn_vae.train_checkpoint.save_model`)."""
        train_checkpoint.save_model(self)

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
        return train_checkpoint.checkpoint_path(self, self.default_save_path)

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
        """The whole state of the run, as the plain-data dict a checkpoint holds
        (:func:`pylearn_vae.train_checkpoint.run_state`)."""
        return train_checkpoint.run_state(self, finished=finished)

    def set_state(self, state):
        """Give the run (after :meth:`setup`) the state :meth:`get_state` returned
        (:func:`pylearn_vae.train_checkpoint.restore_run_state`)."""
        train_checkpoint.restore_run_state(self, state)

    def write_checkpoint(self, finished=False):
        """Save :meth:`get_state` to :attr:`checkpoint_path` (atomically); no path: no-op."""
        path = self.checkpoint_path
        if path is None:
            return
        with log_timing(log, None, logging.DEBUG, f"Checkpoint written to {path} in"):
            contents = train_checkpoint.describe_contents(self, finished)
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
            The checkpoint (``'finished'``, ``'epochs_done'``, ``'batch'``, ...).

        Raises
        ------
        pylearn_vae.train_checkpoint.SettingsChanged
            (a ValueError) The run's settings differ from the checkpoint's in what alters
            the model, the data or the optimization (each change named).
        """
        path = self.checkpoint_path if path is None else preprocess(path)
        if path is None:
            raise ValueError(
                "this Train has no checkpoint path (no save_path): pass the checkpoint's path"
            )
        state = read_checkpoint(path)
        train_checkpoint.check_settings(self, state, path)
        self._resume_state = state
        return state

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
        graph = load_train_file(
            config_path, allow_modules=allow_modules, trusted=trusted, instantiate=False
        )
        train = instantiate(graph)
        if not isinstance(train, cls):
            raise TypeError(
                f"{config_path} describes a {type(train).__name__}, not one Train: resume a "
                "list of phases with train.py --resume"
            )
        train.settings = describe(graph)
        train.load_checkpoint()
        return train

    def _dataset_names(self):
        """``{id(dataset): name}`` of the algorithm's monitoring datasets."""
        named = getattr(self.algorithm, "monitoring_dataset", None) or {}
        return {id(d): name for name, d in named.items()}
