"""Stochastic gradient descent, learning-rate schedules (``pylearn2/training_algorithms/sgd.py``).

One SGD step on a batch ``X``::

    value, grads, _ = cost.get_value_and_gradients(model, X)   # autograd, eager
    updates = learning_rule.get_updates_in_place(learning_rate, grads, lr_scalers)
              # or, without a rule, p - learning_rate * lr_scalers.get(p, 1) * g
              # (setup() gives each parameter its own array; both may be updated in place)
    model.modify_updates(updates)                               # e.g. norm constraints
    p.set_value(updates[p], borrow=True) for every p in updates

A non-finite cost stops training before the update, with a RuntimeError that names
the epoch and batch; nothing is saved after it.

Update callbacks (``update_callbacks=[...]``) run after every batch with the algorithm
as argument: :class:`ExponentialDecay`, :class:`LinearDecay`,
:class:`AnnealedLearningRate` reset the 0-d ``learning_rate`` Param. A callback that
counts (as these do) implements ``get_state``/``set_state``, so a checkpoint keeps it.
:class:`StagedLearningRate` is a train extension instead (``extensions=[...]``): it sets
the rate once an epoch, from the epochs seen, in stages of constant rate (Burda et al.'s
schedule).

Between two batches ``train`` polls ``stop_check`` (set by :class:`~pylearn_vae.train.Train`
for SIGINT/SIGTERM) and raises ``Interrupted`` when asked to stop; :meth:`SGD.get_state`
then holds the batch reached and the random states the epoch started from, and the
next ``train`` after :meth:`SGD.set_state` remakes the same iterator, skips those
batches and finishes the epoch.
"""

import logging
import math
from collections import OrderedDict

import numpy

from pylearn_vae import backend, threads
from pylearn_vae.costs.cost import Cost
from pylearn_vae.models.model import Param
from pylearn_vae.monitor import Monitor
from pylearn_vae.space import NullSpace
from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.training_algorithms.learning_rule import scaled_learning_rates
from pylearn_vae.training_algorithms.training_algorithm import (
    Interrupted,
    NoBatchSizeError,
    TrainingAlgorithm,
)
from pylearn_vae.utils.checkpoint import (
    Stateful,
    get_state_of,
    params_state,
    set_params_state,
    set_state_of,
    set_states_of,
)
from pylearn_vae.utils.data_specs import flatten_data_specs, nest_batch, union_data_specs
from pylearn_vae.utils.iteration import has_uniform_batch_size, is_stochastic
from pylearn_vae.utils.progress import progress
from pylearn_vae.utils.rng import (
    generator_state,
    generator_states,
    make_np_rng,
    set_generator_state,
    set_generator_states,
)
from pylearn_vae.utils.validation import (
    check_fits_in_memory,
    check_iteration_mode,
    check_number_in,
    check_optional_positive_int,
    check_positive_int,
    check_seed,
    reject_ignored_option,
    to_number,
)

__all__ = [
    "SGD",
    "AnnealedLearningRate",
    "ExponentialDecay",
    "LinearDecay",
    "StagedLearningRate",
]

log = logging.getLogger(__name__)


class SGD(TrainingAlgorithm):
    """Minibatch stochastic gradient descent.

    Parameters
    ----------
    learning_rate : float
        Kept in the 0-d Param ``self.learning_rate`` (callbacks ``set_value`` it).
    cost : Cost, optional
        ``model.get_default_cost()`` when None; a list/tuple/set is a TypeError
        (use :class:`~pylearn_vae.costs.cost.SumOfCosts`).
    batch_size : int, optional
        Needed unless the model has a ``force_batch_size``.
    monitoring_batch_size, monitoring_batches : int, optional
        Default to ``batch_size`` and ``batches_per_iter``.
    monitoring_dataset : Dataset or dict {name: Dataset}, optional
    monitor_iteration_mode : str
    termination_criterion : TerminationCriterion, optional
        None trains forever (or until the time budget).
    update_callbacks : callable or list of callables, optional
        Called as ``cb(self)`` after every batch.
    learning_rule : LearningRule, optional
        None is plain SGD.
    set_batch_size : bool
        Resize a model whose ``force_batch_size`` differs from ``batch_size``.
    train_iteration_mode : str, optional
        ``'shuffled_sequential'`` when None.
    batches_per_iter : int, optional
        Batches per epoch (all the data when None).
    theano_function_mode : None
        Pylearn2's Theano compilation mode; there is nothing to compile, so only None
        (the default) is accepted (``docs/quirks.md``).
    monitoring_costs : dict {name: Cost}, optional
        Extra costs to monitor.
    seed : int or sequence of int
        Seed of ``self.rng``, which shuffles the training batches (default
        ``(2012, 10, 5)``; a tuple, not Pylearn2's shared mutable list, docs/quirks.md#quirk-30).
    """

    def __init__(
        self,
        learning_rate,
        cost=None,
        batch_size=None,
        monitoring_batch_size=None,
        monitoring_batches=None,
        monitoring_dataset=None,
        monitor_iteration_mode="sequential",
        termination_criterion=None,
        update_callbacks=None,
        learning_rule=None,
        set_batch_size=False,
        train_iteration_mode=None,
        batches_per_iter=None,
        theano_function_mode=None,
        monitoring_costs=None,
        seed=(2012, 10, 5),
    ):
        if isinstance(cost, (list, tuple, set)):
            raise TypeError(
                "SGD no longer supports using collections of Costs to represent a sum of "
                "Costs. Use pylearn_vae.costs.cost.SumOfCosts instead."
            )
        _check_arguments(
            learning_rate=learning_rate,
            batch_size=batch_size,
            monitoring_batch_size=monitoring_batch_size,
            monitoring_batches=monitoring_batches,
            batches_per_iter=batches_per_iter,
            monitor_iteration_mode=monitor_iteration_mode,
            train_iteration_mode=train_iteration_mode,
            learning_rule=learning_rule,
            cost=cost,
            monitoring_costs=monitoring_costs,
            update_callbacks=update_callbacks,
            seed=seed,
        )
        self.learning_rule = learning_rule
        self.learning_rate = Param(_number(learning_rate, "learning_rate"), name="learning_rate")
        self.cost = cost
        self.batch_size = batch_size
        self.set_batch_size = set_batch_size
        self.batches_per_iter = batches_per_iter
        self._set_monitoring_dataset(monitoring_dataset)
        self.monitoring_batch_size = monitoring_batch_size
        self.monitoring_batches = monitoring_batches
        self.monitor_iteration_mode = monitor_iteration_mode
        if monitoring_dataset is None:
            if monitoring_batch_size is not None:
                raise ValueError("Specified a monitoring batch size but not a monitoring dataset.")
            if monitoring_batches is not None:
                raise ValueError(
                    "Specified an amount of monitoring batches but not a monitoring dataset."
                )
        self.termination_criterion = termination_criterion
        self._register_update_callbacks(update_callbacks)
        self.train_iteration_mode = (
            "shuffled_sequential" if train_iteration_mode is None else train_iteration_mode
        )
        reject_ignored_option(
            "SGD", "theano_function_mode", theano_function_mode, None,
            "chooses how Pylearn2 compiled its Theano functions, and nothing is compiled here",
        )
        self.monitoring_costs = monitoring_costs
        self.rng = make_np_rng(seed, which_method=["randn", "randint"])

    # -- setup ------------------------------------------------------------------------------
    def setup(self, model, dataset):
        """Check the model, resolve the batch size, set up the monitor's channels."""
        if self.cost is None:
            self.cost = model.get_default_cost()
        params = list(model.get_params())
        if not params:
            raise ValueError(f"{type(model).__name__} has no parameters to train")
        host = [backend.to_host(p.get_value(borrow=True)) for p in params]
        inf_params = [p for p, v in zip(params, host, strict=True) if numpy.isinf(v).any()]
        if inf_params:
            raise ValueError(f"These params are Inf: {[str(p) for p in inf_params]}")
        nan_params = [p for p, v in zip(params, host, strict=True) if numpy.isnan(v).any()]
        if nan_params:
            raise ValueError(f"These params are NaN: {[str(p) for p in nan_params]}")
        self.model = model
        self._synchronize_batch_size(model)
        self._check_batch_memory(host)
        model.test_batch_size = self.batch_size
        self.monitor = Monitor.get_monitor(model)
        self._check_uneven(model, dataset)

        self._structure, union = flatten_data_specs(self.cost.get_data_specs(model))
        self._flat_data_specs = union_data_specs(union) if union else None
        descr = self.cost.get_fixed_var_descr(model, None)
        if isinstance(descr, dict):
            self._fixed_vars = dict(descr.get("fixed_vars", {}))
            self.on_load_batch = list(descr.get("on_load_batch", []))
        else:
            self._fixed_vars = dict(descr.fixed_vars)
            self.on_load_batch = list(descr.on_load_batch)

        for i, param in enumerate(params):
            if param.name is None:
                param.name = f"sgd_params[{i}]"
            # Own the stored arrays: plain SGD updates them in place.
            param.set_value(param.get_value(borrow=True))

        lr_scalers = model.get_lr_scalers()
        for key in lr_scalers:
            if not any(key is p for p in params):
                raise ValueError(
                    f"Tried to scale the learning rate on {key} which is not an optimization "
                    "parameter."
                )
        self._lr_scalers = lr_scalers
        lr = backend.to_host(self.learning_rate.get_value())[()]
        log.info("Parameter and initial learning rate summary:")
        for param in params:
            log.info("\t%s: %s", param.name, lr * lr_scalers.get(param, 1.0))

        if self.learning_rule is not None:
            # A dry run on zero gradients creates the rule's state (velocities, ...), so
            # its monitoring channels exist now, as in Pylearn2; the result is dropped.
            zeros = OrderedDict((p, p.get_value(borrow=True) * 0) for p in params)
            self.learning_rule.get_updates(self.learning_rate, zeros, lr_scalers)
        self.params = params
        self._grads_checked = False
        # On the CPU, all threads or one, whichever trains faster on this machine now.
        self.thread_tuner = threads.tuner(
            batch_size=self.batch_size or 100, enabled=backend.get_device() == "cpu"
        )
        self._setup_monitor()

    def _check_batch_memory(self, host_params):
        """Refuse a batch whose activations (and their gradients) cannot fit in memory,
        before anything is computed or written: a lower bound, one value per unit of
        each layer (the columns of the weight matrices) for each example of the batch."""
        matrices = [v for v in host_params if v.ndim == 2]
        if not matrices:
            return
        width = matrices[0].shape[0] + sum(v.shape[1] for v in matrices)
        itemsize = max(v.dtype.itemsize for v in matrices)
        for name, rows in (
            ("batch_size", self.batch_size),
            ("monitoring_batch_size", self.monitoring_batch_size),
        ):
            if rows is not None:
                check_fits_in_memory(
                    "SGD", f"{name} ({rows})", 2 * rows * width * itemsize,
                    f"one batch of {rows} examples through {width} units",
                )

    def _synchronize_batch_size(self, model):
        force = getattr(model, "force_batch_size", None)
        if force:
            if self.batch_size is not None and self.batch_size != force:
                if self.set_batch_size:
                    model.set_batch_size(self.batch_size)
                else:
                    raise ValueError(
                        f"batch_size argument to SGD ({self.batch_size}) conflicts with the "
                        f"model's force_batch_size attribute ({force}); pass "
                        "set_batch_size=True to resize the model"
                    )
            else:
                self.batch_size = force
        if self.batch_size is None:
            raise NoBatchSizeError()

    def _check_uneven(self, model, dataset):
        if not getattr(model, "force_batch_size", None):
            return
        if dataset.get_num_examples() % self.batch_size and not has_uniform_batch_size(
            self.train_iteration_mode
        ):
            raise ValueError(
                "Dataset size is not a multiple of batch size. You should set "
                "train_iteration_mode (and maybe monitor_iteration_mode) to even_sequential, "
                "even_shuffled_sequential or even_batchwise_shuffled_sequential"
            )
        monitoring = self.monitoring_dataset or {}
        if any(d.get_num_examples() % self.batch_size for d in monitoring.values()) and (
            not has_uniform_batch_size(self.monitor_iteration_mode)
        ):
            raise ValueError(
                "Dataset size is not a multiple of batch size. You should set "
                "monitor_iteration_mode to even_sequential, even_shuffled_sequential or "
                "even_batchwise_shuffled_sequential"
            )

    def _setup_monitor(self):
        if not self.monitoring_dataset:
            return
        if self.monitoring_batch_size is None and self.monitoring_batches is None:
            self.monitoring_batch_size = self.batch_size
            self.monitoring_batches = self.batches_per_iter
        self.monitor.setup(
            dataset=self.monitoring_dataset,
            cost=self.cost,
            batch_size=self.monitoring_batch_size,
            num_batches=self.monitoring_batches,
            extra_costs=self.monitoring_costs,
            mode=self.monitor_iteration_mode,
        )
        first = next(iter(self.monitoring_dataset.values()))
        self.monitor.add_channel(
            name="learning_rate",
            ipt=None,
            val=self.learning_rate,
            data_specs=(NullSpace(), ""),
            dataset=first,
        )
        if self.learning_rule is not None:
            self.learning_rule.add_channels_to_monitor(self.monitor, first)

    # -- training ---------------------------------------------------------------------------
    def train(self, dataset):
        """One epoch over ``dataset``: one update per batch."""
        if not hasattr(self, "params"):
            raise RuntimeError("SGD.train called without first calling setup")
        self._check_finite_params()
        if self._flat_data_specs is None:
            raise NotImplementedError(
                "Unable to train with SGD, because the cost does not actually use data from "
                f"the data set. data_specs: {self.cost.get_data_specs(self.model)}"
            )
        position = self._start_epoch(dataset)
        rng = self.rng if is_stochastic(self.train_iteration_mode) else None
        iterator = dataset.iterator(
            mode=self.train_iteration_mode,
            batch_size=self.batch_size,
            data_specs=self._flat_data_specs,
            return_tuple=True,
            rng=rng,
            num_batches=self.batches_per_iter,
        )
        done = position["batch"]
        for _ in range(done):  # resumed mid-epoch: replay the batches already trained
            next(iterator)
        structure, monitor, callbacks = self._structure, self.monitor, self.update_callbacks
        # A bar on a terminal only, cleared before the monitor logs the epoch.
        total = getattr(iterator, "num_batches", None)
        batches = progress(
            iterator,
            total=None if total is None else total - done,
            desc=_epoch_label(monitor.get_epochs_seen() + 1, self.termination_criterion),
        )
        self.thread_tuner.start_epoch()
        for batch_index, flat in enumerate(batches, done + 1):
            for callback in self.on_load_batch:
                callback(*flat)
            self.sgd_update(nest_batch(structure, flat), batch_index)
            monitor.report_batch(flat[0].shape[0])
            for callback in callbacks:
                callback(self)
            position["batch"] = batch_index
            if self.stop_requested():
                raise Interrupted(batch_index)
        self._position = None
        self._check_finite_params()

    def _start_epoch(self, dataset):
        """Where this epoch starts: its first batch, or where a checkpoint left it.

        The states of the random generators that order the epoch (``self.rng`` and the
        dataset's, e.g. a dynamic binarization) are kept from before the iterator is
        made, so a checkpoint written mid-epoch can make the same iterator again.
        """
        resume, self._resume = getattr(self, "_resume", None), None
        if resume is not None:
            set_generator_state(self.rng, resume["rng"])
            set_generator_states(dataset, resume["dataset_rngs"])
        self._position = {
            "batch": 0 if resume is None else resume["batch"],
            "rng": generator_state(self.rng),
            "dataset_rngs": generator_states(dataset),
        }
        return self._position

    # -- checkpoints --------------------------------------------------------------------------
    def get_state(self):
        """The learning rate, the rule's and callbacks' and criterion's states, and the
        position within the epoch when ``train`` was interrupted (plain data)."""
        rule = self.learning_rule
        position = getattr(self, "_position", None)
        return {
            "learning_rate": params_state([self.learning_rate]),
            "learning_rule": None if rule is None else rule.get_state(),
            "update_callbacks": [get_state_of(cb) for cb in self.update_callbacks],
            "termination_criterion": get_state_of(self.termination_criterion),
            "position": None if position is None else dict(position),
        }

    def set_state(self, state):
        """Continue from :meth:`get_state`'s ``state`` (after :meth:`setup`); an
        interrupted epoch is finished by the next :meth:`train`."""
        set_params_state([self.learning_rate], state["learning_rate"], "SGD's learning rate")
        rule = self.learning_rule
        if (rule is None) != (state["learning_rule"] is None):
            raise ValueError(
                "the checkpoint was written by an SGD "
                f"{'without' if state['learning_rule'] is None else 'with'} a learning rule, "
                f"this one has {'none' if rule is None else type(rule).__name__}"
            )
        if rule is not None:
            rule.set_state(state["learning_rule"])
        set_states_of(self.update_callbacks, state["update_callbacks"], "update callbacks")
        set_state_of(self.termination_criterion, state["termination_criterion"])
        self._resume = state["position"]

    def sgd_update(self, data, batch_index):
        """One step on ``data``; raises before updating when the cost is not finite.

        Pylearn2's ``SGD.sgd_update`` (a compiled function of the batch). :meth:`train`
        calls it for each batch; a benchmark may call it to time one step.

        Parameters
        ----------
        data : array or tuple
            One batch in the cost's data specs, e.g. ``X`` of shape ``(batch, nvis)``.
        batch_index : int
            The batch's number within the epoch (from 1); names it in the error.
        """
        model = self.model
        value, grads, _ = self.cost.get_value_and_gradients(model, data, **self._fixed_vars)
        cost_value = float(value)  # the one host sync of a step
        if not math.isfinite(cost_value):
            raise RuntimeError(
                f"SGD: the cost {type(self.cost).__name__} is {cost_value} at epoch "
                f"{self.monitor.get_epochs_seen() + 1}, batch {batch_index}. Training stopped "
                "before this update: the parameters hold their values from before this batch "
                "and no saved model was touched. Try a smaller learning rate, or check the "
                "data and the model's initialisation."
            )
        if not self._grads_checked:
            self._check_grads(grads)
        if self.learning_rule is not None:
            # setup() made each parameter own its array: the rule may update it in place.
            updates = self.learning_rule.get_updates_in_place(
                self.learning_rate, grads, self._lr_scalers
            )
        else:
            etas = scaled_learning_rates(self.learning_rate, grads, self._lr_scalers)
            updates = OrderedDict()
            for param, grad in grads.items():
                stored = param.get_value(borrow=True)
                xp = backend.get_array_module(stored)
                updates[param] = xp.subtract(stored, etas[param] * grad, out=stored)
        model.modify_updates(updates)
        for param, new_value in updates.items():
            param.set_value(new_value, borrow=True)

    def _check_grads(self, grads):
        if not isinstance(grads, OrderedDict):
            raise TypeError(
                f"{type(self.cost).__name__}.get_value_and_gradients must return an "
                f"OrderedDict of gradients, got a {type(grads).__name__}"
            )
        ids = {id(p) for p in self.params}
        if {id(p) for p in grads} != ids or len(grads) != len(ids):
            raise ValueError(
                f"{type(self.cost).__name__} gave gradients for {[str(p) for p in grads]} but "
                f"the model's parameters are {[str(p) for p in self.params]}"
            )
        self._grads_checked = True

    def _check_finite_params(self):
        """Pylearn2's "NaN in <name>" check, with one device read for all parameters."""
        finite = []
        for param in self.params:
            value = param.get_value(borrow=True)
            finite.append(backend.get_array_module(value).isfinite(value).all())
        for param, ok in zip(self.params, backend.scalars_to_host(finite), strict=True):
            if not ok:
                raise RuntimeError(f"NaN in {param.name}")

    def continue_learning(self, model):
        """True without a termination criterion, else the criterion's answer."""
        if self.termination_criterion is None:
            return True
        return self.termination_criterion.continue_learning(self.model)


def _check_arguments(**args):
    """Check SGD's numeric and mode arguments (given by name), so a bad YAML value fails
    before training."""
    _positive_number(args["learning_rate"], "learning_rate")
    for name in ("batch_size", "monitoring_batch_size", "monitoring_batches", "batches_per_iter"):
        check_optional_positive_int("SGD", name, args[name])
    check_iteration_mode("SGD", "monitor_iteration_mode", args["monitor_iteration_mode"])
    if args["train_iteration_mode"] is not None:
        check_iteration_mode("SGD", "train_iteration_mode", args["train_iteration_mode"])
    rule = args["learning_rule"]
    if rule is not None and not hasattr(rule, "get_updates"):
        raise ValueError(f"SGD: learning_rule must be a LearningRule, got {rule!r}")
    cost = args["cost"]
    if cost is not None and not isinstance(cost, (list, tuple, set, Cost)):
        raise ValueError(f"SGD: cost must be a Cost, got {cost!r}")
    for name, extra in (args["monitoring_costs"] or {}).items():
        if not isinstance(extra, Cost):
            raise ValueError(f"SGD: monitoring_costs[{name!r}] must be a Cost, got {extra!r}")
    callbacks = args["update_callbacks"]
    for callback in callbacks if isinstance(callbacks, (list, tuple)) else [callbacks]:
        if callback is not None and not callable(callback):
            raise ValueError(
                f"SGD: update_callbacks must be callables (e.g. ExponentialDecay), got "
                f"{callback!r}"
            )
    if not hasattr(args["seed"], "randint"):
        check_seed("SGD", "seed", args["seed"])


def _positive_number(value, name, owner="SGD"):
    """``value`` as a finite float > 0 (numeric strings converted)."""
    return check_number_in(owner, name, value, low=0, low_open=True)


def _number(value, name, owner="SGD"):
    """``value`` as a float; numeric strings are converted, bools rejected."""
    return to_number(owner, name, value)


def _current_lr(algorithm):
    return float(backend.to_host(algorithm.learning_rate.get_value(borrow=True)))


def _set_lr(algorithm, value):
    algorithm.learning_rate.set_value(backend.cast_floatX(value), borrow=True)


class ExponentialDecay(Stateful):
    """Divide the learning rate by ``decay_factor`` after every batch, down to ``min_lr``.

    The base rate is read at the first call; call ``k`` sets
    ``lr = base / decay_factor**k``, pinned to ``min_lr`` once it reaches it. Batch
    ``t`` (1-based) thus uses ``max(base / decay_factor**(t-1), min_lr)``.

    Parameters
    ----------
    decay_factor : float
        At least 1 (1 keeps the rate constant).
    min_lr : float
        At least 0. Ints are accepted (Pylearn2 rejected ``min_lr: 0``, docs/quirks.md#quirk-22).
    """

    _state_fields = ("_count", "_min_reached", "_base_lr")

    def __init__(self, decay_factor, min_lr):
        # Pylearn2 divides by decay_factor: below 1 the rate would grow without bound.
        self.decay_factor = check_number_in("ExponentialDecay", "decay_factor", decay_factor, 1)
        self.min_lr = check_number_in("ExponentialDecay", "min_lr", min_lr, 0)
        self._count = 0
        self._min_reached = False
        self._base_lr = None

    def __call__(self, algorithm):
        if self._count == 0:
            self._base_lr = _current_lr(algorithm)
        self._count += 1
        new_lr = self.min_lr
        if not self._min_reached:
            try:
                new_lr = self._base_lr / self.decay_factor**self._count
            except OverflowError:
                new_lr = 0.0
            if new_lr <= self.min_lr:
                self._min_reached = True
                new_lr = self.min_lr
        _set_lr(algorithm, new_lr)


class LinearDecay(Stateful):
    """Decrease the learning rate linearly, per batch, to ``decay_factor * base``.

    Batches before ``start`` keep the base rate; from ``start`` each batch removes
    ``step = base (1 - decay_factor) / (saturate - start + 1)``; from ``saturate`` on
    the rate is ``base * decay_factor``.

    Parameters
    ----------
    start : int
        Positive; batch count at which the decay starts.
    saturate : int
        Greater than ``start``.
    decay_factor : float
        Positive: the final rate is ``base * decay_factor``.
    """

    _state_fields = ("_count", "_base_lr", "_step")

    def __init__(self, start, saturate, decay_factor):
        self.start = check_number_in("LinearDecay", "start", start, 0, low_open=True)
        self.saturate = _number(saturate, "saturate", "LinearDecay")
        self.decay_factor = _positive_number(decay_factor, "decay_factor", "LinearDecay")
        if not self.saturate > self.start:
            raise ValueError(f"LinearDecay: saturate ({saturate}) must exceed start ({start})")
        self._count = 0

    def __call__(self, algorithm):
        if self._count == 0:
            self._base_lr = _current_lr(algorithm)
            self._step = (self._base_lr - self._base_lr * self.decay_factor) / (
                self.saturate - self.start + 1
            )
        self._count += 1
        if self._count >= self.start:
            if self._count < self.saturate:
                new_lr = self._base_lr - self._step * (self._count - self.start + 1)
            else:
                new_lr = self._base_lr * self.decay_factor
        else:
            new_lr = self._base_lr
        if not new_lr > 0:
            raise ValueError(f"LinearDecay produced a non-positive learning rate {new_lr}")
        _set_lr(algorithm, new_lr)


class AnnealedLearningRate(Stateful):
    """``lr = base * min(1, anneal_start / count)`` after batch ``count``.

    Parameters
    ----------
    anneal_start : int
    """

    _state_fields = ("_initialized", "_count", "_base")

    def __init__(self, anneal_start):
        self._anneal_start = _positive_number(anneal_start, "anneal_start", "AnnealedLearningRate")
        self._initialized = False
        self._count = 0

    def __call__(self, algorithm):
        if not self._initialized:
            self._base = _current_lr(algorithm)
            self._initialized = True
        self._count += 1
        _set_lr(algorithm, self.current_learning_rate())

    def current_learning_rate(self):
        return self._base * min(1.0, self._anneal_start / self._count)


class StagedLearningRate(TrainExtension):
    """A learning rate constant within stages of epochs, lower from stage to stage.

    Stage ``i`` (0-based) lasts ``stage_epochs[i]`` epochs at the rate
    ``base * final_factor ** (i / (n - 1))`` of ``n`` stages, geometric from the base
    rate (SGD's ``learning_rate``) to ``base * final_factor`` in the last stage, which
    also holds after the stages end. Burda, Grosse & Salakhutdinov (2016) trained for
    ``3 ** i`` epochs at ``0.001 * 10 ** (-i / 7)``, ``i = 0 .. 7`` (3,280 epochs)::

        learning_rate: 0.001     # SGD's
        !obj:pylearn_vae.training_algorithms.sgd.StagedLearningRate {
            stage_epochs: [1, 3, 9, 27, 81, 243, 729, 2187], final_factor: 0.1 }

    A train extension (in ``extensions:``), not an update callback: after the monitoring
    of epoch ``e`` (epoch 0 too) it sets the rate of epoch ``e + 1`` from the epochs
    seen, so the ``learning_rate`` channel of epoch ``e`` is the rate epoch ``e``
    trained with. The base rate, read once, is in the checkpoint; a run resumed in the
    middle of a stage (or of an epoch) goes on at that stage's rate.

    Parameters
    ----------
    stage_epochs : list of int
        Epochs of each stage, each at least 1.
    final_factor : float
        The last stage's rate over the first's, > 0 (0.1: down to a tenth). With one
        stage it must be 1.
    """

    _state_fields = ("_base_lr",)

    def __init__(self, stage_epochs, final_factor):
        owner = "StagedLearningRate"
        if isinstance(stage_epochs, (str, bytes)) or not hasattr(stage_epochs, "__len__"):
            raise ValueError(
                f"{owner}: stage_epochs must be a list of positive integers (the epochs of "
                f"each stage, e.g. [1, 3, 9]), got {stage_epochs!r}"
            )
        if len(stage_epochs) == 0:
            raise ValueError(f"{owner}: stage_epochs is empty: give the epochs of each stage")
        self.stage_epochs = [
            check_positive_int(owner, f"stage_epochs[{i}]", n) for i, n in enumerate(stage_epochs)
        ]
        self.final_factor = check_number_in(owner, "final_factor", final_factor, 0, low_open=True)
        if len(self.stage_epochs) == 1 and self.final_factor != 1:
            raise ValueError(
                f"{owner}: with one stage the rate never changes, so final_factor must be 1, "
                f"got {final_factor!r}: add stages or drop the schedule"
            )
        self._base_lr = None

    @property
    def total_epochs(self):
        """The epochs of all the stages (3,280 for Burda et al.'s)."""
        return sum(self.stage_epochs)

    def stage_of(self, epoch):
        """The 0-based stage of training epoch ``epoch`` (1-based); the last one after
        the stages end."""
        end = 0
        for stage, length in enumerate(self.stage_epochs):
            end += length
            if epoch <= end:
                return stage
        return len(self.stage_epochs) - 1

    def factor(self, epoch):
        """The rate of training epoch ``epoch`` (1-based) over the base rate."""
        last = len(self.stage_epochs) - 1
        return 1.0 if last == 0 else self.final_factor ** (self.stage_of(epoch) / last)

    def setup(self, model, dataset, algorithm):
        if not hasattr(algorithm, "learning_rate"):
            raise ValueError(
                "StagedLearningRate needs a training algorithm with a learning_rate (SGD), "
                f"got {type(algorithm).__name__}"
            )
        if self._base_lr is None:
            self._base_lr = _current_lr(algorithm)

    def on_monitor(self, model, dataset, algorithm):
        epochs_seen = Monitor.get_monitor(model).get_epochs_seen()
        _set_lr(algorithm, self._base_lr * self.factor(epochs_seen + 1))


def _epoch_label(epoch, criterion):
    """``'epoch 151/300'`` for the batch bar (``'epoch 151'`` when the total is unknown)."""
    from pylearn_vae.termination_criteria import epoch_limit

    total = epoch_limit(criterion, epoch - 1)
    return f"epoch {epoch}" if total is None else f"epoch {epoch}/{total}"
