"""Crafted files for the security tests and the fuzzer.

Objects that pickle as NumPy dtypes and arrays do, with a state of the caller's choosing
(object flags on a float, a structured dtype, ...), to check that the restricted
unpickler refuses them; and data files (:mod:`pylearn_vae.utils.datafile`) with any
description, arrays and raw members, as an attacker would write them.
"""

import io
import json
import zipfile

import numpy

__all__ = ["CraftedArray", "CraftedDtype", "data_file", "npy_bytes", "own_state"]


class CraftedDtype:
    """Pickles as ``numpy.dtype(spec, False, True)`` with the BUILD state ``state``."""

    def __init__(self, spec, state):
        self.spec, self.state = spec, state

    def __reduce__(self):
        return (numpy.dtype, (self.spec, False, True), self.state)


class CraftedArray:
    """Pickles as NumPy does a 1-D array of the bytes ``raw``, with ``dtype`` (a
    :class:`CraftedDtype`, say) as its dtype."""

    def __init__(self, dtype, raw):
        self.dtype, self.raw = dtype, raw

    def __reduce__(self):
        from numpy._core.multiarray import _reconstruct

        state = (1, (len(self.raw) // 8,), self.dtype, False, self.raw)
        return (_reconstruct, (numpy.ndarray, (0,), b"b"), state)


def own_state(spec):
    """The BUILD state NumPy pickles for ``numpy.dtype(spec)``."""
    return numpy.dtype(spec).__reduce__()[2]


def npy_bytes(array, allow_pickle=False):
    """``array`` as the bytes of a ``.npy`` file."""
    inner = io.BytesIO()
    numpy.save(inner, array, allow_pickle=allow_pickle)
    return inner.getvalue()


def data_file(root, arrays=(), members=None, version=1):
    """The bytes of a data file whose description's root is ``root`` (plain JSON data),
    with ``arrays`` (``array_0``, ...) and extra raw ZIP ``members`` (``{name: bytes}``,
    which may replace an array's); the members are deflated."""
    from pylearn_vae.utils.datafile import FORMAT

    text = json.dumps({"format": FORMAT, "version": version, "root": root})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, array in enumerate(arrays):
            archive.writestr(f"array_{n}.npy", npy_bytes(array))
        archive.writestr("description.npy", npy_bytes(numpy.frombuffer(text.encode(), "u1")))
        for name, raw in (members or {}).items():
            archive.writestr(name, raw)
    return buffer.getvalue()
