"""Making NumPy random number generators from a generator or a seed."""

import numpy as np

__all__ = ["make_np_rng"]


def make_np_rng(rng_or_seed=None, default_seed=None, which_method=None):
    """Return a ``numpy.random.RandomState``, or `rng_or_seed` itself when it is one.

    The first of these that applies is returned:

    1. `rng_or_seed` itself, when it is not None and has every method in `which_method`;
    2. ``RandomState(rng_or_seed)``, when `rng_or_seed` is not None (a seed);
    3. ``RandomState(default_seed)``, when `default_seed` is not None;
    4. ``RandomState(42)``.

    Parameters
    ----------
    rng_or_seed : RandomState, int, list of int or None
        A generator to reuse (it is advanced by its users, not copied) or a seed.
    default_seed : int, list of int or None
        Seed used when `rng_or_seed` is None.
    which_method : str, list of str or None
        Methods the object must have to be used as a generator. None means it must be a
        ``numpy.random.RandomState`` (Pylearn2 iterated over None and failed).

    Returns
    -------
    numpy.random.RandomState
    """
    if rng_or_seed is not None and _is_rng(rng_or_seed, which_method):
        return rng_or_seed
    if rng_or_seed is not None:
        return np.random.RandomState(rng_or_seed)
    if default_seed is not None:
        return np.random.RandomState(default_seed)
    return np.random.RandomState(42)


def _is_rng(obj, which_method):
    if which_method is None:
        return isinstance(obj, np.random.RandomState)
    if isinstance(which_method, str):
        which_method = [which_method]
    return all(hasattr(obj, name) for name in which_method)
