"""Multilayer perceptrons (``pylearn2/models/mlp.py``).

An :class:`MLP` is a list of :class:`Layer`\\ s; each layer maps a batch of its input
space to a batch of its output space with :meth:`Layer.fprop`, reading its parameters
through ``param.value`` (see :mod:`pylearn_vae.models.model` for why that makes the
whole forward pass differentiable by autograd).

Nested MLPs
    An MLP built with neither ``nvis`` nor ``input_space`` is *nested*: it has no
    spaces and no weights until its parent calls :meth:`MLP.set_mlp` and
    :meth:`MLP.set_input_space`. That is how a VAE ``Conditional`` appends its default
    output layer (:meth:`MLP.add_layers`) before any weight is drawn. A nested MLP
    takes its random generator from its parent, so weights are drawn from the parent's
    generator in the order the layers' input spaces are set.

Weights are drawn from ``self.mlp.rng`` of each layer, in the order and with the
distributions of the original (a ``Linear`` with ``irange`` draws its values, then an
``include_prob`` mask, even when ``include_prob`` is 1 -- kept so a given seed gives
the original's weights).

:class:`Layer` lives in :mod:`pylearn_vae.models.layer` and :class:`ConvRectifiedLinear`
in :mod:`pylearn_vae.models.conv`; both are imported here so that the Pylearn2 paths
``pylearn2.models.mlp.Layer`` and ``pylearn2.models.mlp.ConvRectifiedLinear`` name them.
"""

from collections import OrderedDict

import numpy

from pylearn_vae import backend, ops
from pylearn_vae.model_extensions.norm_constraint import ConstrainFilterL2Norm
from pylearn_vae.models.conv import ConvRectifiedLinear
from pylearn_vae.models.layer import Layer, layer_label
from pylearn_vae.models.model import Param
from pylearn_vae.space import CompositeSpace, Space, VectorSpace
from pylearn_vae.utils.rng import make_np_rng
from pylearn_vae.utils.validation import (
    check_fits_in_memory,
    check_nonnegative_float,
    check_positive_float,
    check_positive_int,
    check_probability,
    reject_ignored_option,
)

__all__ = [
    "MLP",
    "CompositeLayer",
    "ConvRectifiedLinear",
    "Layer",
    "Linear",
    "RectifiedLinear",
    "Sigmoid",
    "Softplus",
    "SpaceConverter",
    "Tanh",
]

_NO_INPUT_SPACE = "Input space has not been provided."

# Drawing an irange layer's weights holds the matrix, two uniform draws and a mask.
_DRAW_COPIES = 3

def _check_layers(layers):
    """Refuse an empty list of layers, one that is no Layer, or two with the same name."""
    if not isinstance(layers, (list, tuple)) or len(layers) == 0:
        raise ValueError("MLP needs a non-empty list of layers")
    for layer in layers:
        if not isinstance(layer, Layer):
            raise TypeError(f"MLP layers must be Layer instances, got {layer!r}")
    names = [layer.layer_name for layer in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"MLP.__init__ given two or more layers with same name: {name}")


def _check_mlp_options(owner, nested, batch_size, input_source, target_source, nvis):
    """Check the sizes, and refuse on a ``nested`` MLP what its parent model drives."""
    if batch_size is not None:
        check_positive_int(owner, "batch_size", batch_size)
    if nested:
        # A nested MLP (one without nvis or input_space) is driven by its parent.
        for name, value, default, instead in [
            ("batch_size", batch_size, None, "give batch_size to the training algorithm"),
            ("input_source", input_source, "features", "costs read the top model's"),
            ("target_source", target_source, "targets", "costs read the top model's"),
        ]:
            reject_ignored_option(
                owner, name, value, default,
                f"is not read from a nested MLP, which its parent model drives; {instead}",
            )
    if nvis is not None:
        check_positive_int(owner, "nvis", nvis)


class MLP(Layer):
    """A stack of layers.

    Parameters
    ----------
    layers : list of Layer
        Non-empty; layer names must be unique.
    batch_size : int, optional
        The model's ``force_batch_size`` (top-level MLP only: a nested MLP takes its
        parent's).
    input_space : Space, optional
    input_source, target_source : str
        The sources a cost reads for this model (top-level MLP only).
    nvis : int, optional
        Shorthand for ``input_space=VectorSpace(nvis)``.
    seed : int or list, optional
        Seed of the generator the weights are drawn from (default ``[2013, 1, 4]``); not
        for a nested MLP inside another model, which draws from its parent's generator.
    layer_name : str, optional
        Only for a nested MLP.
    monitor_targets : bool
        Must stay True: this MLP reports no monitoring channels, so there are no target
        channels to turn off.
    """

    def __init__(
        self,
        layers,
        batch_size=None,
        input_space=None,
        input_source="features",
        target_source="targets",
        nvis=None,
        seed=None,
        layer_name=None,
        monitor_targets=True,
    ):
        super().__init__()
        _check_layers(layers)
        nested = nvis is None and input_space is None
        owner = layer_label(self, layer_name)
        _check_mlp_options(owner, nested, batch_size, input_source, target_source, nvis)
        reject_ignored_option(
            owner, "monitor_targets", monitor_targets, True,
            "has nothing to act on: pylearn_vae's MLP reports no monitoring channels",
        )
        self.layers = list(layers)
        for layer in self.layers:
            layer.set_mlp(self)
        self.layer_name = layer_name
        self.batch_size = batch_size
        self.force_batch_size = batch_size
        self.input_source = input_source
        self.target_source = target_source
        self.monitor_targets = monitor_targets
        self.freeze_set = set()
        self.seed = seed
        self._input_space_known = False
        self._nested = nested
        if not nested:
            if layer_name is not None:
                raise ValueError(
                    "only a nested MLP (one built without nvis or input_space) takes a "
                    f"layer_name; got layer_name={layer_name!r}"
                )
            self.rng = make_np_rng(seed, [2013, 1, 4], which_method=["uniform", "randn"])
            if nvis is not None:
                if input_space is not None:
                    raise ValueError("give MLP either nvis or input_space, not both")
                input_space = VectorSpace(nvis)
            self._update_layer_input_spaces(input_space)

    @property
    def nested(self):
        """True for a nested MLP, one built with neither ``nvis`` nor ``input_space``.

        Its parent (an MLP or a VAE conditional) sets its input space and lends it its
        generator; a top-level MLP cannot be placed inside another model.
        """
        return self._nested

    # -- building ---------------------------------------------------------------
    def set_mlp(self, mlp):
        if not self.nested:
            raise ValueError(
                "only a nested MLP (built without nvis or input_space) can be placed "
                "inside another model"
            )
        super().set_mlp(mlp)

    def set_input_space(self, space):
        """Set the input space of a nested MLP and draw its layers' weights."""
        parent = self.get_mlp()
        if parent is not None:
            reject_ignored_option(
                layer_label(self, self.layer_name), "seed", self.seed, None,
                "does not reach the weights of a nested MLP inside another model (they are "
                "drawn from the parent's generator); seed the top-level model instead",
            )
            self.rng = parent.rng
            self.batch_size = getattr(parent, "batch_size", None)
        elif getattr(self, "rng", None) is None:
            self.rng = make_np_rng(self.seed, [2013, 1, 4], which_method=["uniform", "randn"])
        self._update_layer_input_spaces(space)

    def _update_layer_input_spaces(self, space):
        if not isinstance(space, Space):
            raise TypeError(f"MLP input space must be a Space, got {space!r}")
        self.input_space = space
        for layer in self.layers:
            layer.set_input_space(space)
            space = layer.get_output_space()
        self._input_space_known = True

    def add_layers(self, layers):
        """Append layers; their weights are drawn now if the input space is known."""
        existing = {layer.layer_name for layer in self.layers}
        for layer in layers:
            if layer.layer_name in existing:
                raise AssertionError(
                    f"MLP already has a layer named {layer.layer_name!r}; "
                    "layer names must be unique"
                )
            existing.add(layer.layer_name)
        space = self.layers[-1].get_output_space() if self._input_space_known else None
        for layer in layers:
            layer.set_mlp(self)
            self.layers.append(layer)
            if space is not None:
                layer.set_input_space(space)
                space = layer.get_output_space()

    def _require_spaces(self):
        if not self._input_space_known:
            raise AttributeError(_NO_INPUT_SPACE)

    # -- Model API --------------------------------------------------------------
    def get_input_space(self):
        self._require_spaces()
        return self.input_space

    def get_output_space(self):
        return self.layers[-1].get_output_space()

    def get_params(self):
        self._require_spaces()
        params, seen = [], set()
        for layer in self.layers:
            for p in layer.get_params():
                if id(p) not in seen and p not in self.freeze_set:
                    seen.add(id(p))
                    params.append(p)
        return params

    def freeze(self, parameter_set):
        self.freeze_set |= set(parameter_set)

    def get_weights(self):
        self._require_spaces()
        return self.layers[0].get_weights()

    def get_weights_format(self):
        self._require_spaces()
        return self.layers[0].get_weights_format()

    def get_lr_scalers(self):
        scalers = OrderedDict()
        for layer in self.layers:
            for p, scale in layer.get_lr_scalers().items():
                if p in scalers:
                    raise ValueError(f"two layers give a learning-rate scaler for {p.name}")
                scalers[p] = scale
        return scalers

    def _modify_updates(self, updates):
        for layer in self.layers:
            layer.modify_updates(updates)

    def set_batch_size(self, batch_size):
        self.batch_size = batch_size
        self.force_batch_size = batch_size
        for layer in self.layers:
            layer.set_batch_size(batch_size)

    def fprop(self, state_below, return_all=False):
        """Apply every layer in turn; with ``return_all`` a list of each layer's output."""
        self._require_spaces()
        outputs = []
        for layer in self.layers:
            state_below = layer.fprop(state_below)
            outputs.append(state_below)
        return outputs if return_all else state_below


def _check_weight_draw(owner, irange, istdev, sparse_init, sparse_stdev, include_prob):
    """Check the arguments of a Linear layer's weight draw; refuse those that do nothing
    (``sparse_stdev`` without ``sparse_init``, ``include_prob`` without ``irange``)."""
    for name, value in [("irange", irange), ("istdev", istdev)]:
        if value is not None:
            check_nonnegative_float(owner, name, value)
    if sparse_init is not None:
        check_positive_int(owner, "sparse_init", sparse_init)
    else:
        reject_ignored_option(
            owner, "sparse_stdev", sparse_stdev, 1.0, "only scales sparse_init weights"
        )
    check_nonnegative_float(owner, "sparse_stdev", sparse_stdev)
    check_probability(owner, "include_prob", include_prob)
    if irange is None:
        reject_ignored_option(
            owner, "include_prob", include_prob, 1.0, "only masks irange weights"
        )


class Linear(Layer):
    """A dense layer ``x @ W + b`` (and the base of the elementwise layers below).

    Parameters
    ----------
    dim : int
        Number of output units.
    layer_name : str
    irange : float, optional
        ``W ~ U(-irange, irange)``.
    istdev : float, optional
        ``W ~ N(0, istdev^2)``.
    sparse_init : int, optional
        Number of non-zero incoming weights per unit, each ``N(0, 1) * sparse_stdev``.
    sparse_stdev : float
        Only with ``sparse_init``.
    include_prob : float
        Probability that a weight drawn with ``irange`` is kept (others are 0); only with
        ``irange``.
    init_bias : float
    W_lr_scale, b_lr_scale : float, optional
        Learning-rate multipliers.
    mask_weights : array, optional
        Fixed 0/1 mask of shape ``(n_in, dim)`` applied to W's updates.
    max_row_norm, max_col_norm, min_col_norm : float, optional
        Norm constraints on W's rows or columns.
    copy_input : None
        Refused (as in Pylearn2).
    use_abs_loss : bool
        Must stay False: these layers have no cost of their own to make absolute.
    use_bias : bool
    """

    def __init__(
        self,
        dim,
        layer_name,
        irange=None,
        istdev=None,
        sparse_init=None,
        sparse_stdev=1.0,
        include_prob=1.0,
        init_bias=0.0,
        W_lr_scale=None,
        b_lr_scale=None,
        mask_weights=None,
        max_row_norm=None,
        max_col_norm=None,
        min_col_norm=None,
        copy_input=None,
        use_abs_loss=False,
        use_bias=True,
    ):
        super().__init__()
        if copy_input is not None:
            raise AssertionError("copy_input is no longer supported by Linear")
        if [irange, istdev, sparse_init].count(None) != 2:
            raise ValueError(
                f"Linear layer {layer_name!r} needs exactly one of irange, istdev and "
                "sparse_init to know how to draw its weights"
            )
        owner = layer_label(self, layer_name)
        dim = check_positive_int(owner, "dim", dim)
        _check_weight_draw(owner, irange, istdev, sparse_init, sparse_stdev, include_prob)
        for name, value in [("max_row_norm", max_row_norm), ("max_col_norm", max_col_norm)]:
            if value is not None:
                check_positive_float(owner, name, value)
        if min_col_norm is not None:
            check_nonnegative_float(owner, "min_col_norm", min_col_norm)
        reject_ignored_option(
            owner, "use_abs_loss", use_abs_loss, False,
            "is not implemented: pylearn_vae's layers have no cost of their own",
        )
        if (max_col_norm is not None or min_col_norm is not None) and max_row_norm is not None:
            raise ValueError(
                f"Linear layer {layer_name!r}: column norm constraints and max_row_norm "
                "cannot be used together"
            )
        if not use_bias and b_lr_scale is not None:
            raise ValueError(f"Linear layer {layer_name!r} has no bias but got b_lr_scale")
        self.dim = dim
        self.layer_name = layer_name
        self.irange = irange
        self.istdev = istdev
        self.sparse_init = sparse_init
        self.sparse_stdev = sparse_stdev
        self.include_prob = include_prob
        self.init_bias = init_bias
        self.W_lr_scale = None if W_lr_scale is None else float(W_lr_scale)
        self.b_lr_scale = None if b_lr_scale is None else float(b_lr_scale)
        self.mask_weights = None if mask_weights is None else numpy.asarray(mask_weights)
        self.max_row_norm = max_row_norm
        self.max_col_norm = max_col_norm
        self.min_col_norm = min_col_norm
        self.use_bias = use_bias
        if use_bias:
            check_fits_in_memory(
                owner, f"dim ({dim})", 2 * dim * numpy.dtype(float).itemsize, "its bias"
            )
            self.b = Param(numpy.zeros(self.dim) + init_bias, name=f"{layer_name}_b")
        if max_col_norm is not None or min_col_norm is not None:
            self.extensions.append(ConstrainFilterL2Norm(max_col_norm, min_col_norm, axis=0))
        elif max_row_norm is not None:
            self.extensions.append(ConstrainFilterL2Norm(max_row_norm, axis=1))

    def set_input_space(self, space):
        self.input_space = space
        if isinstance(space, VectorSpace):
            self.requires_reformat = False
            self.input_dim = space.dim
        else:
            self.requires_reformat = True
            self.input_dim = space.get_total_dimension()
            self.desired_space = VectorSpace(self.input_dim)
        self.output_space = VectorSpace(self.dim)
        rows, columns = _weight_size_names(self)
        check_fits_in_memory(
            layer_label(self, self.layer_name),
            f"{rows} ({self.input_dim}) or {columns} ({self.dim})",
            _DRAW_COPIES * self.input_dim * self.dim * numpy.dtype(float).itemsize,
            f"drawing its {self.input_dim} x {self.dim} weight matrix",
        )
        W = self._draw_weights(self.mlp.rng, self.input_dim)
        if self.mask_weights is not None:
            if self.mask_weights.shape != (self.input_dim, self.dim):
                raise ValueError(
                    f"Linear layer {self.layer_name!r}: mask_weights has shape "
                    f"{self.mask_weights.shape}, expected {(self.input_dim, self.dim)}"
                )
            W = W * self.mask_weights
        self.W = Param(W, name=f"{self.layer_name}_W")
        self._params = [self.W, self.b] if self.use_bias else [self.W]

    def _draw_weights(self, rng, n_in):
        shape = (n_in, self.dim)
        if self.irange is not None:
            values = rng.uniform(-self.irange, self.irange, shape)
            return values * (rng.uniform(0.0, 1.0, shape) < self.include_prob)
        if self.istdev is not None:
            return rng.randn(*shape) * self.istdev
        if self.sparse_init > n_in:
            raise ValueError(
                f"Linear layer {self.layer_name!r}: sparse_init={self.sparse_init} is more "
                f"than the {n_in} inputs"
            )
        W = numpy.zeros(shape)
        for unit in range(self.dim):
            for _ in range(self.sparse_init):
                idx = rng.randint(0, n_in)
                while W[idx, unit] != 0 or (
                    self.mask_weights is not None and self.mask_weights[idx, unit] == 0
                ):
                    idx = rng.randint(0, n_in)
                W[idx, unit] = rng.randn()
        return W * self.sparse_stdev

    def get_lr_scalers(self):
        scalers = OrderedDict()
        if self.W_lr_scale is not None:
            scalers[self.W] = self.W_lr_scale
        if self.b_lr_scale is not None:
            scalers[self.b] = self.b_lr_scale
        return scalers

    def _modify_updates(self, updates):
        if self.mask_weights is not None and self.W in updates:
            updates[self.W] = updates[self.W] * backend.asarray(
                self.mask_weights, dtype=self.W.dtype
            )

    def get_weights(self):
        if self.requires_reformat:
            raise NotImplementedError(
                f"Linear layer {self.layer_name!r} reformats its {self.input_space} input, "
                "so its weights have no vector view"
            )
        return backend.to_host(self.W.get_value(borrow=True))

    def get_weights_format(self):
        return ("v", "h")

    def set_batch_size(self, batch_size):
        pass

    def transformer(self, state_below):
        """The affine part, ``x @ W + b``."""
        if self.requires_reformat:
            state_below = self.input_space.format_as(state_below, self.desired_space)
        if self.use_bias:
            return ops.affine(state_below, self.W.value, self.b.value)
        return state_below @ self.W.value

    def fprop(self, state_below):
        return self.transformer(state_below)


def _weight_size_names(layer):
    """What the user wrote to give ``layer`` its weight matrix's (rows, columns), for
    messages: ``('nhid', 'dim')`` for the first layer of a VAE's decoder, ``("the dim
    of 'h_d_1'", 'nvis')`` for its output layer, ``('nvis', 'dim')`` in a plain MLP."""
    nests = (MLP, CompositeLayer)
    parent, node = layer.get_mlp(), layer
    position = _position(parent, node)
    first = position == 0
    while isinstance(parent, nests) and isinstance(parent.get_mlp(), nests):
        node, parent = parent, parent.get_mlp()
        first = first and _position(parent, node) == 0
    owner = parent.get_mlp() if isinstance(parent, MLP) else None  # a VAE conditional
    vae = getattr(owner, "vae", None)
    sizes = {}  # what the VAE calls its conditional's input and output sizes
    if vae is not None and owner is getattr(vae, "conditional", None):
        sizes = {"input": "nhid", "output": "nvis"}
    elif vae is not None and owner is getattr(vae, "posterior", None):
        sizes = {"input": "nvis", "output": "nhid"}
    if first or position is None:
        rows = sizes.get("input", "nvis") if first else "its input size"
    else:
        below = layer.get_mlp().layers[position - 1]
        rows = f"the dim of {getattr(below, 'layer_name', None) or 'the layer below'!r}"
    default = getattr(owner, "_default_output_layer", None)
    derived = default is layer or (
        isinstance(default, CompositeLayer) and any(sub is layer for sub in default.layers)
    )
    columns = sizes["output"] if derived and sizes else "dim"
    return rows, columns


def _position(parent, layer):
    """The index in ``parent.layers`` of ``layer`` or of the CompositeLayer holding it."""
    for i, x in enumerate(getattr(parent, "layers", ())):
        if x is layer or (isinstance(x, CompositeLayer) and any(s is layer for s in x.layers)):
            return i
    return None


class RectifiedLinear(Linear):
    """``where(z > 0, z, left_slope * z)`` of the affine output ``z``."""

    def __init__(self, left_slope=0.0, **kwargs):
        super().__init__(**kwargs)
        self.left_slope = left_slope

    def fprop(self, state_below):
        if self.left_slope == 0.0 and self.use_bias and not self.requires_reformat:
            # The same values and gradients in one primitive (a hot path).
            return ops.dense_relu(state_below, self.W.value, self.b.value)
        return ops.relu(self.transformer(state_below), self.left_slope)


class Tanh(Linear):
    """``tanh`` of the affine output."""

    def fprop(self, state_below):
        return ops.tanh(self.transformer(state_below))


class Sigmoid(Linear):
    """Logistic sigmoid of the affine output.

    ``monitor_style`` must stay ``'detection'``: it only chooses Pylearn2's layer
    monitoring channels, which pylearn_vae's layers do not report.
    """

    def __init__(self, monitor_style="detection", **kwargs):
        super().__init__(**kwargs)
        reject_ignored_option(
            layer_label(self, self.layer_name), "monitor_style", monitor_style, "detection",
            "only chooses layer monitoring channels, which pylearn_vae does not report",
        )
        self.monitor_style = monitor_style

    def fprop(self, state_below):
        return ops.sigmoid(self.transformer(state_below))


class Softplus(Linear):
    """``log(1 + exp(z))`` of the affine output."""

    def fprop(self, state_below):
        return ops.softplus(self.transformer(state_below))


class CompositeLayer(Layer):
    """Several layers side by side; the output is a tuple, one entry per layer.

    Parameters
    ----------
    layer_name : str
    layers : list of Layer
    inputs_to_layers : dict, optional
        ``{input index: [layer indices]}`` routing the components of a CompositeSpace
        input; without it every layer sees the whole input.

    ``get_params`` lists the last sub-layer's parameters first, as the original does
    (the VAE's parameter order depends on it).
    """

    def __init__(self, layer_name, layers, inputs_to_layers=None):
        super().__init__()
        self.layer_name = layer_name
        self.layers = list(layers)
        names = [layer.layer_name for layer in self.layers]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(
                    f"CompositeLayer {layer_name!r} given two or more layers with same name: "
                    f"{name}"
                )
        if inputs_to_layers is not None:
            if not isinstance(inputs_to_layers, dict):
                raise TypeError(
                    f"CompositeLayer {layer_name!r}: inputs_to_layers must be a dict, got "
                    f"{type(inputs_to_layers).__name__}"
                )
            for key, value in inputs_to_layers.items():
                if not isinstance(key, int) or not isinstance(value, list):
                    raise TypeError(
                        f"CompositeLayer {layer_name!r}: inputs_to_layers maps int -> list "
                        "of layer indices"
                    )
        self.inputs_to_layers = inputs_to_layers

    def set_mlp(self, mlp):
        super().set_mlp(mlp)
        for layer in self.layers:
            layer.set_mlp(mlp)

    def _routing(self):
        if self.inputs_to_layers is None:
            return None
        routes = {}
        for input_index, layer_indices in sorted(self.inputs_to_layers.items()):
            for layer_index in layer_indices:
                routes.setdefault(layer_index, []).append(input_index)
        return routes

    def _layer_input(self, routes, i, parts, whole):
        # As in Pylearn2, a layer that no input is routed to sees the whole input.
        if routes is None or i not in routes:
            return whole
        chosen = routes[i]
        return parts[chosen[0]] if len(chosen) == 1 else tuple(parts[j] for j in chosen)

    def set_input_space(self, space):
        self.input_space = space
        routes = self._routing()
        if routes is not None and not isinstance(space, CompositeSpace):
            raise ValueError(
                f"CompositeLayer {self.layer_name!r} has inputs_to_layers, so it needs a "
                f"CompositeSpace input, got {space}"
            )
        parts = space.components if routes is not None else None
        for i, layer in enumerate(self.layers):
            sub = self._layer_input(routes, i, parts, space)
            if isinstance(sub, tuple):
                sub = CompositeSpace(list(sub))
            layer.set_input_space(sub)
        self.output_space = CompositeSpace([layer.get_output_space() for layer in self.layers])

    def get_params(self):
        params = []
        for layer in self.layers:
            params = [p for p in layer.get_params() if p not in params] + params
        return params

    def get_lr_scalers(self):
        scalers = OrderedDict()
        for layer in self.layers:
            scalers.update(layer.get_lr_scalers())
        return scalers

    def _modify_updates(self, updates):
        for layer in self.layers:
            layer.modify_updates(updates)

    def fprop(self, state_below):
        routes = self._routing()
        return tuple(
            layer.fprop(self._layer_input(routes, i, state_below, state_below))
            for i, layer in enumerate(self.layers)
        )


class SpaceConverter(Layer):
    """Reshape a batch from the input space to ``output_space`` (no parameters)."""

    def __init__(self, layer_name, output_space):
        super().__init__()
        self.layer_name = layer_name
        self.output_space = output_space

    def set_input_space(self, space):
        self.input_space = space

    def fprop(self, state_below):
        return self.input_space.format_as(state_below, self.output_space)

