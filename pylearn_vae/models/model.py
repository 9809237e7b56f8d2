"""Models and their parameters (``pylearn2/models/model.py``).

Design: parameters are named objects, the maths is pure
-------------------------------------------------------
In Pylearn2 a parameter is a Theano shared variable: an object with a ``name``, a
value (``get_value``/``set_value``) and an identity that keys gradients, updates and
learning-rate scalers. :class:`Param` plays that part here.

Autograd differentiates functions of arrays, not of objects, so a cost is turned into
a pure function of the parameter values by *binding*: :func:`bind` makes each
:class:`Param` of a list answer ``param.value`` with a given (traced) array for the
duration of a ``with`` block. Layer code always reads ``self.W.value``; outside a
binding that is the stored array, inside it is autograd's box, so::

    def cost_of(values):
        with bind(params, values):
            return cost.expr(model, data)

    grads = autograd.grad(cost_of)([p.get_value(borrow=True) for p in params])

differentiates ``cost.expr`` with respect to every parameter while the model code never
knows it is being traced. Updates happen outside the traced function, with
``set_value``. :meth:`pylearn_vae.costs.cost.Cost.get_gradients` is the one place that
does this.
"""

import contextlib
from collections import OrderedDict, defaultdict

import numpy

from pylearn_vae import backend
from pylearn_vae.space import NullSpace

__all__ = ["Model", "Param", "bind"]


class Param:
    """A named, mutable parameter array, like a Theano shared variable.

    Parameters
    ----------
    value : array_like
        Initial value; stored on the current device (floatX unless ``dtype`` is given).
    name : str, optional
    dtype : str, optional
    """

    def __init__(self, value, name=None, dtype=None):
        self._value = backend.asarray(value, dtype=dtype)
        self.name = name
        self._bound = None

    @property
    def value(self):
        """The array to compute with: the bound (traced) value inside :func:`bind`."""
        return self._value if self._bound is None else self._bound

    def get_value(self, borrow=False):
        """The stored array (a copy unless ``borrow``)."""
        return self._value if borrow else self._value.copy()

    def set_value(self, value, borrow=False):
        """Replace the stored array; its shape may change, its dtype is kept."""
        xp = backend.xp()
        value = xp.asarray(value, dtype=self._value.dtype)
        self._value = value if borrow else value.copy()

    @property
    def shape(self):
        return self._value.shape

    @property
    def dtype(self):
        return self._value.dtype

    def __repr__(self):
        return f"Param({self.name!r}, shape={tuple(self.shape)}, dtype={self.dtype})"

    def __str__(self):
        return str(self.name)

    def __getstate__(self):
        # Pickles hold host arrays so a model saved on the GPU loads on the CPU.
        return {"name": self.name, "_value": backend.to_host(self._value), "_bound": None}

    def __setstate__(self, state):
        self.name = state["name"]
        self._bound = None
        self._value = backend.asarray(state["_value"], dtype=state["_value"].dtype)


@contextlib.contextmanager
def bind(params, values):
    """Make each ``param.value`` answer the matching entry of ``values`` in the block."""
    params = list(params)
    values = list(values)
    if len(params) != len(values):
        raise ValueError(f"bind got {len(params)} params and {len(values)} values")
    previous = [p._bound for p in params]
    try:
        for p, v in zip(params, values, strict=True):
            p._bound = v
        yield
    finally:
        for p, v in zip(params, previous, strict=True):
            p._bound = v


class Model:
    """Base class of everything with parameters (``pylearn2/models/model.py``).

    Subclasses fill ``self._params`` (a list of :class:`Param`) and set
    ``input_space`` / ``output_space``.
    """

    _test_batch_size = 2

    def __init__(self, extensions=None):
        self.extensions = list(extensions or [])
        self.names_to_del = set()
        self._params = []

    @property
    def test_batch_size(self):
        """Examples in the batch the monitor first checks its channels on (2 unless the
        training algorithm sets its batch size)."""
        return self._test_batch_size

    @test_batch_size.setter
    def test_batch_size(self, value):
        self._test_batch_size = value

    # -- parameters -------------------------------------------------------------
    def get_params(self):
        """A copy of the list of parameters, in a fixed order."""
        return list(self._params)

    def get_param_values(self, borrow=False):
        return [p.get_value(borrow=borrow) for p in self.get_params()]

    def set_param_values(self, values, borrow=False):
        params = self.get_params()
        if len(values) != len(params):
            raise ValueError(f"expected {len(params)} values, got {len(values)}")
        for p, v in zip(params, values, strict=True):
            p.set_value(v, borrow=borrow)

    def get_param_vector(self):
        return numpy.concatenate(
            [backend.to_host(p.get_value(borrow=True)).ravel() for p in self.get_params()]
        )

    def set_param_vector(self, vector):
        vector = numpy.asarray(vector)
        start = 0
        for p in self.get_params():
            size = int(numpy.prod(p.shape))
            p.set_value(vector[start : start + size].reshape(p.shape))
            start += size
        if start != vector.size:
            raise ValueError(f"expected a vector of {start} values, got {vector.size}")

    def get_lr_scalers(self):
        """``{Param: float}`` learning-rate multipliers (none by default)."""
        return OrderedDict()

    def modify_updates(self, updates):
        """Adjust ``updates`` (``{Param: new value}``) in place, e.g. norm constraints."""
        self._modify_updates(updates)
        for ext in self.extensions:
            ext.post_modify_updates(updates, self)

    def _modify_updates(self, updates):
        pass

    def enforce_constraints(self):
        """Apply :meth:`modify_updates` to the current values (constraints at init)."""
        updates = OrderedDict((p, p.get_value(borrow=True)) for p in self.get_params())
        self.modify_updates(updates)
        for p, v in updates.items():
            p.set_value(v)

    # -- monitoring -------------------------------------------------------------
    def get_monitoring_channels(self, data, **kwargs):
        self.get_monitoring_data_specs()[0].validate(data)
        return OrderedDict()

    def get_monitoring_data_specs(self):
        return (NullSpace(), "")

    def get_monitoring_shared(self, batches, costs):
        """What the monitor computes once per batch and hands to every channel of it.

        The monitor calls this for a few consecutive ``batches`` at once, then passes
        each batch's dict as keyword arguments to the costs' ``expr`` and
        ``get_monitoring_channels`` and to :meth:`get_monitoring_channels`. A model whose
        channels and costs start from the same values (a VAE's encode/decode pass)
        computes them here once; this one shares nothing.

        Returns
        -------
        list of dict, one per batch
        """
        return [{} for _ in batches]

    # -- spaces -----------------------------------------------------------------
    def get_input_space(self):
        return self.input_space

    def get_output_space(self):
        return self.output_space

    def get_target_space(self):
        return getattr(self, "target_space", None)

    def get_input_source(self):
        return getattr(self, "input_source", "features")

    def get_target_source(self):
        return getattr(self, "target_source", "targets")

    def get_weights_format(self):
        return ("v", "h")

    def set_batch_size(self, batch_size):
        pass

    @property
    def tag(self):
        """A ``defaultdict(dict)`` for extensions to keep notes on the model."""
        if getattr(self, "_tag", None) is None:
            self._tag = defaultdict(dict)
        return self._tag

    # -- not provided by every model ---------------------------------------------
    def get_weights(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_weights")

    def get_weights_topo(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_weights_topo")

    def get_weights_view_shape(self):
        raise NotImplementedError(
            f"{type(self).__name__} does not implement get_weights_view_shape"
        )

    def get_default_cost(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_default_cost")

    def free_energy(self, V):
        raise NotImplementedError(f"{type(self).__name__} does not implement free_energy")

    def train_all(self, dataset):
        raise NotImplementedError(f"{type(self).__name__} does not implement train_all")

    def continue_learning(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement continue_learning")
