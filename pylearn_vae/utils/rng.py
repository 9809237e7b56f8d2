"""Making NumPy random number generators from a generator or a seed; saving their states."""

import numpy as np

from pylearn_vae.backend import RandomStreams

__all__ = [
    "find_generators",
    "generator_state",
    "generator_states",
    "make_np_rng",
    "set_generator_state",
    "set_generator_states",
]


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


# -- the state of generators, for checkpoints ------------------------------------------------


def generator_state(rng):
    """The state of ``rng`` as plain data (dicts, ints, NumPy arrays), for a checkpoint.

    Parameters
    ----------
    rng : numpy.random.RandomState, numpy.random.Generator or RandomStreams

    Returns
    -------
    dict
        Give it back to :func:`set_generator_state`.
    """
    if isinstance(rng, np.random.RandomState):
        return {"kind": "RandomState", "state": rng.get_state(legacy=False)}
    if isinstance(rng, np.random.Generator):
        return {"kind": "Generator", "state": rng.bit_generator.state}
    return {"kind": type(rng).__name__, "state": rng.get_state()}


def set_generator_state(rng, state):
    """Put ``rng`` back in the ``state`` that :func:`generator_state` returned.

    Raises
    ------
    ValueError
        ``state`` was taken from another kind of generator.
    """
    kind = (
        "RandomState"
        if isinstance(rng, np.random.RandomState)
        else "Generator"
        if isinstance(rng, np.random.Generator)
        else type(rng).__name__
    )
    if state.get("kind") != kind:
        raise ValueError(
            f"cannot restore a {state.get('kind')} state into a {kind}: the checkpoint was "
            "written by a run with different random generators"
        )
    if kind == "RandomState":
        rng.set_state(state["state"])
    elif kind == "Generator":
        rng.bit_generator.state = state["state"]
    else:
        rng.set_state(state["state"])


def _is_generator(obj):
    return isinstance(obj, (np.random.RandomState, np.random.Generator, RandomStreams))


def find_generators(root, skip_attributes=()):
    """Every random generator reachable from ``root``, by attribute path.

    The walk goes through the attributes of objects of this package, lists, tuples and
    dicts, in their order; each generator is listed once, under the first path that
    reaches it (``'model.prior.noise'``, ``'algorithm.rng'``). Objects built from the
    same YAML file give the same paths, which is what lets a checkpoint restore them.

    Parameters
    ----------
    root : object
    skip_attributes : iterable of str
        Attribute names not to descend into (e.g. ``'monitor'``).

    Returns
    -------
    dict {str: generator}
        Generators are ``RandomState``, ``Generator`` and
        :class:`~pylearn_vae.backend.RandomStreams`.
    """
    skip = frozenset(skip_attributes)
    found, seen = {}, set()

    def visit(obj, path):
        if obj is None or isinstance(obj, (str, bytes, int, float, np.ndarray)):
            return
        if id(obj) in seen:
            return
        if _is_generator(obj):
            seen.add(id(obj))
            found[path] = obj
            return
        if isinstance(obj, dict):
            seen.add(id(obj))
            for i, (key, value) in enumerate(obj.items()):
                visit(value, f"{path}[{key!r}]" if isinstance(key, str) else f"{path}[#{i}]")
        elif isinstance(obj, (list, tuple)):
            seen.add(id(obj))
            for i, value in enumerate(obj):
                visit(value, f"{path}[{i}]")
        elif type(obj).__module__.startswith("pylearn_vae") and hasattr(obj, "__dict__"):
            seen.add(id(obj))
            for name, value in vars(obj).items():
                if name not in skip:
                    visit(value, f"{path}.{name}" if path else name)

    visit(root, "")
    return found


def generator_states(root, skip_attributes=()):
    """``{path: state}`` of every generator :func:`find_generators` finds from ``root``."""
    return {
        path: generator_state(rng) for path, rng in find_generators(root, skip_attributes).items()
    }


def set_generator_states(root, states, skip_attributes=()):
    """Restore the generators below ``root`` from :func:`generator_states`'s ``states``.

    Raises
    ------
    ValueError
        The generators found are not the ones ``states`` describes (the objects were
        built from a different configuration).
    """
    rngs = find_generators(root, skip_attributes)
    if set(rngs) != set(states):
        missing = sorted(set(states) - set(rngs))
        extra = sorted(set(rngs) - set(states))
        raise ValueError(
            "the random generators of this run do not match the checkpoint's (was the YAML "
            f"file changed?): missing here {missing}, not in the checkpoint {extra}"
        )
    for path, rng in rngs.items():
        set_generator_state(rng, states[path])
