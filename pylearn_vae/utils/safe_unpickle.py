"""Pickles written by earlier versions of pylearn-vae, read without running their code.

pylearn-vae now saves data files (:mod:`pylearn_vae.utils.datafile`); a pickle is only
read, through the pure-Python unpickler with two hooks: every global it names passes
:class:`pylearn_vae.utils.safe_load.LoadPolicy` before anything is imported, and every
NumPy dtype it builds must be a plain one whose state was not altered (see
``docs/security.md``).
"""

import functools
import pickle

import numpy

from pylearn_vae.utils.safe_load import (
    checked_dtype,
    current_global,
    dtype_refused,
)

__all__ = ["safe_unpickle"]


def _python2_name(module, name):
    """The Python 3 name of a global a Python 2 pickle wrote (``__builtin__.set``)."""
    import _compat_pickle

    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class _SafeUnpickler(pickle._Unpickler):
    """The pure-Python ``pickle`` unpickler whose ``find_class`` asks a
    :class:`LoadPolicy` first, and which checks every NumPy dtype it builds.

    NumPy reads a dtype's flags from its pickled state, and a dtype whose flags say it
    holds Python objects makes NumPy read an array's bytes as object pointers (a crash,
    or worse). So ``numpy.dtype`` is replaced by :func:`_checked_dtype` (no object,
    structured, void or subarray dtypes), and the state a pickle gives a dtype (its
    ``BUILD``) must be the dtype's own state, but for its byte order. The pure-Python
    unpickler is used because the C one gives no hook on ``BUILD``.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, filepath, policy, **kw):
        super().__init__(file, **kw)
        self._filepath = filepath
        self._policy = policy

    def find_class(self, module, name):
        module, name = current_global(*_python2_name(module, name))
        kind = self._policy.check_pickle_global(self._filepath, module, name)
        if (module, name) == ("numpy", "dtype"):
            return functools.partial(checked_dtype, self._filepath)
        return self._policy.resolve(self._filepath, module, name, kind)

    def load_build(self):
        if len(self.stack) >= 2 and isinstance(self.stack[-2], numpy.dtype):
            _check_dtype_state(self._filepath, self.stack[-2], self.stack[-1])
        pickle._Unpickler.load_build(self)

    dispatch[pickle.BUILD[0]] = load_build


def _check_dtype_state(filepath, dtype, state):
    """Refuse a dtype state other than ``dtype``'s own: only its byte order, and for a
    datetime its unit, may differ."""
    own = dtype.__reduce__()[2]
    ok = (
        isinstance(state, tuple)
        and len(state) == len(own)
        and len(own) >= 8
        and state[0] == own[0]
        and state[1] in ("<", ">", "|", "=")
        and state[2:8] == own[2:8]
    )
    if ok and len(own) > 8:  # datetime metadata: (None, (unit, count, 1, 1))
        meta = state[8]
        ok = (
            dtype.kind in "Mm"
            and isinstance(meta, tuple)
            and len(meta) == 2
            and meta[0] is None
            and isinstance(meta[1], tuple)
            and len(meta[1]) == 4
            and isinstance(meta[1][0], bytes)
            and len(meta[1][0]) <= 8
            and all(type(n) is int and 0 < n < 2**31 for n in meta[1][1:])
        )
    if not ok:
        raise dtype_refused(filepath, f"a {dtype} dtype with altered flags or fields")


def safe_unpickle(file, filepath, policy, encoding="latin1"):
    """Unpickle from open binary ``file`` under ``policy`` (``filepath`` for messages).

    Raises
    ------
    UnsafeFileError
        The pickle names a global the policy refuses; nothing it names was called.
    """
    if policy.trusted:
        return _MovedNamesUnpickler(file, encoding=encoding).load()
    return _SafeUnpickler(file, filepath, policy, encoding=encoding).load()


class _MovedNamesUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` (no checks: a trusted file) that finds moved classes."""

    def find_class(self, module, name):
        return super().find_class(*current_global(module, name))
