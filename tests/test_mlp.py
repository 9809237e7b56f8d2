"""MLP layers (``pylearn2/models/mlp.py``): forward passes against NumPy formulas, weight
initialisation and its draw order, nesting, errors, constraints, convolution and
gradients against finite differences."""

from collections import OrderedDict

import numpy as np
import pytest
from scipy.signal import convolve2d

from pylearn_vae.config import yaml_parse
from pylearn_vae.costs.cost import Cost, DefaultDataSpecsMixin
from pylearn_vae.model_extensions.norm_constraint import ConstrainFilterL2Norm, MaxL2FilterNorm
from pylearn_vae.models import mlp as mlp_module
from pylearn_vae.models.conv import ConvRectifiedLinear
from pylearn_vae.models.layer import Layer
from pylearn_vae.models.mlp import (
    MLP,
    CompositeLayer,
    Linear,
    RectifiedLinear,
    Sigmoid,
    Softplus,
    SpaceConverter,
    Tanh,
)
from pylearn_vae.space import CompositeSpace, Conv2DSpace, VectorSpace


def _wb(layer):
    return layer.W.get_value(), layer.b.get_value()


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# -- forward passes ------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls, kwargs, f",
    [
        (Linear, {}, lambda z: z),
        (RectifiedLinear, {}, lambda z: np.maximum(z, 0)),
        (RectifiedLinear, {"left_slope": 0.1}, lambda z: np.where(z > 0, z, 0.1 * z)),
        (Tanh, {}, np.tanh),
        (Sigmoid, {}, _sigmoid),
        (Softplus, {}, lambda z: np.log1p(np.exp(z))),
    ],
)
def test_linear_family_fprop(float64, cls, kwargs, f):
    layer = cls(dim=3, layer_name="h", irange=1.0, init_bias=0.2, **kwargs)
    mlp = MLP([layer], nvis=4)
    x = np.random.RandomState(1).randn(5, 4)
    W, b = _wb(layer)
    np.testing.assert_allclose(b, [0.2, 0.2, 0.2])
    z = x @ W + b
    assert (z < 0).any() and (z > 0).any()
    np.testing.assert_allclose(mlp.fprop(x), f(z), rtol=1e-12)
    assert mlp.get_output_space() == VectorSpace(3)


def test_linear_reformats_non_vector_input(float64):
    space = Conv2DSpace((2, 2), num_channels=1, axes=("b", "c", 0, 1))
    layer = Linear(dim=2, layer_name="h", irange=0.5)
    mlp = MLP([layer], input_space=space)
    x = np.random.RandomState(2).randn(3, 1, 2, 2)
    W, b = _wb(layer)
    np.testing.assert_allclose(mlp.fprop(x), x.reshape(3, 4) @ W + b)
    with pytest.raises(NotImplementedError, match="reformats"):
        layer.get_weights()


def test_linear_without_bias(float64):
    layer = Linear(dim=2, layer_name="h", irange=0.5, use_bias=False)
    mlp = MLP([layer], nvis=3)
    x = np.random.RandomState(3).randn(2, 3)
    np.testing.assert_allclose(mlp.fprop(x), x @ layer.W.get_value())
    assert [p.name for p in mlp.get_params()] == ["h_W"]


def test_fprop_return_all(float64):
    h0, h1 = Tanh(dim=3, layer_name="h0", irange=1.0), Linear(dim=2, layer_name="h1", irange=1.0)
    mlp = MLP([h0, h1], nvis=2)
    x = np.random.RandomState(4).randn(4, 2)
    a0 = np.tanh(x @ h0.W.get_value() + h0.b.get_value())
    a1 = a0 @ h1.W.get_value() + h1.b.get_value()
    outs = mlp.fprop(x, return_all=True)
    assert len(outs) == 2
    np.testing.assert_allclose(outs[0], a0)
    np.testing.assert_allclose(outs[1], a1)


def test_composite_layer_tuple_output(float64):
    a = Linear(dim=2, layer_name="a", irange=1.0)
    b = Tanh(dim=3, layer_name="b", irange=1.0)
    mlp = MLP([CompositeLayer("comp", [a, b])], nvis=4)
    x = np.random.RandomState(5).randn(2, 4)
    out = mlp.fprop(x)
    assert isinstance(out, tuple) and len(out) == 2
    np.testing.assert_allclose(out[0], x @ a.W.get_value() + a.b.get_value())
    np.testing.assert_allclose(out[1], np.tanh(x @ b.W.get_value() + b.b.get_value()))
    assert mlp.get_output_space() == CompositeSpace([VectorSpace(2), VectorSpace(3)])
    assert a.get_mlp() is mlp and b.get_mlp() is mlp


def test_composite_layer_routing(float64):
    a = Linear(dim=2, layer_name="a", irange=1.0)
    b = Linear(dim=2, layer_name="b", irange=1.0)
    c = Linear(dim=2, layer_name="c", irange=1.0)
    space = CompositeSpace([VectorSpace(3), VectorSpace(4)])
    # a sees input 1, b sees both inputs (as a composite), c is not routed: whole input
    comp = CompositeLayer("comp", [a, b, c], inputs_to_layers={1: [0, 1], 0: [1]})
    mlp = MLP([comp], input_space=space)
    assert a.get_input_space() == VectorSpace(4)
    assert b.get_input_space() == space and c.get_input_space() == space
    rng = np.random.RandomState(6)
    x = (rng.randn(2, 3), rng.randn(2, 4))
    out = mlp.fprop(x)
    joined = np.concatenate(x, axis=1)
    np.testing.assert_allclose(out[0], x[1] @ a.W.get_value() + a.b.get_value())
    np.testing.assert_allclose(out[1], joined @ b.W.get_value() + b.b.get_value())
    np.testing.assert_allclose(out[2], joined @ c.W.get_value() + c.b.get_value())


def test_composite_layer_errors():
    with pytest.raises(TypeError, match="must be a dict"):
        CompositeLayer("c", [Linear(dim=1, layer_name="a", irange=1.0)], inputs_to_layers=[0])
    with pytest.raises(TypeError, match="int -> list"):
        CompositeLayer("c", [Linear(dim=1, layer_name="a", irange=1.0)], {0: 0})
    comp = CompositeLayer("c", [Linear(dim=1, layer_name="a", irange=1.0)], {0: [0]})
    with pytest.raises(ValueError, match="needs a CompositeSpace input"):
        MLP([comp], nvis=3)


def test_space_converter(float64):
    target = Conv2DSpace((2, 3), num_channels=1, axes=("b", "c", 0, 1))
    conv = SpaceConverter("conv", target)
    mlp = MLP([conv], nvis=6)
    x = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(mlp.fprop(x), x.reshape(2, 2, 3, 1).transpose(0, 3, 1, 2))
    assert mlp.get_output_space() == target and mlp.get_params() == []


# -- initialisation --------------------------------------------------------------------
def test_irange_istdev_and_sparse_init_distributions():
    big = MLP(
        [
            Linear(dim=200, layer_name="u", irange=0.3),
            Linear(dim=200, layer_name="n", istdev=0.5),
            Linear(dim=40, layer_name="s", sparse_init=3, sparse_stdev=2.0),
            Linear(dim=100, layer_name="p", irange=1.0, include_prob=0.25),
        ],
        nvis=100,
    )
    u, n, s, p = (layer.W.get_value() for layer in big.layers)
    assert np.abs(u).max() <= 0.3 and np.abs(u).max() > 0.29
    assert abs(u.std() - 0.3 / np.sqrt(3)) < 0.01
    assert abs(n.std() - 0.5) < 0.01 and abs(n.mean()) < 0.01
    np.testing.assert_array_equal((s != 0).sum(axis=0), np.full(40, 3))
    assert abs(s[s != 0].std() - 2.0) < 0.4
    assert abs((p != 0).mean() - 0.25) < 0.02


def test_weight_draw_order_reproduces_the_original():
    mlp = MLP(
        [
            Linear(dim=3, layer_name="h0", irange=0.1),
            Tanh(dim=2, layer_name="h1", irange=0.2, include_prob=0.5),
        ],
        nvis=4,
    )
    rng = np.random.RandomState([2013, 1, 4])
    for layer, shape, irange, prob in [
        (mlp.layers[0], (4, 3), 0.1, 1.0),
        (mlp.layers[1], (3, 2), 0.2, 0.5),
    ]:
        W = rng.uniform(-irange, irange, shape) * (rng.uniform(0.0, 1.0, shape) < prob)
        np.testing.assert_array_equal(layer.W.get_value(), W.astype("float32"))
    seeded = MLP([Linear(dim=3, layer_name="h0", irange=0.1)], nvis=4, seed=5)
    W = np.random.RandomState(5).uniform(-0.1, 0.1, (4, 3))
    np.testing.assert_array_equal(seeded.layers[0].W.get_value(), W.astype("float32"))


def test_nested_mlp_completed_by_parent():
    class Parent:
        rng = np.random.RandomState(11)
        batch_size = 7

    inner = MLP([Linear(dim=3, layer_name="a", irange=0.1)], layer_name="inner")
    assert inner.nested
    with pytest.raises(AttributeError, match="Input space has not been provided."):
        inner.get_params()
    inner.add_layers([Linear(dim=2, layer_name="b", irange=0.2)])
    inner.set_mlp(Parent)
    inner.set_input_space(VectorSpace(4))
    assert inner.rng is Parent.rng and inner.batch_size == 7
    rng = np.random.RandomState(11)
    for layer, shape, irange in [(inner.layers[0], (4, 3), 0.1), (inner.layers[1], (3, 2), 0.2)]:
        W = rng.uniform(-irange, irange, shape) * (rng.uniform(0.0, 1.0, shape) < 1.0)
        np.testing.assert_array_equal(layer.W.get_value(), W.astype("float32"))
    assert [p.name for p in inner.get_params()] == ["a_W", "a_b", "b_W", "b_b"]
    assert inner.get_output_space() == VectorSpace(2)


def test_nested_mlp_inside_top_level_mlp_uses_its_rng():
    inner = MLP([Linear(dim=3, layer_name="a", irange=0.1)], layer_name="inner")
    outer = MLP([inner, Linear(dim=2, layer_name="out", irange=0.1)], nvis=4)
    rng = np.random.RandomState([2013, 1, 4])
    for layer, shape in [(inner.layers[0], (4, 3)), (outer.layers[1], (3, 2))]:
        W = rng.uniform(-0.1, 0.1, shape) * (rng.uniform(0.0, 1.0, shape) < 1.0)
        np.testing.assert_array_equal(layer.W.get_value(), W.astype("float32"))
    assert [p.name for p in outer.get_params()] == ["a_W", "a_b", "out_W", "out_b"]


def test_add_layers_after_input_space_draws_now():
    mlp = MLP([Linear(dim=3, layer_name="a", irange=0.1)], nvis=2)
    mlp.add_layers([Linear(dim=5, layer_name="b", irange=0.1)])
    assert mlp.layers[1].W.shape == (3, 5) and mlp.get_output_space() == VectorSpace(5)
    with pytest.raises(AssertionError, match="'b'"):
        mlp.add_layers([Linear(dim=1, layer_name="b", irange=0.1)])


# -- parameters, errors, scalers -------------------------------------------------------
def test_get_params_order_and_names():
    comp = CompositeLayer(
        "comp",
        [Linear(dim=2, layer_name="c0", irange=0.1), Linear(dim=2, layer_name="c1", irange=0.1)],
    )
    mlp = MLP([Linear(dim=3, layer_name="h0", irange=0.1), comp], nvis=2)
    names = [p.name for p in mlp.get_params()]
    assert names == ["h0_W", "h0_b", "c1_W", "c1_b", "c0_W", "c0_b"]
    mlp.freeze([mlp.layers[0].W])
    assert [p.name for p in mlp.get_params()][0] == "h0_b"


def test_mlp_errors():
    with pytest.raises(
        ValueError, match="MLP.__init__ given two or more layers with same name: h"
    ):
        MLP([Linear(dim=2, layer_name="h", irange=0.1), Linear(dim=2, layer_name="h", irange=0.1)])
    with pytest.raises(ValueError, match="non-empty"):
        MLP([], nvis=2)
    top = MLP([Linear(dim=2, layer_name="h", irange=0.1)], nvis=2)
    with pytest.raises(ValueError, match="nested"):
        top.set_mlp(MLP([Linear(dim=2, layer_name="g", irange=0.1)], nvis=2))
    with pytest.raises(ValueError, match="nested"):
        MLP([top], nvis=2)
    nested = MLP([Linear(dim=2, layer_name="h", irange=0.1)])
    for method in (nested.get_params, nested.get_input_space, nested.get_weights):
        with pytest.raises(AttributeError, match="Input space has not been provided."):
            method()
    with pytest.raises(AttributeError, match="Input space has not been provided."):
        nested.fprop(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="exactly one of irange, istdev and sparse_init"):
        Linear(dim=2, layer_name="h")
    with pytest.raises(ValueError, match="exactly one of"):
        Linear(dim=2, layer_name="h", irange=0.1, istdev=0.1)
    with pytest.raises(AssertionError):
        Linear(dim=2, layer_name="h", irange=0.1, copy_input=1)
    with pytest.raises(ValueError, match="cannot be used together"):
        Linear(dim=2, layer_name="h", irange=0.1, max_col_norm=1.0, max_row_norm=1.0)
    with pytest.raises(ValueError, match="mask_weights has shape"):
        MLP([Linear(dim=2, layer_name="h", irange=0.1, mask_weights=np.ones((2, 2)))], nvis=3)
    with pytest.raises(TypeError, match="Conv2DSpace"):
        MLP([ConvRectifiedLinear(1, (2, 2), (1, 1), (1, 1), "c", irange=0.1)], nvis=4)


def test_lr_scalers():
    h0 = Linear(dim=2, layer_name="h0", irange=0.1, W_lr_scale=0.5)
    h1 = Linear(dim=2, layer_name="h1", irange=0.1, b_lr_scale=2)
    mlp = MLP([h0, h1], nvis=2)
    scalers = mlp.get_lr_scalers()
    assert scalers == {h0.W: 0.5, h1.b: 2.0}
    assert all(type(v) is float for v in scalers.values())
    assert Linear(dim=1, layer_name="x", irange=0.1).get_lr_scalers() == {}


def test_set_batch_size_propagates():
    mlp = MLP([Linear(dim=2, layer_name="h", irange=0.1)], nvis=2, batch_size=3)
    assert mlp.force_batch_size == 3
    mlp.set_batch_size(8)
    assert mlp.batch_size == 8 and mlp.force_batch_size == 8


# -- constraints -----------------------------------------------------------------------
def test_max_col_norm_clips_columns_through_modify_updates():
    layer = Linear(dim=3, layer_name="h", irange=0.1, max_col_norm=1.0)
    mlp = MLP([layer], nvis=4)
    new = np.random.RandomState(7).randn(4, 3).astype("float32")
    new[:, 1] *= 0.01
    updates = OrderedDict([(layer.W, new), (layer.b, np.ones(3, "float32"))])
    mlp.modify_updates(updates)
    norms = np.sqrt((updates[layer.W] ** 2).sum(axis=0))
    old = np.sqrt((new**2).sum(axis=0))
    np.testing.assert_allclose(norms, np.minimum(old, 1.0), rtol=1e-5)
    np.testing.assert_allclose(updates[layer.W][:, 1], new[:, 1])
    np.testing.assert_array_equal(updates[layer.b], np.ones(3))


def test_max_row_norm_and_enforce_constraints():
    layer = Linear(dim=3, layer_name="h", irange=10.0, max_row_norm=0.5)
    mlp = MLP([layer], nvis=4)
    mlp.enforce_constraints()
    np.testing.assert_allclose(np.sqrt((layer.W.get_value() ** 2).sum(axis=1)), 0.5, rtol=1e-5)


def test_min_col_norm_raises_small_columns():
    layer = Linear(dim=3, layer_name="h", irange=0.1, min_col_norm=0.5)
    mlp = MLP([layer], nvis=2)
    # column norms 0.1, 1.0 and 3.0; without max_col_norm the upper bound is the largest
    new = np.array([[0.06, 0.6, 1.8], [0.08, 0.8, 2.4]], dtype="float32")
    updates = {layer.W: new}
    mlp.modify_updates(updates)
    norms = np.sqrt((updates[layer.W] ** 2).sum(axis=0))
    np.testing.assert_allclose(norms, [0.5, 1.0, 3.0], rtol=1e-5)
    np.testing.assert_allclose(updates[layer.W][:, 0] / norms[0], new[:, 0] / 0.1, rtol=1e-5)


def test_mask_weights_applied_to_updates():
    mask = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    layer = Linear(dim=2, layer_name="h", irange=1.0, mask_weights=mask)
    mlp = MLP([layer], nvis=3)
    assert np.all(layer.W.get_value()[mask == 0] == 0)
    updates = {layer.W: np.ones((3, 2), "float32")}
    mlp.modify_updates(updates)
    np.testing.assert_array_equal(updates[layer.W], mask)


def test_max_l2_filter_norm_is_deprecated_alias():
    with pytest.warns(DeprecationWarning, match="ConstrainFilterL2Norm"):
        ext = MaxL2FilterNorm(1.0)
    assert isinstance(ext, ConstrainFilterL2Norm)


# -- convolution -----------------------------------------------------------------------
def _conv_layer(float_input_axes=("b", 0, 1, "c"), **kwargs):
    layer = ConvRectifiedLinear(
        output_channels=3, kernel_shape=(2, 3), layer_name="conv", irange=0.5, **kwargs
    )
    space = Conv2DSpace((5, 6), num_channels=2, axes=float_input_axes)
    return layer, MLP([layer], input_space=space)


def _reference_conv(x_bc01, layer):
    W, b = layer.W.get_value(), layer.b.get_value()
    out = np.stack(
        [
            np.stack(
                [
                    sum(convolve2d(x_bc01[n, c], W[o, c], mode="valid") for c in range(W.shape[1]))
                    for o in range(W.shape[0])
                ]
            )
            for n in range(x_bc01.shape[0])
        ]
    )
    return np.maximum(out + b, 0)


def _reference_max_pool(z, pool, stride):
    rows, cols = z.shape[2:]
    out_r = int(np.ceil((rows - pool[0]) / stride[0])) + 1
    out_c = int(np.ceil((cols - pool[1]) / stride[1])) + 1
    out = np.empty(z.shape[:2] + (out_r, out_c))
    for i in range(out_r):
        for j in range(out_c):
            r0, c0 = i * stride[0], j * stride[1]
            out[:, :, i, j] = z[:, :, r0 : r0 + pool[0], c0 : c0 + pool[1]].max(axis=(2, 3))
    return out


def test_conv_rectified_linear_matches_scipy(float64):
    layer, mlp = _conv_layer(pool_shape=(1, 1), pool_stride=(1, 1), init_bias=0.1)
    x = np.random.RandomState(8).randn(2, 5, 6, 2)
    assert layer.W.shape == (3, 2, 2, 3) and layer.b.shape == (3, 4, 4)
    assert mlp.get_output_space() == Conv2DSpace((4, 4), num_channels=3, axes=("b", "c", 0, 1))
    ref = _reference_conv(x.transpose(0, 3, 1, 2), layer)
    assert (ref == 0).any() and (ref > 0).any()
    np.testing.assert_allclose(mlp.fprop(x), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "pool, stride, out_shape",
    [((2, 2), (2, 2), (2, 2)), ((3, 2), (2, 1), (2, 3)), ((2, 3), (3, 2), (2, 2))],
)
def test_conv_max_pooling_matches_loop(float64, pool, stride, out_shape):
    layer, mlp = _conv_layer(
        float_input_axes=("c", 0, 1, "b"), pool_shape=pool, pool_stride=stride
    )
    # the detector is (4, 4); pools that overhang the border take the max of what is there
    assert mlp.get_output_space().shape == out_shape
    x = np.random.RandomState(9).randn(2, 5, 6, 2)
    ref = _reference_max_pool(_reference_conv(x.transpose(3, 0, 1, 2), layer), pool, stride)
    assert ref.shape[2:] == out_shape
    np.testing.assert_allclose(mlp.fprop(x), ref, rtol=1e-10, atol=1e-12)


def test_conv_max_kernel_norm_and_errors():
    layer, mlp = _conv_layer(pool_shape=(1, 1), pool_stride=(1, 1), max_kernel_norm=0.3)
    mlp.enforce_constraints()
    norms = np.sqrt((layer.W.get_value() ** 2).sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(norms, 0.3, rtol=1e-5)
    with pytest.raises(ValueError, match="exactly one of irange and sparse_init"):
        ConvRectifiedLinear(1, (2, 2), (1, 1), (1, 1), "c")
    with pytest.raises(ValueError, match="pool_shape"):
        _conv_layer(pool_shape=(5, 5), pool_stride=(1, 1))


# -- gradients -------------------------------------------------------------------------
class SquaredError(DefaultDataSpecsMixin, Cost):
    """Mean over the batch of the squared error of every output against a target."""

    def __init__(self, targets):
        self.targets = targets

    def expr(self, model, data, **kwargs):
        out = model.fprop(data)
        outs = out if isinstance(out, tuple) else (out,)
        total = 0.0
        for o, t in zip(outs, self.targets, strict=True):
            d = o - t
            total = total + (d * d).sum() / d.shape[0]
        return total


def _check_gradients(cost, model, data, eps=1e-6):
    grads, updates = cost.get_gradients(model, data)
    assert updates == {} and list(grads) == model.get_params()
    for p, g in grads.items():
        assert g.shape == p.shape
        value = p.get_value()
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            for sign in (1, -1):
                shifted = value.copy()
                shifted[idx] += sign * eps
                p.set_value(shifted)
                numeric[idx] += sign * float(cost.expr(model, data)) / (2 * eps)
        p.set_value(value)
        np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-7, err_msg=p.name)


def test_mlp_gradients_match_finite_differences(float64):
    rng = np.random.RandomState(10)
    conv_space = Conv2DSpace((4, 4), num_channels=1, axes=("b", "c", 0, 1))
    mlp = MLP(
        [
            RectifiedLinear(dim=16, layer_name="h0", irange=0.5, left_slope=0.1),
            SpaceConverter("to_img", conv_space),
            ConvRectifiedLinear(2, (2, 2), (2, 2), (1, 1), "conv", irange=0.5, init_bias=0.3),
            CompositeLayer(
                "out",
                [
                    Sigmoid(dim=2, layer_name="s", irange=0.5),
                    Softplus(dim=3, layer_name="p", istdev=0.5),
                ],
            ),
        ],
        nvis=3,
    )
    x = rng.randn(4, 3)
    cost = SquaredError((rng.rand(4, 2), rng.rand(4, 3)))
    _check_gradients(cost, mlp, x)


def test_unreached_params_get_zero_gradients(float64):
    a = Tanh(dim=2, layer_name="a", irange=0.5)
    b = Linear(dim=2, layer_name="b", irange=0.5)
    mlp = MLP([CompositeLayer("c", [a, b])], nvis=3)
    rng = np.random.RandomState(12)

    class FirstOnly(SquaredError):
        def expr(self, model, data, **kwargs):
            d = model.fprop(data)[0] - self.targets[0]
            return (d * d).mean()

    cost = FirstOnly((rng.randn(2, 2),))
    grads, _ = cost.get_gradients(mlp, rng.randn(2, 3))
    assert np.all(grads[b.W] == 0) and np.all(grads[b.b] == 0)
    assert np.any(grads[a.W] != 0)
    _check_gradients(cost, mlp, rng.randn(2, 3))


def test_yaml_paths_under_mlp_name_layer_and_conv_layer():
    # Layer and ConvRectifiedLinear live in their own modules (no import cycle with mlp.py)
    # but keep Pylearn2's paths under pylearn2.models.mlp.
    conv = yaml_parse.load(
        "!obj:pylearn2.models.mlp.ConvRectifiedLinear {output_channels: 2, "
        "kernel_shape: [2, 2], pool_shape: [1, 1], pool_stride: [1, 1], "
        "layer_name: c, irange: 0.1}"
    )
    assert type(conv) is ConvRectifiedLinear
    mlp = yaml_parse.load(
        "!obj:pylearn_vae.models.mlp.MLP {nvis: 3, layers: ["
        "!obj:pylearn_vae.models.mlp.Linear {dim: 2, layer_name: h, irange: 0.1}]}"
    )
    assert isinstance(mlp.layers[0], Layer)
    assert mlp_module.Layer is Layer
