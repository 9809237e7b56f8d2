"""Making the monitor's channels: value functions, and the channels of costs and the model.

:meth:`Monitor.add_channel <pylearn_vae.monitor.Monitor.add_channel>` takes a callable, a
:class:`~pylearn_vae.utils.param.Param`-like object or a number (:func:`value_function`);
:meth:`Monitor.setup <pylearn_vae.monitor.Monitor.setup>` adds, for each monitoring
dataset, the objective of the cost and of each extra cost, the channels those costs
report and the model's own channels (:func:`add_cost_channels`).
"""

from pylearn_vae.utils.data_specs import flatten_data_specs, nest_batch, union_data_specs
from pylearn_vae.utils.iteration import is_stochastic

__all__ = ["MONITOR_SEED", "add_cost_channels", "probe_batches", "value_function"]

# The seed every stochastic monitoring pass starts from, so each pass sees the same batches.
MONITOR_SEED = (2013, 2, 22)


def value_function(val):
    """``(val, doc)``: a channel's value function for ``val``, and its documentation.

    A callable is kept (its docstring is the doc), an object with ``get_value`` (a
    parameter) is read with ``get_value(borrow=True)`` (its ``doc`` attribute is the doc),
    anything else is a constant (no doc).
    """
    if hasattr(val, "get_value"):
        param = val

        def read():
            return param.get_value(borrow=True)

        return read, getattr(param, "doc", None)
    if not callable(val):
        constant = val

        def fixed():
            return constant

        return fixed, None
    return val, getattr(val, "__doc__", None)


def probe_batches(model, dataset, union, structures):
    """One small sequential batch of ``dataset`` per structure, to learn channel names.

    The batch has ``model.test_batch_size`` examples (2 without one), fewer when the
    dataset is smaller; ``[None, ...]`` when no structure reads data.
    """
    if not union:
        return [None] * len(structures)
    size = min(int(getattr(model, "test_batch_size", 2)), dataset.get_num_examples())
    iterator = dataset.iterator(
        mode="sequential",
        batch_size=size,
        num_batches=1,
        data_specs=union_data_specs(union),
        return_tuple=True,
    )
    flat = next(iter(iterator))
    return [nest_batch(s, flat) for s in structures]


def _channel_names(model, sharing, caches, specs, probe, prefixes):
    """``{name: (val, data_specs)}`` of the channels ``caches`` give beyond objectives.

    ``caches`` are ``sharing.add_costs``'s, ``specs`` their data specs and ``probe`` one
    small batch for each (None for data-free specs), the model's last; the names are
    read from the dicts each cache computes on its batch, a cost's prefixed by its entry
    of ``prefixes``.
    """
    found = {}
    shared = {}
    if probe[-1] is not None:  # the probe draws no training noise, as a monitoring round
        shared = model.get_monitoring_shared([probe[-1]], sharing.costs)[0]
    with sharing.sharing(shared):
        for cache, cache_specs, batch, prefix in zip(
            caches[:-1], specs[:-1], probe[:-1], prefixes, strict=True
        ):
            for key in list(cache(batch))[1:]:  # the first is the objective
                found[prefix + key] = (cache.entry(key), cache_specs)
        for key in caches[-1](probe[-1]):
            found[key] = (caches[-1].entry(key), specs[-1])
    for cache in caches:
        cache.clear()
    return found


def add_cost_channels(
    monitor, sharing, datasets, costs, batch_size, num_batches, mode, obj_prereqs, cost_args
):
    """Add to ``monitor`` the channels of ``costs`` and of its model on each dataset.

    Parameters
    ----------
    monitor : Monitor
    sharing : BatchSharing
        The monitor's: receives one cache per cost and one for the model.
    datasets : dict
        name -> dataset; channels of dataset ``d`` are prefixed ``d_`` (none for ``''``).
    costs : dict
        name -> Cost; ``''`` is the main cost, whose objective channel is ``objective``
        and whose prerequisites are ``obj_prereqs``; another cost's objective channel
        is its name, and its channels are prefixed by it.
    batch_size, num_batches, mode
        How the monitor iterates over each dataset (``mode`` stochastic: seeded with
        :data:`MONITOR_SEED`).
    obj_prereqs : list of callables or None
    cost_args : dict
        Keyword arguments of each cost's ``get_monitoring_values``.
    """
    model = monitor.model
    cost_names = sorted(costs)
    specs = [costs[c].get_data_specs(model) for c in cost_names]
    specs.append(model.get_monitoring_data_specs())
    union = []
    structures = [flatten_data_specs(s, union)[0] for s in specs]

    # One cache per cost (its objective and channels) and one for the model, so a batch
    # computes each dict once; each reads what the model shares among the batch's channels.
    caches = sharing.add_costs(model, [costs[c] for c in cost_names], specs[-1], cost_args)
    probe = probe_batches(model, next(iter(datasets.values())), union, structures)
    prefixes = ["" if c == "" else c + "_" for c in cost_names]
    custom = _channel_names(model, sharing, caches, specs, probe, prefixes)

    seed = list(MONITOR_SEED) if is_stochastic(mode) else None
    for dataset_name, dataset in datasets.items():
        monitor.add_dataset(dataset, mode, batch_size, num_batches, seed)
        dprefix = "" if dataset_name == "" else dataset_name + "_"
        for c, cache, cost_specs in zip(cost_names, caches[:-1], specs[:-1], strict=True):
            name = dprefix + ("objective" if c == "" else c)
            prereqs = obj_prereqs if c == "" else None
            objective = cache.entry("objective")
            monitor.add_channel(name, None, objective, dataset, prereqs, cost_specs)
        for key, (val, data_specs) in custom.items():
            monitor.add_channel(dprefix + key, None, val, dataset, data_specs=data_specs)
