"""Saving, checkpoint and resume of a :class:`pylearn_vae.train.Train`.

:func:`save_model` writes the model to the run's ``save_path`` as Pylearn2's ``Train``
did (as a data file, :mod:`pylearn_vae.utils.datafile`, where Pylearn2 pickled).
The rest is not in Pylearn2.

A run keeps a *checkpoint* beside its save path (``model.pkl`` -> ``model.ckpt.pkl``),
written atomically as a data file (:mod:`pylearn_vae.utils.datafile`): the
parameters, the learning rule's state, every schedule, counter, termination criterion
and extension, the monitor's history, the state of every random generator, and the
run's *settings* (:mod:`pylearn_vae.config.settings`: the YAML file's calls and
arguments as plain data). :func:`run_state` gathers it, :func:`restore_run_state` gives
it back to freshly built objects, and :func:`settings_changes` says what a resumed run
would change.
"""

import logging
import os

from pylearn_vae.config import settings as run_settings
from pylearn_vae.termination_criteria import epoch_limit
from pylearn_vae.utils import serial
from pylearn_vae.utils.checkpoint import (
    checkpoint_contents,
    checkpoint_path_for,
    get_state_of,
    params_state,
    plain,
    set_params_state,
    set_states_of,
)
from pylearn_vae.utils.rng import generator_states, set_generator_states
from pylearn_vae.utils.timing import log_timing

__all__ = [
    "SettingsChanged",
    "check_settings",
    "checkpoint_path",
    "extends",
    "restore_run_state",
    "run_state",
    "save_model",
    "save_naming_the_file",
    "settings_changes",
]

log = logging.getLogger(__name__)

# Attributes the walk for random generators does not enter: the monitor (its datasets
# are reached through the Train object) and copies of the model.
NOT_GENERATOR_OWNERS = ("monitor", "best_model", "_model")


def checkpoint_path(train, default_save_path):
    """Where ``train`` keeps its checkpoint: ``<save_path stem>.ckpt.pkl``; without a
    save path, beside ``default_save_path()`` when train.py set the variables, else None."""
    if train.save_path is not None:
        return checkpoint_path_for(train.save_path)
    if os.environ.get("PYLEARN2_TRAIN_FILE_FULL_STEM") is not None:
        return checkpoint_path_for(default_save_path())
    return None


def run_state(train, finished=False):
    """The whole state of ``train``'s run, as the plain-data dict a checkpoint holds.

    Parameters
    ----------
    train : Train
        Set up (it has a monitor).
    finished : bool
        Record that the run is over.
    """
    monitor = train.model.monitor
    algorithm_state = None if train.algorithm is None else train.algorithm.get_state()
    position = None
    if isinstance(algorithm_state, dict):
        position = algorithm_state.get("position")
    return {
        "finished": bool(finished),
        "epochs_done": monitor.get_epochs_seen(),
        "batch": position["batch"] if position else 0,
        "settings": train.settings,
        "train": {
            "first_save": train.first_save,
            "last_saved_epoch": train.last_saved_epoch,
            "timing": params_state([train.training_seconds, train.total_seconds]),
        },
        "model": {
            "params": params_state(train.model.get_params()),
            "tag": {key: plain(dict(value)) for key, value in train.model.tag.items()},
        },
        "monitor": monitor.get_state(),
        "algorithm": algorithm_state,
        "extensions": [get_state_of(ext) for ext in train.extensions],
        "generators": generator_states(train, NOT_GENERATOR_OWNERS),
    }


def restore_run_state(train, state):
    """Give ``train`` (after its ``setup``) the state :func:`run_state` returned.

    Raises
    ------
    ValueError
        The state does not fit this run (another model, channels or generators).
    """
    model = train.model
    set_params_state(model.get_params(), state["model"]["params"], "the model's parameters")
    model.tag.clear()
    model.tag.update({key: dict(value) for key, value in state["model"]["tag"].items()})
    model.monitor.set_state(state["monitor"])
    if train.algorithm is None:
        if state["algorithm"] is not None:
            raise ValueError("the checkpoint was written by a run with a training algorithm")
    else:
        train.algorithm.set_state(state["algorithm"])
    set_states_of(train.extensions, state["extensions"], "extensions")
    set_generator_states(train, state["generators"], NOT_GENERATOR_OWNERS)
    train.first_save = state["train"]["first_save"]
    train.last_saved_epoch = state["train"]["last_saved_epoch"]
    set_params_state(
        [train.training_seconds, train.total_seconds], state["train"]["timing"], "timing"
    )


def settings_changes(train, state):
    """What resuming ``state`` with ``train``'s settings would change, one line each
    (run controls left out); empty when nothing, or when either side has no record."""
    saved = state.get("settings")
    if saved is None or train.settings is None:
        return []
    return run_settings.changes(saved, train.settings, "the file")


class SettingsChanged(ValueError):
    """A run would resume a checkpoint written with other settings."""


def check_settings(train, state, path):
    """Refuse to resume checkpoint ``state`` (read from ``path``) with other settings.

    Raises
    ------
    SettingsChanged
        Naming each change, ``old -> new``, and what to do.
    """
    changed = settings_changes(train, state)
    if changed:
        raise SettingsChanged(
            f"{path} was written with other settings than the file has now: "
            + "; ".join(changed)
            + ". Undo the change to continue that run, or start a new one (--overwrite, "
            "or another --out-dir)"
        )
    if state.get("settings") is None and train.settings is not None:
        log.warning(
            "%s was written by an earlier version of pylearn-vae, which did not record the "
            "run's settings: a change to the file since then cannot be detected.",
            path,
        )


def describe_contents(train, finished):
    """The checkpoint file's contents for ``train`` now (see :func:`run_state`)."""
    return checkpoint_contents(run_state(train, finished=finished))


def extends(train, state):
    """Whether resuming the finished run of checkpoint ``state`` trains on: ``train``'s
    termination criterion (one that counts epochs only) now allows more epochs than
    the run had done (``--epochs 8`` after a run of 5). Gives the criterion its
    checkpointed state."""
    if not state["finished"]:
        return False
    criterion = train.algorithm.termination_criterion
    criterion.set_state((state.get("algorithm") or {}).get("termination_criterion"))
    limit = epoch_limit(criterion, state["epochs_done"])
    return limit is not None and limit > state["epochs_done"]


class _SerializationGuard:
    """Set on the dataset while saving: saving the dataset with the model is a bug."""

    def __getstate__(self):
        raise OSError(
            "You tried to pickle the training dataset while saving the model; the model "
            "should not hold a reference to it."
        )


def save_model(train):
    """Run ``train``'s ``on_save`` hooks and save its model to its ``save_path``.

    Raises
    ------
    OSError
        The first save would replace a file and ``allow_overwrite`` is False; or the
        disk refused (the message names the file).
    """
    if train.save_path is None:
        return
    for ext in train.extensions:
        ext.on_save(train.model, train.dataset, train.algorithm)
    with log_timing(log, "Saving to " + train.save_path):
        if train.first_save and not train.allow_overwrite and os.path.exists(train.save_path):
            raise OSError(
                f"Trying to overwrite file when not allowed: {train.save_path} exists and "
                "allow_overwrite is False"
            )
        dataset = train.dataset
        try:
            dataset._serialization_guard = _SerializationGuard()
        except AttributeError:
            dataset = None
        try:
            save_naming_the_file(train.save_path, train.model)
        finally:
            if dataset is not None:
                dataset._serialization_guard = None
    train.first_save = False
    train.last_saved_epoch = train.model.monitor.get_epochs_seen()


def save_naming_the_file(path, obj, what="the model"):
    """``serial.save(path, obj)``; an OSError (disk full, permission) names ``path``
    (and ``what`` was being saved)."""
    try:
        serial.save(path, obj, on_overwrite="backup")
    except OSError as exc:
        if exc.filename is not None or path in str(exc):
            raise
        raise OSError(
            exc.errno, f"Cannot save {what} to {path}: {exc.strerror or exc}", path
        ) from exc
