"""One monitoring pass over a dataset: what its channels share and how they are averaged.

The :class:`~pylearn_vae.monitor.Monitor` evaluates every channel of a dataset on each
batch of one pass. Three things here keep that pass cheap:

- :class:`BatchSharing` holds what the channels of one batch share: the model's
  ``get_monitoring_shared`` values (a VAE's encode/decode pass), computed for a group of
  batches of about :data:`GROUP_ROWS` rows at once, and one :class:`PerBatch` cache per
  cost and for the model, so that a cost's ``get_monitoring_values`` (all its channels
  in one dict) runs once per batch however many of its channels there are;
- :class:`WeightedMeans` keeps each batch's values on the device and reads them all back
  with one transfer (``backend.scalars_to_host``) when the pass is done;
- :func:`evaluate_batches` runs the pass over one dataset's iterator.
"""

import contextlib

import numpy

from pylearn_vae import backend
from pylearn_vae.utils.data_specs import flatten_data_specs, nest_batch

__all__ = [
    "GROUP_ROWS",
    "BatchSharing",
    "PerBatch",
    "WeightedMeans",
    "batch_groups",
    "check_scalar",
    "evaluate_batches",
]

#: Rows of the batches the monitor hands a model's ``get_monitoring_shared`` together (a
#: VAE computes their encode/decode pass as one batch): five batches of 200.
GROUP_ROWS = 1000


def check_scalar(value, name):
    """``value`` itself, after checking that it is a scalar (read on the device: no sync)."""
    shape = numpy.shape(value)  # an array's own .shape: no copy from the device
    if shape != ():
        raise ValueError(
            f"monitoring channel {name!r} must give a 0-d scalar, got an array of shape "
            f"{tuple(shape)}: reduce it (e.g. .mean()) in the channel"
        )
    return value


class WeightedMeans:
    """Example-weighted means of channel values, read back from the device once.

    Each batch's values stay where they were computed; :meth:`means` turns all of them
    into Python floats with one device-to-host transfer (``backend.scalars_to_host``),
    instead of one synchronisation per channel per batch, then sums them in float64 in
    the order they came.
    """

    def __init__(self):
        self._names, self._values, self._weights = [], [], []

    def add(self, name, value, weight=1.0):
        value = check_scalar(value, name)
        if backend.get_array_module(value) is numpy:
            value = float(value)  # on the host already: read now, costs no sync
        self._names.append(name)
        self._values.append(value)
        self._weights.append(weight)

    def means(self, names):
        """``{name: sum of weight * value}`` for ``names`` (0.0 for one never added)."""
        totals = dict.fromkeys(names, 0.0)
        floats = backend.scalars_to_host(self._values)
        for name, number, weight in zip(self._names, floats, self._weights, strict=True):
            totals[name] += number * weight
        return totals


class PerBatch:
    """Computes a dict of channel values once per batch; channels read its entries.

    A cost's ``get_monitoring_channels`` returns all its channels at once; each of
    them is a channel of the monitor, and this cache makes one call serve them all.
    """

    _EMPTY = object()

    def __init__(self, compute):
        self.compute = compute
        self.clear()

    def clear(self):
        self._data = self._EMPTY
        self._values = None

    def __call__(self, data):
        if data is not self._data:
            self._values = self.compute(data)
            self._data = data
        return self._values

    def entry(self, key):
        """``val(data)``: the value ``key`` of this batch's dict."""

        def val(data):
            return self(data)[key]

        return val


class BatchSharing:
    """What the channels of the current batch share: the model's pass and the costs' dicts.

    Parameters
    ----------
    model_specs : (Space, source), optional
        The model's ``get_monitoring_data_specs()``: the data its
        ``get_monitoring_shared`` takes (None until :meth:`add_costs`).

    Attributes
    ----------
    caches : list of PerBatch
        One per monitored cost and one per model, cleared between batches.
    costs : list of Cost
        The costs the model's shared values are computed for.
    model_specs : (Space, source) or None
    current : dict
        The model's shared values for the batch being evaluated (empty between batches).
    """

    def __init__(self, model_specs=None):
        self.caches = []
        self.costs = []
        self.model_specs = model_specs
        self.current = {}

    def add_costs(self, model, costs, model_specs, cost_monitoring_args):
        """A :class:`PerBatch` per cost of ``costs`` (in order) and one for the model.

        Each cost's cache holds ``cost.get_monitoring_values(model, data, shared,
        cost_monitoring_args)`` (its objective first), the model's holds
        ``model.get_monitoring_channels(data, **shared)``, ``shared`` being
        :attr:`current`. ``model_specs`` is the model's ``get_monitoring_data_specs()``.

        Returns
        -------
        list of PerBatch
            ``len(costs) + 1`` caches, the model's last.
        """
        caches = []
        for cost in costs:

            def compute(data, cost=cost):
                return cost.get_monitoring_values(model, data, self.current, cost_monitoring_args)

            caches.append(PerBatch(compute))
        caches.append(PerBatch(lambda data: model.get_monitoring_channels(data, **self.current)))
        self.caches.extend(caches)
        self.costs = list(costs)
        self.model_specs = model_specs
        return caches

    def clear(self):
        """Forget every cache's batch."""
        for cache in self.caches:
            cache.clear()

    @contextlib.contextmanager
    def sharing(self, shared):
        """:attr:`current` is ``shared`` inside the ``with`` block, empty after it."""
        self.current = shared
        try:
            yield
        finally:
            self.current = {}

    def model_structure(self, union):
        """Where the model's monitoring data sits in ``union``, or None (not there)."""
        if self.model_specs is None:
            return None
        extended = list(union)
        structure = flatten_data_specs(self.model_specs, extended)[0]
        return None if len(extended) != len(union) else structure

    def shared_values(self, model, group, model_structure):
        """Per batch of ``group`` (flat tuples), the model's shared values for it."""
        if model_structure is None:
            return [{} for _ in group]
        return model.get_monitoring_shared(
            [nest_batch(model_structure, flat) for flat in group], self.costs
        )


def batch_groups(iterator, rows):
    """Lists of consecutive batches (flat tuples) of about ``rows`` rows in all."""
    group, count = [], 0
    for flat in iterator:
        group.append(flat)
        count += flat[0].shape[0]
        if count >= rows:
            yield group
            group, count = [], 0
    if group:
        yield group


def evaluate_batches(model, iterator, entries, model_structure, sharing, sums, label):
    """Add each channel's per-batch values over one pass of ``iterator`` to ``sums``.

    Parameters
    ----------
    model : Model
    iterator : FiniteDatasetIterator
        Yields flat tuples of the union of the channels' data specs.
    entries : list of (MonitorChannel, structure)
        The channels that read data and where their batch sits in the flat tuple.
    model_structure : structure or None
        Where the model's monitoring data sits (None: the model shares nothing).
    sharing : BatchSharing
    sums : WeightedMeans
        Receives ``channel.val(batch)`` weighted by the batch's share of the examples.
    label : str
        Names the dataset in the error raised when the iterator gives fewer or more
        examples than it said.
    """
    expected = iterator.num_examples
    seen = 0
    for group in batch_groups(iterator, GROUP_ROWS):
        data = [
            {s: nest_batch(s, flat) for s in dict.fromkeys(s for _, s in entries)}
            for flat in group
        ]
        # What the model shares among a batch's channels (a VAE's encode/decode pass,
        # computed for the whole group at once), handed to each batch's.
        shared = sharing.shared_values(model, group, model_structure)
        for flat, batches, batch_shared in zip(group, data, shared, strict=True):
            with sharing.sharing(batch_shared):
                n = flat[0].shape[0]
                sharing.clear()
                for channel, structure in entries:
                    for prereq in channel.prereqs:
                        prereq(batches[structure])
                    sums.add(channel.name, channel.val(batches[structure]), n / expected)
                seen += n
    sharing.clear()
    if seen != expected:
        raise RuntimeError(
            f"the monitoring iterator of {label} said it had {expected} examples but gave {seen}"
        )
