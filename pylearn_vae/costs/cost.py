"""Costs: a scalar to minimise, and its gradients (``pylearn2/costs/cost.py``).

A cost's :meth:`Cost.expr` is ordinary array code on the model's parameters.
:meth:`Cost.get_gradients` turns it into a pure function of the parameter values with
:func:`pylearn_vae.models.model.bind` and lets autograd differentiate it.
"""

from collections import OrderedDict

from pylearn_vae.gradients import value_and_grads
from pylearn_vae.models.model import bind
from pylearn_vae.space import CompositeSpace

__all__ = ["Cost", "DefaultDataSpecsMixin", "SumOfCosts"]


class Cost:
    """Base class of costs.

    ``expr(model, data)`` returns a scalar (0-d array) or None; ``data`` is a batch of
    the space ``get_data_specs(model)[0]``.
    """

    supervised = False

    def expr(self, model, data, **kwargs):
        """The cost of ``data``: by default the mean of :meth:`cost_per_example`."""
        per_example = self.cost_per_example(model, data, **kwargs)
        return None if per_example is None else per_example.mean()

    def cost_per_example(self, model, data, **kwargs):
        return None

    def get_value_and_gradients(self, model, data, **kwargs):
        """The cost and its gradients in one backward pass.

        Returns
        -------
        value : 0-d array
        gradients : OrderedDict
            ``{Param: gradient}`` over exactly ``model.get_params()``, in that order;
            a parameter the cost does not reach gets zeros.
        updates : OrderedDict
            Always empty (Pylearn2's slot for auxiliary updates).
        """
        params = model.get_params()

        def cost_of(values):
            with bind(params, values):
                value = self.expr(model, data, **kwargs)
            if value is None:
                raise NotImplementedError(
                    f"{type(self).__name__}.expr returned None, so it has no gradients"
                )
            return value

        value, grads = value_and_grads(cost_of, [p.get_value(borrow=True) for p in params])
        return value, OrderedDict(zip(params, grads, strict=True)), OrderedDict()

    def get_gradients(self, model, data, **kwargs):
        """``(OrderedDict {Param: gradient of expr}, OrderedDict())``, as in Pylearn2."""
        _, grads, updates = self.get_value_and_gradients(model, data, **kwargs)
        return grads, updates

    def get_monitoring_channels(self, model, data, **kwargs):
        """``{name: scalar}`` channels to monitor besides the cost itself."""
        self.get_data_specs(model)[0].validate(data)
        return OrderedDict()

    def get_monitoring_values(self, model, data, shared=None, channel_args=None):
        """What the monitor records of this cost on a batch, in one call: ``objective``
        (:meth:`expr`) first, then :meth:`get_monitoring_channels`.

        ``shared`` (what the model's ``get_monitoring_shared`` gives for the batch) goes
        to both as keyword arguments, ``channel_args`` to the channels only. A cost whose
        objective and channels start from the same work computes it once here.

        Returns
        -------
        OrderedDict
            ``{"objective": scalar, channel name: scalar, ...}``.
        """
        shared = shared or {}
        values = OrderedDict([("objective", self.expr(model, data, **shared))])
        channels = self.get_monitoring_channels(model, data, **shared, **(channel_args or {}))
        values.update(channels)
        return values

    def get_fixed_var_descr(self, model, data):
        return {"fixed_vars": {}, "on_load_batch": []}

    def get_data_specs(self, model):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_data_specs")

    def is_stochastic(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement is_stochastic")


class DefaultDataSpecsMixin:
    """Data specs from the model: its input (and target, when supervised)."""

    def get_data_specs(self, model):
        if self.supervised:
            space = CompositeSpace([model.get_input_space(), model.get_target_space()])
            return space, (model.get_input_source(), model.get_target_source())
        return model.get_input_space(), model.get_input_source()


class SumOfCosts(Cost):
    """A weighted sum of costs sharing the same data specs.

    Parameters
    ----------
    costs : list
        Costs, or ``[coefficient, cost]`` pairs.
    """

    def __init__(self, costs):
        if not isinstance(costs, list) or not costs:
            raise TypeError("SumOfCosts needs a non-empty list of costs")
        self.coeffs, self.costs = [], []
        for c in costs:
            coeff, cost = c if isinstance(c, (list, tuple)) else (1.0, c)
            self.coeffs.append(float(coeff))
            self.costs.append(cost)
        self.supervised = any(c.supervised for c in self.costs)

    def expr(self, model, data, **kwargs):
        terms = [
            coeff * cost.expr(model, data, **kwargs)
            for coeff, cost in zip(self.coeffs, self.costs, strict=True)
        ]
        return sum(terms[1:], terms[0])

    def get_data_specs(self, model):
        return self.costs[0].get_data_specs(model)

    def is_stochastic(self):
        return any(c.is_stochastic() for c in self.costs)

    def get_monitoring_channels(self, model, data, **kwargs):
        channels = OrderedDict()
        for i, cost in enumerate(self.costs):
            for name, value in cost.get_monitoring_channels(model, data, **kwargs).items():
                channels[f"term_{i}_{name}"] = value
        return channels
