"""The registry of faster implementations of the ops of :mod:`pylearn_vae.ops`.

A formula of :mod:`pylearn_vae.ops` decorated with :func:`op` becomes a named op: a
call runs the implementation registered for that name on the device of its arrays
(:func:`register`), or the formula itself when there is none. :mod:`pylearn_vae.accel`
fills the registry when ``import pylearn_vae`` runs (unless ``PYLEARN_VAE_REFERENCE=1``).
"""

import functools

import numpy

from pylearn_vae import backend

__all__ = ["implementation", "op", "register", "registered"]

_FASTER = {}  # (op name, device) -> implementation; filled by register()
_REFERENCE = {}  # op name -> its formula in pylearn_vae.ops


def _device_of(arrays):
    """``'gpu'`` when an argument is a CuPy array (traced or not), else ``'cpu'``."""
    return "cpu" if backend.get_array_module(*arrays) is numpy else "gpu"


def op(formula):
    """Make ``formula`` a named op: calls run the implementation registered for its name on
    the device of their arrays (:func:`register`), or ``formula`` itself when there is
    none."""
    name = formula.__name__
    _REFERENCE[name] = formula

    @functools.wraps(formula)
    def dispatch(*args, **kwargs):
        faster = _FASTER.get((name, _device_of(args)))
        return (faster or formula)(*args, **kwargs)

    dispatch.reference = formula
    return dispatch


def register(name, device, implementation):
    """Run ``implementation`` for op ``name`` on ``device`` (``'cpu'`` or ``'gpu'``).

    It must compute what the reference formula computes, with the same gradients (the
    tests check each one); ``None`` removes a registration.
    """
    if name not in _REFERENCE:
        raise KeyError(f"no op named {name!r}; the ops are {', '.join(sorted(_REFERENCE))}")
    if device not in ("cpu", "gpu"):
        raise ValueError(f"device must be 'cpu' or 'gpu', got {device!r}")
    if implementation is None:
        _FASTER.pop((name, device), None)
    else:
        _FASTER[name, device] = implementation


def registered():
    """``{(op name, device): implementation}`` of the faster implementations, a copy."""
    return dict(_FASTER)


def implementation(name, device=None):
    """What op ``name`` runs on ``device`` (the current one by default)."""
    device = backend.get_device() if device is None else device
    return _FASTER.get((name, device), _REFERENCE[name])
