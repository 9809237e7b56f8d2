"""Crafted pickles for the security tests and the fuzzer: objects that pickle as NumPy
dtypes and arrays do, with a state of the caller's choosing (object flags on a float,
a structured dtype, ...), to check that the restricted unpickler refuses them."""

import numpy

__all__ = ["CraftedArray", "CraftedDtype", "own_state"]


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
