"""A dataset's source arrays as batches read them: cast once, rows taken, on the device.

:class:`~pylearn_vae.utils.iteration.FiniteDatasetIterator` reads each batch from a
dataset's arrays with these: :func:`prepared_source` casts a whole source to the
requested float dtype once (a read-only copy, kept per dataset), :func:`take_rows` takes
the rows a subset iterator names, :func:`to_device` places them on the current device.
:func:`joined_rows` puts consecutive batches back together without a copy.
"""

import weakref

import numpy

from pylearn_vae import backend
from pylearn_vae.space import CompositeSpace

__all__ = [
    "format_as",
    "joined_rows",
    "prepared_source",
    "split_data_specs",
    "take_rows",
    "to_device",
]


def joined_rows(batches):
    """Batches ``(rows_i, ...)`` as one ``(sum rows_i, ...)`` array.

    A read-only view when they are consecutive rows of one host array (a sequential
    iterator's batches are views of the dataset), so nothing is copied; otherwise a new
    array (``concatenate``).
    """
    first = batches[0]
    xp = backend.get_array_module(*batches)
    if xp is not numpy or first.base is None:
        return xp.concatenate(batches, axis=0)
    address = first.__array_interface__["data"][0]
    for batch in batches:
        if (
            batch.base is not first.base
            or batch.dtype != first.dtype
            or batch.strides != first.strides
            or batch.shape[1:] != first.shape[1:]
            or batch.__array_interface__["data"][0] != address
        ):
            return numpy.concatenate(batches, axis=0)
        address += batch.shape[0] * first.strides[0]
    rows = sum(batch.shape[0] for batch in batches)
    return numpy.lib.stride_tricks.as_strided(
        first, (rows,) + first.shape[1:], first.strides, writeable=False
    )


# Per dataset, the read-only (possibly cast) copy of each source the iterators index:
# {dataset: {(source, dtype): (raw array, prepared array)}}. Weak keys: the copy dies with
# its dataset and is never pickled with it; the raw array is kept to notice replacement.
_prepared = weakref.WeakKeyDictionary()


def prepared_source(dataset, source, data, data_space, space):
    """``data`` cast once to ``space``'s float dtype (cached), as a read-only array.

    Casting the whole design matrix once, instead of every batch, keeps the per-batch
    work to one index and one device transfer. Integer sources (targets in an
    IndexSpace) are left to the per-batch conversion, which checks them.
    """
    if not isinstance(data, numpy.ndarray):
        return data
    dtype = numpy.dtype(getattr(space, "dtype", None) or data.dtype)
    data_dtype = getattr(data_space, "dtype", None)
    if dtype.kind != "f" or data_dtype is None or numpy.dtype(data_dtype).kind != "f":
        dtype = data.dtype
    try:
        cache = _prepared.setdefault(dataset, {})
    except TypeError:  # a dataset that cannot be weakly referenced or hashed
        cache = {}
    key = (source, dtype.name)
    entry = cache.get(key)
    if entry is None or entry[0] is not data:
        prepared = data.astype(dtype) if data.dtype != dtype else data.view()
        prepared.flags.writeable = False
        entry = cache[key] = (data, prepared)
    return entry[1]


def take_rows(data, index):
    """Rows ``index`` (a slice or an integer array) of ``data``."""
    if isinstance(index, slice) or not isinstance(data, numpy.ndarray):
        return data[index]
    return data.take(index, axis=0)


def split_data_specs(data_specs):
    """``(space, source)`` as parallel tuples of component spaces and source names."""
    space, source = data_specs
    if not isinstance(source, tuple):
        return (space,), (source,)
    spaces = tuple(space.components) if isinstance(space, CompositeSpace) else (space,)
    sources = source
    if len(spaces) != len(sources):
        raise ValueError(
            f"data_specs pair {len(spaces)} space(s) with {len(sources)} source(s): {data_specs}"
        )
    return spaces, sources


def format_as(data_space, space):
    """``convert(batch)``: a batch of ``data_space`` formatted as ``space``."""

    def convert(batch):
        return data_space.np_format_as(batch, space)

    return convert


def to_device(batch):
    """``batch`` on the current device, keeping its dtype (anything without one as is)."""
    dtype = getattr(batch, "dtype", None)
    return batch if dtype is None else backend.asarray(batch, dtype=dtype)
