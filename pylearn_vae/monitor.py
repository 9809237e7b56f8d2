"""The monitor: channels of scalars averaged over monitoring datasets (``pylearn2/monitor.py``).

A :class:`Monitor` is attached to a model (``model.monitor``). It holds *channels*:
named scalars, each tied to one monitoring dataset. Calling the monitor iterates over
every dataset once, evaluates each channel on each batch and records the
example-weighted mean of the per-batch values, then logs::

    Monitoring step:
    \\tEpochs seen: 1
    \\tBatches seen: 250
    \\tExamples seen: 25000
    \\t<channel>: <value>

Channels are eager: a channel holds a callable ``val(batch)`` that returns a scalar
for one batch of its ``data_specs`` (or ``val()`` for a data-free channel, whose
``data_specs`` space is a :class:`~pylearn_vae.space.NullSpace`; a :class:`Param` is
accepted too and read with ``get_value``). Values stay on their device until
the pass over every dataset is done, then come back to the host together
(``backend.scalars_to_host``: one synchronisation per monitoring step on a GPU);
nothing here is differentiated.

Batches of several channels are read from one iterator per dataset whose data specs
are the union of the channels' ``(space, source)`` leaves; :mod:`pylearn_vae.utils.data_specs`
does that bookkeeping (Pylearn2's ``DataSpecsMapping``).
"""

import logging
import re
import time
from collections import OrderedDict

import numpy

from pylearn_vae import backend
from pylearn_vae.space import NullSpace
from pylearn_vae.utils.data_specs import flatten_data_specs, nest_batch, union_data_specs
from pylearn_vae.utils.iteration import is_stochastic
from pylearn_vae.utils.rng import make_np_rng
from pylearn_vae.utils.validation import reject_ignored_option

__all__ = [
    "Monitor",
    "MonitorChannel",
    "number_aware_alphabetical_key",
    "read_channel",
]

log = logging.getLogger(__name__)

# The seed every stochastic monitoring pass starts from, so each pass sees the same batches.
MONITOR_SEED = (2013, 2, 22)

_RECORD_FIELDS = (
    "doc",
    "example_record",
    "batch_record",
    "time_record",
    "epoch_record",
    "val_record",
)


# -- channels ------------------------------------------------------------------------------


class MonitorChannel:
    """One monitored scalar and its history.

    Parameters
    ----------
    val : callable
        ``val(batch) -> scalar``, or ``val() -> scalar`` for a data-free channel.
    name : str
    data_specs : (Space, source)
    dataset : Dataset
    prereqs : list of callables, optional
        Each called with the batch before any channel of that batch is evaluated.
    doc : str, optional

    Only the records and ``doc`` are pickled: an unpickled channel is a history.
    """

    def __init__(self, val, name, data_specs, dataset, prereqs=None, doc=None):
        self.val = val
        self.name = name
        self.data_specs = data_specs
        self.dataset = dataset
        self.prereqs = list(prereqs or [])
        self.doc = doc
        self.data_free = isinstance(data_specs[0], NullSpace)
        self.example_record = []
        self.batch_record = []
        self.time_record = []
        self.epoch_record = []
        self.val_record = []

    def __getstate__(self):
        return {field: getattr(self, field, None) for field in _RECORD_FIELDS}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        return f"MonitorChannel({self.name!r}, last={self.val_record[-1:]})"


def _check_scalar(value, name):
    """``value`` itself, after checking that it is a scalar (read on the device: no sync)."""
    shape = numpy.shape(value)  # an array's own .shape: no copy from the device
    if shape != ():
        raise ValueError(
            f"monitoring channel {name!r} must give a 0-d scalar, got an array of shape "
            f"{tuple(shape)}: reduce it (e.g. .mean()) in the channel"
        )
    return value


class _WeightedMeans:
    """Example-weighted means of channel values, read back from the device once.

    Each batch's values stay where they were computed; :meth:`means` turns all of them
    into Python floats with one device-to-host transfer (``backend.scalars_to_host``),
    instead of one synchronisation per channel per batch, then sums them in float64 in
    the order they came.
    """

    def __init__(self):
        self._names, self._values, self._weights = [], [], []

    def add(self, name, value, weight=1.0):
        value = _check_scalar(value, name)
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


class _PerBatch:
    """Computes a dict of channel values once per batch; channels read its entries.

    A cost's ``get_monitoring_channels`` returns all its channels at once; each of
    them is a channel here, and this cache makes one call serve them all.
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
        def val(data):
            return self(data)[key]

        return val


#: Rows of the batches the monitor hands a model's ``get_monitoring_shared`` together (a
#: VAE computes their encode/decode pass as one batch): five batches of 200.
GROUP_ROWS = 1000


def _groups(iterator, rows):
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


# -- ordering and formatting ------------------------------------------------------------------

_DIGITS = re.compile(r"(\d+)")


def number_aware_alphabetical_key(name):
    """Sort key comparing digit runs as numbers, before letters (``l2`` < ``l10`` < ``la``)."""
    return tuple(
        (0, int(token), "") if token.isdigit() else (1, 0, token)
        for token in _DIGITS.split(name)
        if token
    )


def _format_value(value):
    """``str`` of the value as a floatX scalar (``0.05``, not ``0.05000000074505806``)."""
    return str(backend.cast_floatX(value)) if abs(value) < 1e4 else f"{value:.3e}"


def read_channel(model, channel_name, monitor_name="monitor"):
    """The last recorded value of a channel of ``model``'s monitor."""
    return getattr(model, monitor_name).channels[channel_name].val_record[-1]


# -- the monitor -------------------------------------------------------------------------------


class Monitor:
    """Channels of a model, evaluated over monitoring datasets.

    Parameters
    ----------
    model : Model
    """

    def __init__(self, model):
        self.model = model
        self.channels = OrderedDict()
        self._num_batches_seen = 0
        self._examples_seen = 0
        self._epochs_seen = 0
        self._datasets = []
        self._iteration_mode = []
        self._batch_size = []
        self._num_batches = []
        self._rng_seed = []
        self._plans = None
        self._batch_caches = []
        self._shared = {}  # what the model shares among the current batch's channels
        self._monitored_costs = []
        self._model_specs = None
        self.t0 = time.time()
        self.training_succeeded = False
        self.time_budget_exceeded = False
        self.on_channel_conflict = "error"

    @classmethod
    def get_monitor(cls, model):
        """``model.monitor``, created and attached if the model has none."""
        monitor = getattr(model, "monitor", None)
        if monitor is None:
            monitor = cls(model)
            model.monitor = monitor
        return monitor

    # -- counters ------------------------------------------------------------------------
    def report_batch(self, num_examples):
        """Count one training batch of ``num_examples`` examples."""
        self._num_batches_seen += 1
        self._examples_seen += int(num_examples)

    def report_epoch(self):
        """Count one training epoch."""
        self._epochs_seen += 1

    def get_batches_seen(self):
        return self._num_batches_seen

    @property
    def datasets(self):
        """The monitored datasets, in the order they were added (a tuple)."""
        return tuple(self._datasets)

    def get_examples_seen(self):
        return self._examples_seen

    def get_epochs_seen(self):
        return self._epochs_seen

    # -- datasets and channels ---------------------------------------------------------------
    def add_dataset(
        self, dataset, mode="sequential", batch_size=None, num_batches=None, seed=None
    ):
        """Monitor ``dataset`` (or a list of them) with the given iteration parameters.

        Raises
        ------
        ValueError
            The iteration parameters do not fit the dataset.
        TypeError
            A stochastic mode without an int/list/tuple seed.
        """
        if isinstance(dataset, list):
            n = len(dataset)
            args = [mode, batch_size, num_batches, seed]
            for i, arg in enumerate(args):
                if not isinstance(arg, list):
                    args[i] = [arg] * n
                elif len(arg) != n:
                    raise ValueError(
                        f"add_dataset got {n} datasets but {len(arg)} values of {arg}"
                    )
            for d, m, b, nb, sd in zip(dataset, *args, strict=True):
                self.add_dataset(d, m, b, nb, sd)
            return
        stochastic = is_stochastic(mode)
        if stochastic:
            if seed is None:
                raise TypeError("Monitor requires a seed when using stochastic iteration modes.")
            if not isinstance(seed, (list, tuple, int)):
                raise TypeError(
                    "Monitor requires a seed (an int, list or tuple, not a random number "
                    f"generator) when using stochastic iteration modes; got {type(seed).__name__}"
                )
        elif seed is not None:
            raise ValueError(f"a seed ({seed!r}) was given for the non-stochastic mode {mode!r}")
        try:
            dataset.iterator(
                mode=mode,
                batch_size=batch_size,
                num_batches=num_batches,
                rng=make_np_rng(seed) if stochastic else None,
            )
        except ValueError as exc:
            raise ValueError(
                f"invalid iteration parameters in Monitor.add_dataset: {exc}"
            ) from exc
        if any(d is dataset for d in self._datasets):
            return
        self._datasets.append(dataset)
        self._iteration_mode.append(mode)
        self._batch_size.append(batch_size)
        self._num_batches.append(num_batches)
        self._rng_seed.append(seed)
        self._plans = None

    def _dataset_index(self, dataset):
        for i, d in enumerate(self._datasets):
            if d is dataset:
                return i
        return None

    def add_channel(self, name, ipt, val, dataset=None, prereqs=None, data_specs=None):
        """Add the channel ``name``.

        Parameters
        ----------
        name : str
        ipt : None
            Pylearn2's symbolic input; only None is accepted (``val`` takes its batch
            as ``data_specs`` says; ``docs/quirks.md``).
        val : callable, Param or number
            ``val(batch)`` (``val()`` when data-free) giving a 0-d scalar.
        dataset : Dataset, optional
            Needed when the monitor has several datasets.
        prereqs : list of callables, optional
        data_specs : (Space, source), optional
            What ``val`` takes; data-free ``(NullSpace(), '')`` when None.
        """
        reject_ignored_option(
            "Monitor.add_channel", "ipt", ipt, None,
            "is Pylearn2's symbolic input, and a channel's val takes its batch as "
            "data_specs says",
        )
        if data_specs is None:
            data_specs = (NullSpace(), "")
        if dataset is None:
            if len(self._datasets) == 1:
                dataset = self._datasets[0]
            elif not self._datasets:
                raise ValueError(
                    f"You tried to add a channel ({name}) to a Monitor that has no dataset."
                )
            else:
                raise ValueError(
                    f"You added a channel ({name}) to a Monitor that has multiple datasets, "
                    "and did not specify which dataset to use it with."
                )
        if self._dataset_index(dataset) is None:
            raise ValueError(
                f"The dataset specified for channel {name} is not one of the monitor's "
                "datasets: add it with add_dataset first"
            )
        if self.on_channel_conflict not in ("error", "copy_history", "overwrite"):
            raise ValueError(
                "on_channel_conflict should be either 'error', 'copy_history', or 'overwrite'"
            )
        old = self.channels.get(name)
        # A channel unpickled with the model is a history only (no val): the new channel
        # takes it over, so a saved model trained further (model: !pkl: ...) continues
        # its curves. Pylearn2 raised here.
        continued = old is not None and not hasattr(old, "val")
        if old is not None and not continued and self.on_channel_conflict == "error":
            raise ValueError(f"Tried to create the same channel twice ({name})")
        doc = None
        if hasattr(val, "get_value"):
            param = val
            doc = getattr(param, "doc", None)

            def val():
                return param.get_value(borrow=True)

        elif not callable(val):
            constant = val

            def val():
                return constant

        else:
            doc = getattr(val, "__doc__", None)
        channel = MonitorChannel(val, name, data_specs, dataset, prereqs, doc)
        if channel.data_free:
            backend.scalars_to_host([_check_scalar(val(), name)])  # fail now, not later
        if old is not None and (continued or self.on_channel_conflict == "copy_history"):
            for field in _RECORD_FIELDS[1:]:
                setattr(channel, field, list(getattr(old, field)))
        self.channels[name] = channel
        self._plans = None

    def setup(
        self,
        dataset,
        cost,
        batch_size,
        num_batches=None,
        extra_costs=None,
        mode="sequential",
        obj_prereqs=None,
        cost_monitoring_args=None,
    ):
        """Add the channels of ``cost`` (and ``extra_costs``) and of the model.

        Per dataset name ``d`` (``''`` for a bare dataset) the channels are
        ``<d>_objective``, ``<d>_<extra cost name>``, ``<d>_<cost channel>`` (extra
        costs' channels prefixed by their name) and ``<d>_<model channel>``.

        ``extra_costs`` is not modified (Pylearn2 added ``''`` to the caller's dict).
        The channel names of ``cost.get_monitoring_channels`` and
        ``model.get_monitoring_channels`` are read from one small probe batch of the
        first dataset (of ``model.test_batch_size`` examples).
        """
        if dataset is None:
            return
        if not isinstance(dataset, dict):
            dataset = {"": dataset}
        costs = dict(extra_costs or {})
        if "" in costs:
            raise ValueError("extra_costs may not use the name '' (that is the main cost)")
        costs[""] = cost
        cost_monitoring_args = dict(cost_monitoring_args or {})
        cost_names = sorted(costs)
        model = self.model

        specs = [costs[c].get_data_specs(model) for c in cost_names]
        specs.append(model.get_monitoring_data_specs())
        union = []
        structures = [flatten_data_specs(s, union)[0] for s in specs]

        # One cache per cost (its objective and channels) and one for the model, so a
        # batch computes each dict once; each reads what the model shares among the
        # batch's channels (self._shared).
        caches = []
        for c in cost_names:

            def compute(data, cost=costs[c]):
                return cost.get_monitoring_values(
                    model, data, self._shared, cost_monitoring_args
                )

            caches.append(_PerBatch(compute))
        caches.append(_PerBatch(lambda data: model.get_monitoring_channels(data, **self._shared)))
        self._batch_caches.extend(caches)
        self._monitored_costs = [costs[c] for c in cost_names]
        self._model_specs = specs[-1]

        first = next(iter(dataset.values()))
        probe = self._probe(first, union, structures)
        custom = OrderedDict()  # name -> (val, data_specs)
        if probe[-1] is not None:  # the probe draws no training noise, as a monitoring round
            self._shared = model.get_monitoring_shared([probe[-1]], self._monitored_costs)[0]
        try:
            for i, c in enumerate(cost_names):
                prefix = "" if c == "" else c + "_"
                for key in list(caches[i](probe[i]))[1:]:  # the first is the objective
                    custom[prefix + key] = (caches[i].entry(key), specs[i])
            for key in caches[-1](probe[-1]):
                custom[key] = (caches[-1].entry(key), specs[-1])
        finally:
            self._shared = {}
        for cache in caches:
            cache.clear()

        seed = list(MONITOR_SEED) if is_stochastic(mode) else None
        for dataset_name, cur_dataset in dataset.items():
            self.add_dataset(cur_dataset, mode, batch_size, num_batches, seed)
            dprefix = "" if dataset_name == "" else dataset_name + "_"
            for i, c in enumerate(cost_names):
                name = dprefix + ("objective" if c == "" else c)
                prereqs = obj_prereqs if c == "" else None
                objective = caches[i].entry("objective")
                self.add_channel(name, None, objective, cur_dataset, prereqs, specs[i])
            for key, (val, data_specs) in custom.items():
                self.add_channel(dprefix + key, None, val, cur_dataset, data_specs=data_specs)

    def _probe(self, dataset, union, structures):
        """One small sequential batch per data specs, to learn the channel names."""
        if not union:
            return [None] * len(structures)
        size = min(int(getattr(self.model, "test_batch_size", 2)), dataset.get_num_examples())
        iterator = dataset.iterator(
            mode="sequential",
            batch_size=size,
            num_batches=1,
            data_specs=union_data_specs(union),
            return_tuple=True,
        )
        flat = next(iter(iterator))
        return [nest_batch(s, flat) for s in structures]

    # -- evaluation --------------------------------------------------------------------------
    def _build_plans(self):
        """Per dataset: its channels, the union of their specs, where each sits, and
        where the model's monitoring data sits (None when no channel reads it)."""
        plans = []
        for d in self._datasets:
            union, entries = [], []
            for channel in self.channels.values():
                if not hasattr(channel, "val") or channel.dataset is not d:
                    continue
                structure = flatten_data_specs(channel.data_specs, union)[0]
                entries.append((channel, structure))
            plans.append((union, entries, self._model_structure(union)))
        self._plans = plans
        return plans

    def _model_structure(self, union):
        """Where the model's monitoring data sits in ``union``, or None."""
        specs = getattr(self, "_model_specs", None)
        if specs is None:
            return None
        extended = list(union)
        structure = flatten_data_specs(specs, extended)[0]
        return None if len(extended) != len(union) else structure

    def _evaluate_dataset(self, i, union, entries, model_structure, sums):
        """Adds each channel's per-batch values over one pass of dataset ``i`` to ``sums``."""
        dataset = self._datasets[i]
        data_free = [(c, s) for c, s in entries if s is None]
        with_data = [(c, s) for c, s in entries if s is not None]
        # A data-free value is the same for every batch, so its weighted mean is itself.
        for channel, _ in data_free:
            for prereq in channel.prereqs:
                prereq()
            sums.add(channel.name, channel.val())
        if not with_data:
            return
        seed = self._rng_seed[i]
        iterator = dataset.iterator(
            mode=self._iteration_mode[i],
            batch_size=self._batch_size[i],
            num_batches=self._num_batches[i],
            data_specs=union_data_specs(union),
            return_tuple=True,
            rng=None if seed is None else make_np_rng(seed),
        )
        expected = iterator.num_examples
        seen = 0
        for group in _groups(iterator, GROUP_ROWS):
            data = [
                {s: nest_batch(s, flat) for s in dict.fromkeys(s for _, s in with_data)}
                for flat in group
            ]
            # What the model shares among a batch's channels (a VAE's encode/decode
            # pass, computed for the whole group at once), handed to each batch's.
            shared = [{} for _ in group]
            if model_structure is not None:
                shared = self.model.get_monitoring_shared(
                    [nest_batch(model_structure, flat) for flat in group], self._monitored_costs
                )
            try:
                for flat, batches, batch_shared in zip(group, data, shared, strict=True):
                    self._shared = batch_shared
                    n = flat[0].shape[0]
                    for cache in self._batch_caches:
                        cache.clear()
                    for channel, structure in with_data:
                        for prereq in channel.prereqs:
                            prereq(batches[structure])
                        sums.add(channel.name, channel.val(batches[structure]), n / expected)
                    seen += n
            finally:
                self._shared = {}
        for cache in self._batch_caches:
            cache.clear()
        if seen != expected:
            raise RuntimeError(
                f"the monitoring iterator of dataset {i} said it had {expected} examples "
                f"but gave {seen}"
            )

    def __call__(self):
        """Evaluate every channel on its dataset, record the values and log them."""
        plans = self._plans if self._plans is not None else self._build_plans()
        sums = _WeightedMeans()
        for i, (union, entries, model_structure) in enumerate(plans):
            self._evaluate_dataset(i, union, entries, model_structure, sums)
        # One device-to-host transfer for every channel of every dataset.
        values = sums.means(channel.name for _, entries, _ in plans for channel, _ in entries)
        log.info("Monitoring step:")
        log.info("\tEpochs seen: %d", self._epochs_seen)
        log.info("\tBatches seen: %d", self._num_batches_seen)
        log.info("\tExamples seen: %d", self._examples_seen)
        t = time.time() - self.t0
        for name in sorted(self.channels, key=number_aware_alphabetical_key):
            if name not in values:
                continue
            channel = self.channels[name]
            value = values[name]
            channel.time_record.append(t)
            channel.batch_record.append(self._num_batches_seen)
            channel.example_record.append(self._examples_seen)
            channel.epoch_record.append(self._epochs_seen)
            channel.val_record.append(value)
            log.info("\t%s: %s", name, _format_value(value))

    # -- checkpoints ------------------------------------------------------------------------------
    def get_state(self):
        """Counters, flags and every channel's history, as plain data (for a checkpoint)."""
        return {
            "batches_seen": self._num_batches_seen,
            "examples_seen": self._examples_seen,
            "epochs_seen": self._epochs_seen,
            "elapsed": time.time() - self.t0,
            "training_succeeded": bool(self.training_succeeded),
            "time_budget_exceeded": bool(self.time_budget_exceeded),
            "channels": {
                name: {field: list(getattr(channel, field)) for field in _RECORD_FIELDS[1:]}
                for name, channel in self.channels.items()
            },
        }

    def set_state(self, state):
        """Continue from :meth:`get_state`'s ``state``: the channels must be the same.

        The histories replace the channels' (nothing is appended twice) and the clock of
        ``time_record`` continues from the saved elapsed time.
        """
        saved = state["channels"]
        if set(saved) != set(self.channels):
            raise ValueError(
                "the monitor's channels differ from the checkpoint's (was the YAML file "
                f"changed?): only here {sorted(set(self.channels) - set(saved))}, only in "
                f"the checkpoint {sorted(set(saved) - set(self.channels))}"
            )
        self._num_batches_seen = state["batches_seen"]
        self._examples_seen = state["examples_seen"]
        self._epochs_seen = state["epochs_seen"]
        self.t0 = time.time() - state["elapsed"]
        self.training_succeeded = state["training_succeeded"]
        self.time_budget_exceeded = state["time_budget_exceeded"]
        for name, channel in self.channels.items():
            for field in _RECORD_FIELDS[1:]:
                setattr(channel, field, list(saved[name][field]))

    # -- pickling ---------------------------------------------------------------------------------
    def __getstate__(self):
        state = dict(self.__dict__)
        datasets = []
        for d in self._datasets:
            if isinstance(d, str):
                datasets.append(d)
            elif getattr(d, "yaml_src", None) is not None:
                datasets.append(d.yaml_src)
            else:
                log.warning(
                    "Pickling a Monitor whose dataset %s was not built from YAML: the "
                    "pickle cannot say which data it monitored.",
                    type(d).__name__,
                )
                datasets.append("")
        state["_datasets"] = datasets
        state["_plans"] = None
        state["_batch_caches"] = []
        state["_shared"] = {}
        state["_monitored_costs"] = []
        return state

    def __setstate__(self, state):
        state.setdefault("_shared", {})
        state.setdefault("_monitored_costs", [])
        state.setdefault("_model_specs", None)
        self.__dict__.update(state)
