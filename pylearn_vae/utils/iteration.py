"""Iterating over a dataset in batches (``pylearn2/utils/iteration.py``).

Two layers, as in Pylearn2:

* a *subset iterator* ``(dataset_size, batch_size, num_batches, rng)`` knows only how
  many examples there are and yields, for each batch, which rows to take: a ``slice``
  (contiguous modes) or an integer array (``fancy`` modes);
* a :class:`FiniteDatasetIterator` takes those rows from a dataset's arrays and turns
  them into batches of the spaces asked for (``data_specs``), on the current device.

==================================  ==========  =====  =============================
mode                                stochastic  fancy  each batch is
==================================  ==========  =====  =============================
``sequential``                      no          no     the next ``batch_size`` rows
``shuffled_sequential``             yes         yes    the next chunk of a permutation
``batchwise_shuffled_sequential``   yes         no     a sequential chunk, in random order
``random_uniform``                  yes         yes    ``batch_size`` rows drawn with replacement
``random_slice``                    yes         no     a slice from a random start
``even_<one of the first three>``   as above    above  the same, short batches dropped
==================================  ==========  =====  =============================

Stochastic iterators reuse a RandomState they are given (advancing it), so a dataset
that passes its own ``rng`` gets a new order every epoch. How a batch's rows are read from
the dataset's arrays (cast once, taken, placed on the device) is
:mod:`pylearn_vae.utils.source_arrays`.
"""

import math

import numpy

from pylearn_vae.utils.rng import make_np_rng
from pylearn_vae.utils.source_arrays import (
    format_as,
    joined_rows,
    prepared_source,
    split_data_specs,
    take_rows,
    to_device,
)

__all__ = [
    "BatchwiseShuffledSequentialIterator",
    "EvenBatchwiseShuffledSequentialIterator",
    "EvenSequentialSubsetIterator",
    "EvenShuffledSequentialSubsetIterator",
    "FiniteDatasetIterator",
    "RandomSliceSubsetIterator",
    "RandomUniformSubsetIterator",
    "SequentialSubsetIterator",
    "ShuffledSequentialSubsetIterator",
    "SubsetIterator",
    "has_uniform_batch_size",
    "is_stochastic",
    "joined_rows",
    "resolve_iterator_class",
]

_default_seed = (17, 2, 946)
_RNG_METHODS = ["randint", "shuffle"]


def _check_count(value, name, minimum):
    """``value`` as an int ``>= minimum`` (integral floats from YAML are accepted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, numpy.number)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value != int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class SubsetIterator:
    """Abstract base: yields the rows of each batch of a dataset of ``dataset_size`` rows.

    Parameters
    ----------
    dataset_size : int
    batch_size : int or None
    num_batches : int or None
    rng : numpy.random.RandomState, seed or None
        Only for stochastic iterators; None means the module's default seed.

    Attributes
    ----------
    batch_size, num_batches, num_examples : int
        ``num_examples`` is the number of rows one pass visits.
    uneven : bool
        True when the last batch is shorter than ``batch_size``.
    stochastic, fancy, uniform_batch_size : bool
        Class attributes: random order; integer-array (not slice) indices; every
        batch exactly ``batch_size`` rows.
    """

    stochastic = False
    fancy = False
    uniform_batch_size = False

    def __iter__(self):
        return self

    def __next__(self):
        raise NotImplementedError

    next = __next__

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def num_batches(self):
        return self._num_batches

    @property
    def num_examples(self):
        return self._batch_size * self._num_batches

    @property
    def uneven(self):
        return False


class _ChunkIterator(SubsetIterator):
    """Abstract: the rows cut into consecutive chunks of ``batch_size``, visited in turn.

    ``num_batches`` defaults to ``ceil(N / batch_size)`` (``floor`` when ``_even``, which
    drops the short chunk); ``batch_size`` defaults to ``ceil(N / num_batches)``. The
    counts are ints (Pylearn2 kept a float ``num_batches``: docs/quirks.md#quirk-30).
    """

    _even = False

    def __init__(self, dataset_size, batch_size=None, num_batches=None, rng=None):
        n = self._dataset_size = _check_count(dataset_size, "dataset_size", 0)
        if batch_size is None:
            if num_batches is None:
                raise ValueError(
                    "need one of batch_size, num_batches for sequential batch iteration"
                )
            num_batches = _check_count(num_batches, "num_batches", 1)
            batch_size = max(1, math.ceil(n / num_batches))
        batch_size = _check_count(batch_size, "batch_size", 1)
        max_batches = math.ceil(n / batch_size)
        if num_batches is None:
            num_batches = max_batches
        num_batches = _check_count(num_batches, "num_batches", 0)
        if num_batches > max_batches:
            raise ValueError(
                f"dataset of {n} examples can only provide {max_batches} batches with "
                f"batch_size {batch_size}, but {num_batches} batches were requested"
            )
        if self._even:
            num_batches = min(num_batches, n // batch_size)
            if num_batches == 0 and n > 0:
                raise ValueError(
                    f"even iteration drops short batches, and a dataset of {n} examples has "
                    f"no full batch of batch_size {batch_size}: lower batch_size"
                )
        self._batch_size = batch_size
        self._num_batches = num_batches
        self._next_batch_no = 0
        self._setup(rng)

    def _setup(self, rng):
        raise NotImplementedError

    def _chunk(self, k):
        """The ``slice`` of rows of chunk ``k``, short at the end of the dataset."""
        start = k * self._batch_size
        return slice(start, min(start + self._batch_size, self._dataset_size))

    def __next__(self):
        if self._next_batch_no >= self._num_batches:
            raise StopIteration
        batch = self._batch(self._next_batch_no)
        self._next_batch_no += 1
        return batch

    next = __next__

    @property
    def num_examples(self):
        return min(self._batch_size * self._num_batches, self._dataset_size)

    @property
    def uneven(self):
        return self._batch_size * self._num_batches > self._dataset_size


class SequentialSubsetIterator(_ChunkIterator):
    """Slices of ``batch_size`` rows in order; the last may be short. ``rng`` must be None."""

    def _setup(self, rng):
        if rng is not None:
            raise ValueError("non-None rng argument not supported for sequential batch iteration")

    def _batch(self, k):
        return self._chunk(k)


class ShuffledSequentialSubsetIterator(_ChunkIterator):
    """Consecutive chunks of a permutation of the rows drawn once, at construction."""

    stochastic = True
    fancy = True

    def _setup(self, rng):
        self._rng = make_np_rng(rng, _default_seed, which_method=_RNG_METHODS)
        self._shuffled = numpy.arange(self._dataset_size)
        self._rng.shuffle(self._shuffled)

    def _batch(self, k):
        return self._shuffled[self._chunk(k)]


class BatchwiseShuffledSequentialIterator(_ChunkIterator):
    """The sequential slices, visited in an order shuffled at construction."""

    stochastic = True

    def _setup(self, rng):
        self._rng = make_np_rng(rng, _default_seed, which_method=_RNG_METHODS)
        self._batch_order = numpy.arange(self._num_batches)
        self._rng.shuffle(self._batch_order)

    def _batch(self, k):
        return self._chunk(int(self._batch_order[k]))


class EvenSequentialSubsetIterator(SequentialSubsetIterator):
    """``sequential`` without the short last batch."""

    _even = True
    uniform_batch_size = True


class EvenShuffledSequentialSubsetIterator(ShuffledSequentialSubsetIterator):
    """``shuffled_sequential`` without the short last batch."""

    _even = True
    uniform_batch_size = True


class EvenBatchwiseShuffledSequentialIterator(BatchwiseShuffledSequentialIterator):
    """``batchwise_shuffled_sequential`` without the short last batch."""

    _even = True
    uniform_batch_size = True


class RandomUniformSubsetIterator(SubsetIterator):
    """``num_batches`` batches of ``batch_size`` rows drawn uniformly with replacement.

    Draws ``rng.randint(0, N, batch_size)``: the same law as Pylearn2's
    ``random_integers(0, N - 1, batch_size)``, which NumPy no longer offers.
    """

    stochastic = True
    fancy = True
    uniform_batch_size = True
    _mode = "random uniform"

    def __init__(self, dataset_size, batch_size=None, num_batches=None, rng=None):
        self._dataset_size = _check_count(dataset_size, "dataset_size", 0)
        if batch_size is None:
            raise ValueError(f"batch_size cannot be None for {self._mode} iteration")
        if num_batches is None:
            raise ValueError(f"num_batches cannot be None for {self._mode} iteration")
        self._batch_size = _check_count(batch_size, "batch_size", 1)
        self._num_batches = _check_count(num_batches, "num_batches", 0)
        if self._batch_size > self._dataset_size:
            raise ValueError(
                f"batch_size {self._batch_size} > dataset_size {self._dataset_size} is not "
                f"supported for {self._mode} iteration"
            )
        self._rng = make_np_rng(rng, _default_seed, which_method=_RNG_METHODS)
        self._next_batch_no = 0

    def __next__(self):
        if self._next_batch_no >= self._num_batches:
            raise StopIteration
        self._next_batch_no += 1
        return self._draw()

    next = __next__

    def _draw(self):
        return self._rng.randint(0, self._dataset_size, self._batch_size)


class RandomSliceSubsetIterator(RandomUniformSubsetIterator):
    """``num_batches`` contiguous slices of ``batch_size`` rows from random starts."""

    fancy = False
    _mode = "random slice"

    def _draw(self):
        start = int(self._rng.randint(0, self._dataset_size - self._batch_size + 1))
        return slice(start, start + self._batch_size)


_iteration_schemes = {
    "sequential": SequentialSubsetIterator,
    "shuffled_sequential": ShuffledSequentialSubsetIterator,
    "random_slice": RandomSliceSubsetIterator,
    "random_uniform": RandomUniformSubsetIterator,
    "batchwise_shuffled_sequential": BatchwiseShuffledSequentialIterator,
    "even_sequential": EvenSequentialSubsetIterator,
    "even_shuffled_sequential": EvenShuffledSequentialSubsetIterator,
    "even_batchwise_shuffled_sequential": EvenBatchwiseShuffledSequentialIterator,
}


def resolve_iterator_class(mode):
    """The subset iterator class of a mode name (a class is returned as is)."""
    if isinstance(mode, str):
        if mode not in _iteration_schemes:
            raise ValueError(
                f"unknown iteration mode string: {mode} "
                f"(known modes: {', '.join(sorted(_iteration_schemes))})"
            )
        return _iteration_schemes[mode]
    if isinstance(mode, type) and issubclass(mode, SubsetIterator):
        return mode
    raise TypeError(f"an iteration mode is a mode string or a SubsetIterator class, got {mode!r}")


def is_stochastic(mode):
    """Whether the mode visits the rows in a random order."""
    return resolve_iterator_class(mode).stochastic


def has_uniform_batch_size(mode):
    """Whether every batch of the mode has exactly ``batch_size`` rows."""
    return resolve_iterator_class(mode).uniform_batch_size


class FiniteDatasetIterator:
    """Batches of a dataset in the spaces of ``data_specs``, on the current device.

    Each batch is the rows a subset iterator names, converted by the dataset space's
    ``np_format_as`` into the requested space (so features come out in floatX), then
    moved by :func:`pylearn_vae.backend.asarray` (one transfer per source and batch;
    none on the CPU). Sources are cast to the requested float dtype once, not per batch.

    Batches are read-only: on the CPU a sequential batch is a view of the dataset.
    Every source, targets included, is placed on the device, keeping its dtype.

    Parameters
    ----------
    dataset : Dataset
        Provides ``get_data()`` and ``get_data_specs()``.
    subset_iterator : SubsetIterator
    data_specs : (Space, str or tuple of str), optional
        Spaces and source names to yield; the dataset's own by default.
    return_tuple : bool
        Yield a 1-tuple (not the bare array) when one source is asked for.
    convert : list of callables or None, optional
        Per source, a function applied to the raw rows instead of ``np_format_as``.
    """

    def __init__(
        self, dataset, subset_iterator, data_specs=None, return_tuple=False, convert=None
    ):
        self._dataset = dataset
        self._subset_iterator = subset_iterator
        self._return_tuple = return_tuple
        data_specs = dataset.get_data_specs() if data_specs is None else data_specs
        spaces, sources = split_data_specs(data_specs)
        dataset_spaces, dataset_sources = split_data_specs(dataset.get_data_specs())
        all_data = dataset.get_data()
        if not isinstance(all_data, tuple):
            all_data = (all_data,)
        if convert is None:
            convert = [None] * len(sources)
        if len(convert) != len(sources):
            raise ValueError(f"convert has {len(convert)} entries for {len(sources)} sources")
        self._data_specs = data_specs
        self._raw_data, self._convert = [], []
        for source, space, fn in zip(sources, spaces, convert, strict=True):
            if source not in dataset_sources:
                raise ValueError(
                    f"{type(dataset).__name__} has no source {source!r}: it provides "
                    f"{dataset_sources}"
                )
            i = dataset_sources.index(source)
            data, data_space = all_data[i], dataset_spaces[i]
            if fn is None:
                data = prepared_source(dataset, source, data, data_space, space)
                fn = format_as(data_space, space)
            self._raw_data.append(data)
            self._convert.append(fn)

    def __iter__(self):
        return self

    def __next__(self):
        index = next(self._subset_iterator)
        batch = tuple(
            to_device(fn(take_rows(data, index)))
            for data, fn in zip(self._raw_data, self._convert, strict=True)
        )
        if len(batch) == 1 and not self._return_tuple:
            return batch[0]
        return batch

    next = __next__

    @property
    def batch_size(self):
        return self._subset_iterator.batch_size

    @property
    def num_batches(self):
        return self._subset_iterator.num_batches

    @property
    def num_examples(self):
        return self._subset_iterator.num_examples

    @property
    def uneven(self):
        return self._subset_iterator.uneven

    @property
    def stochastic(self):
        return self._subset_iterator.stochastic
