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
does that bookkeeping (Pylearn2's ``DataSpecsMapping``). What the channels of a batch
share and how one pass averages them is :mod:`pylearn_vae.monitor_pass`.
"""

import logging
import time
from collections import OrderedDict

from pylearn_vae import backend
from pylearn_vae.monitor_channels import MONITOR_SEED, add_cost_channels, value_function
from pylearn_vae.monitor_pass import BatchSharing, WeightedMeans, check_scalar, evaluate_batches
from pylearn_vae.monitor_state import (
    RECORD_FIELDS,
    copy_history,
    dataset_sources,
    histories,
    restore_histories,
)
from pylearn_vae.space import NullSpace
from pylearn_vae.utils.data_specs import flatten_data_specs, union_data_specs
from pylearn_vae.utils.iteration import is_stochastic
from pylearn_vae.utils.rng import make_np_rng
from pylearn_vae.utils.string_utils import number_aware_alphabetical_key
from pylearn_vae.utils.validation import reject_ignored_option

__all__ = [
    "MONITOR_SEED",
    "Monitor",
    "MonitorChannel",
    "number_aware_alphabetical_key",
    "read_channel",
]

log = logging.getLogger(__name__)

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
        return {field: getattr(self, field, None) for field in RECORD_FIELDS}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        return f"MonitorChannel({self.name!r}, last={self.val_record[-1:]})"

    def lowest_index(self):
        """The index in ``val_record`` of the lowest value (the first of equals; NaNs
        skipped), or None when there is no number; ``epoch_record`` at it is its epoch."""
        values = [float(v) for v in self.val_record]
        finite = [i for i, v in enumerate(values) if v == v]
        return min(finite, key=values.__getitem__) if finite else None


# -- formatting -------------------------------------------------------------------------------


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
        self._sharing = BatchSharing()  # what the channels of the current batch share
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

    def iteration_parameters(self):
        """Per monitored dataset, in order: ``(dataset, mode, batch_size, num_batches,
        seed)`` as :meth:`add_dataset` was given them (a list of tuples)."""
        return list(
            zip(
                self._datasets,
                self._iteration_mode,
                self._batch_size,
                self._num_batches,
                self._rng_seed,
                strict=True,
            )
        )

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
        dataset = self._channel_dataset(name, dataset)
        old = self._history_for(name)
        val, doc = value_function(val)
        channel = MonitorChannel(val, name, data_specs, dataset, prereqs, doc)
        if channel.data_free:
            backend.scalars_to_host([check_scalar(val(), name)])  # fail now, not later
        if old is not None:
            copy_history(old, channel)
        self.channels[name] = channel
        self._plans = None

    def _channel_dataset(self, name, dataset):
        """The monitored dataset a new channel ``name`` reads (``dataset`` or the only one)."""
        if dataset is None:
            if len(self._datasets) == 1:
                return self._datasets[0]
            if not self._datasets:
                raise ValueError(
                    f"You tried to add a channel ({name}) to a Monitor that has no dataset."
                )
            raise ValueError(
                f"You added a channel ({name}) to a Monitor that has multiple datasets, "
                "and did not specify which dataset to use it with."
            )
        if self._dataset_index(dataset) is None:
            raise ValueError(
                f"The dataset specified for channel {name} is not one of the monitor's "
                "datasets: add it with add_dataset first"
            )
        return dataset

    def _history_for(self, name):
        """The channel whose records a new channel ``name`` takes over, or None.

        A channel unpickled with the model is a history only (no val): the new channel
        takes it over, so a saved model trained further (model: !pkl: ...) continues its
        curves (Pylearn2 raised here). Otherwise ``on_channel_conflict`` decides.
        """
        if self.on_channel_conflict not in ("error", "copy_history", "overwrite"):
            raise ValueError(
                "on_channel_conflict should be either 'error', 'copy_history', or 'overwrite'"
            )
        old = self.channels.get(name)
        if old is None:
            return None
        continued = not hasattr(old, "val")
        if not continued and self.on_channel_conflict == "error":
            raise ValueError(f"Tried to create the same channel twice ({name})")
        return old if continued or self.on_channel_conflict == "copy_history" else None

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
        add_cost_channels(
            self, self._sharing, dataset, costs, batch_size, num_batches, mode, obj_prereqs,
            dict(cost_monitoring_args or {}),
        )

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
            plans.append((union, entries, self._sharing.model_structure(union)))
        self._plans = plans
        return plans

    def _evaluate_dataset(self, i, union, entries, model_structure, sums):
        """Adds each channel's per-batch values over one pass of dataset ``i`` to ``sums``."""
        with_data = [(c, s) for c, s in entries if s is not None]
        # A data-free value is the same for every batch, so its weighted mean is itself.
        for channel, structure in entries:
            if structure is None:
                for prereq in channel.prereqs:
                    prereq()
                sums.add(channel.name, channel.val())
        if not with_data:
            return
        seed = self._rng_seed[i]
        iterator = self._datasets[i].iterator(
            mode=self._iteration_mode[i],
            batch_size=self._batch_size[i],
            num_batches=self._num_batches[i],
            data_specs=union_data_specs(union),
            return_tuple=True,
            rng=None if seed is None else make_np_rng(seed),
        )
        evaluate_batches(
            self.model, iterator, with_data, model_structure, self._sharing, sums, f"dataset {i}"
        )

    def __call__(self):
        """Evaluate every channel on its dataset, record the values and log them."""
        plans = self._plans if self._plans is not None else self._build_plans()
        sums = WeightedMeans()
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
            "channels": histories(self.channels),
        }

    def set_state(self, state):
        """Continue from :meth:`get_state`'s ``state``: the channels must be the same.

        The histories replace the channels' (nothing is appended twice) and the clock of
        ``time_record`` continues from the saved elapsed time.
        """
        restore_histories(self.channels, state["channels"])
        self._num_batches_seen = state["batches_seen"]
        self._examples_seen = state["examples_seen"]
        self._epochs_seen = state["epochs_seen"]
        self.t0 = time.time() - state["elapsed"]
        self.training_succeeded = state["training_succeeded"]
        self.time_budget_exceeded = state["time_budget_exceeded"]

    # -- pickling ---------------------------------------------------------------------------------
    def __getstate__(self):
        state = dict(self.__dict__)
        state["_datasets"] = dataset_sources(self._datasets)
        state["_plans"] = None
        # What the channels of a batch share is rebuilt by setup; the pickle keeps the
        # model's monitoring data specs under the names it always had.
        sharing = state.pop("_sharing")
        state.update(_batch_caches=[], _shared={}, _monitored_costs=[])
        state["_model_specs"] = sharing.model_specs
        return state

    def __setstate__(self, state):
        state = dict(state)
        for key in ("_batch_caches", "_shared", "_monitored_costs"):
            state.pop(key, None)
        state["_sharing"] = BatchSharing(state.pop("_model_specs", None))
        self.__dict__.update(state)
