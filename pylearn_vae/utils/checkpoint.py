"""Checkpoints: the whole state of a training run as plain data, to resume it exactly.

A checkpoint is a dict of plain data -- ``dict``, ``list``, ``tuple``, ``str``, numbers,
``None`` and NumPy arrays, no objects of this package -- saved atomically as a data file
by :func:`pylearn_vae.utils.serial.save` beside the run's ``save_path``
(:func:`checkpoint_path_for`: ``model.pkl`` -> ``model.ckpt.pkl``). Resuming re-builds
the run's objects from its YAML file, then gives each its state back, so datasets are
never pickled and a resumed run continues with the very numbers an uninterrupted one
would have used.

The objects that take part implement ``get_state() -> plain data`` and
``set_state(state)``; :class:`Stateful` does it for the common case of a few attributes
named in ``_state_fields``.
"""

import os

import numpy

from pylearn_vae import backend
from pylearn_vae.utils import serial

__all__ = [
    "FORMAT",
    "Stateful",
    "checkpoint_contents",
    "checkpoint_path_for",
    "get_state_of",
    "params_state",
    "plain",
    "read_checkpoint",
    "set_params_state",
    "set_state_of",
    "set_states_of",
]

FORMAT = "pylearn_vae checkpoint"
VERSION = 2  # 2 added "settings"; 1 is still read


def plain(value):
    """``value`` with NumPy scalars made Python numbers, containers copied (recursively)."""
    if isinstance(value, numpy.generic):
        return value.item()
    if isinstance(value, dict):
        return {key: plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


class Stateful:
    """Mixin: ``get_state``/``set_state`` of the attributes named in ``_state_fields``."""

    _state_fields = ()

    def get_state(self):
        """The attributes of ``_state_fields`` as plain data (None for one not yet set)."""
        return {name: plain(getattr(self, name, None)) for name in self._state_fields}

    def set_state(self, state):
        """Set the attributes of ``_state_fields`` from :meth:`get_state`'s result."""
        _check_keys(self, state, self._state_fields)
        for name in self._state_fields:
            setattr(self, name, plain(state[name]))


def _check_keys(obj, state, names):
    if not isinstance(state, dict) or set(state) != set(names):
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            f"the checkpoint's state of {type(obj).__name__} has {got}, expected "
            f"{sorted(names)}: was the YAML file changed since the checkpoint was written?"
        )


def get_state_of(obj):
    """``obj.get_state()``, or None for an object that keeps no state of its own."""
    get_state = getattr(obj, "get_state", None)
    return None if get_state is None else get_state()


def set_state_of(obj, state):
    """``obj.set_state(state)``; an object without state must have been saved as None."""
    set_state = getattr(obj, "set_state", None)
    if set_state is None:
        if state is not None:
            raise ValueError(
                f"the checkpoint holds a state for a {type(obj).__name__}, which cannot take "
                "one: was the YAML file changed since the checkpoint was written?"
            )
        return
    set_state(state)


def set_states_of(objects, states, what):
    """:func:`set_state_of` for each of ``objects`` (``what``, e.g. ``'extensions'``, is
    named when the checkpoint has another number of them)."""
    objects = list(objects)
    if len(states) != len(objects):
        raise ValueError(
            f"the checkpoint has the state of {len(states)} {what}, this run has "
            f"{len(objects)}: was the YAML file changed since the checkpoint was written?"
        )
    for obj, state in zip(objects, states, strict=True):
        set_state_of(obj, state)


def params_state(params):
    """``[(name, host array), ...]`` of a list of :class:`~pylearn_vae.models.model.Param`."""
    return [(p.name, backend.to_host(p.get_value(borrow=True)).copy()) for p in params]


def set_params_state(params, state, what):
    """Set ``params`` from :func:`params_state`'s ``state``, checking names, shapes, dtypes.

    Parameters
    ----------
    params : list of Param
    state : list of (str, numpy.ndarray)
    what : str
        Named in errors (``'the model's parameters'``).
    """
    names = [p.name for p in params]
    saved = [name for name, _ in state]
    if names != saved:
        raise ValueError(
            f"{what} are {names} but the checkpoint has {saved}: was the YAML file changed "
            "since the checkpoint was written?"
        )
    for param, (name, value) in zip(params, state, strict=True):
        if tuple(param.shape) != value.shape or numpy.dtype(param.dtype) != value.dtype:
            raise ValueError(
                f"{name} is {tuple(param.shape)} {param.dtype} but the checkpoint has "
                f"{value.shape} {value.dtype}: resume with the same model and the same "
                "PYLEARN_VAE_FLOATX as the interrupted run"
            )
        param.set_value(value)


def checkpoint_path_for(save_path):
    """``<save_path without extension>.ckpt.pkl``: where a run saving to ``save_path``
    keeps its checkpoint."""
    stem, _ = os.path.splitext(save_path)
    return stem + ".ckpt.pkl"


def checkpoint_contents(state):
    """What a checkpoint file holds: the ``state`` dict of a run, tagged with the format
    (save it with :func:`pylearn_vae.utils.serial.save`, which writes atomically)."""
    return dict(state, format=FORMAT, version=VERSION)


def read_checkpoint(path):
    """The state dict :func:`write_checkpoint` saved to ``path``.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is not a checkpoint of this version of pylearn_vae.
    """
    state = serial.load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a pylearn_vae checkpoint")
    if state.get("version") not in (1, VERSION):
        raise ValueError(
            f"{path} is a checkpoint of version {state.get('version')}; this pylearn_vae "
            f"reads version {VERSION}"
        )
    state.setdefault("settings", None)
    return state
