"""Flattening nested data specs into one union of ``(space, source)`` leaves, and back.

Several consumers of one dataset (the monitor's channels, a cost with several inputs) each
ask for batches of their own ``(space, source)`` data specs, possibly nested through
:class:`~pylearn_vae.space.CompositeSpace`. One iterator serves them all when it reads the
*union* of their leaves: :func:`flatten_data_specs` registers a data specs' leaves in the
union and returns its *structure* (where each leaf sits in it), :func:`union_data_specs`
gives the data specs of that union for ``dataset.iterator``, and :func:`nest_batch`
rebuilds each consumer's batch from the flat tuple the iterator yields. This is what
Pylearn2's ``DataSpecsMapping`` in ``pylearn2/utils/data_specs.py`` does.

Example::

    structure, union = flatten_data_specs((CompositeSpace([x_space, y_space]),
                                           ("features", "targets")))
    for flat in dataset.iterator(data_specs=union_data_specs(union), return_tuple=True, ...):
        X, y = nest_batch(structure, flat)
"""

from pylearn_vae.space import CompositeSpace, NullSpace

__all__ = ["flatten_data_specs", "nest_batch", "union_data_specs"]


def flatten_data_specs(data_specs, union=None):
    """Register the ``(space, source)`` leaves of ``data_specs`` in ``union``.

    Parameters
    ----------
    data_specs : (Space, str or tuple)
        Possibly nested through :class:`CompositeSpace`; NullSpace leaves carry no data.
    union : list of (Space, str), optional
        Leaves already registered (extended in place); identical leaves are shared.

    Returns
    -------
    structure : None, int or nested tuple
        Where each leaf of ``data_specs`` sits in ``union``; feed it to :func:`nest_batch`.
    union : list of (Space, str)
    """
    union = [] if union is None else union
    space, source = data_specs
    if isinstance(space, CompositeSpace):
        if not isinstance(source, tuple) or len(source) != len(space.components):
            raise ValueError(
                f"data_specs pair the composite space {space} with the sources {source!r}: "
                "give one source per component, as a tuple"
            )
        structure = tuple(
            flatten_data_specs((s, src), union)[0]
            for s, src in zip(space.components, source, strict=True)
        )
        return structure, union
    if isinstance(space, NullSpace):
        return None, union
    for i, (s, src) in enumerate(union):
        if src == source and s == space:
            return i, union
    union.append((space, source))
    return len(union) - 1, union


def nest_batch(structure, flat):
    """The batch of one data specs, rebuilt from the flat tuple of the union's batches."""
    if structure is None:
        return None
    if isinstance(structure, int):
        return flat[structure]
    return tuple(nest_batch(s, flat) for s in structure)


def union_data_specs(union):
    """Data specs an iterator understands for a union of ``(space, source)`` leaves."""
    if len(union) == 1:
        return union[0]
    return CompositeSpace([s for s, _ in union]), tuple(src for _, src in union)
