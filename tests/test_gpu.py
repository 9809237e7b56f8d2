"""The primitives and an MLP gradient on CuPy, compared with the NumPy results.

Every test is marked ``gpu`` and skipped where CuPy or a CUDA device is missing.
Each runs the same computation on small float64 NumPy and CuPy arrays and compares
values and autograd gradients (moved back with ``cupy.asnumpy``); the NumPy results
themselves are checked against formulas and finite differences in
``tests/test_primitives.py`` and ``tests/test_mlp.py``.
"""

import numpy as np
import pytest
from autograd import grad

from pylearn_vae import backend
from pylearn_vae import primitives as P
from pylearn_vae.costs.cost import Cost, DefaultDataSpecsMixin
from pylearn_vae.models.mlp import MLP, CompositeLayer, RectifiedLinear, Sigmoid, Softplus, Tanh

pytestmark = pytest.mark.gpu


@pytest.fixture
def cupy():
    cupy = pytest.importorskip("cupy")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no driver, no device
        count = 0
    if count < 1:
        pytest.skip("no CUDA device")
    device, floatx = backend.get_device(), backend.floatX()
    backend.set_device("gpu")
    backend.set_floatX("float64")
    yield cupy
    backend.set_device(device)
    backend.set_floatX(floatx)


rng = np.random.RandomState(0)


def _compare(cupy, f, *args):
    """``f`` and the gradient of ``sum(f * w)`` for each argument: CuPy vs NumPy."""
    host = [np.asarray(a, dtype="float64") for a in args]
    dev = [cupy.asarray(a) for a in host]
    out_host = f(*host)
    out_dev = f(*dev)
    assert isinstance(out_dev, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(out_dev), out_host, rtol=1e-10, atol=1e-12)
    w = rng.randn(*np.shape(out_host))
    w_dev = cupy.asarray(w)
    for i in range(len(args)):
        g_host = grad(lambda *a: P.sum(f(*a) * w), i)(*host)
        g_dev = grad(lambda *a: P.sum(f(*a) * w_dev), i)(*dev)
        assert isinstance(g_dev, cupy.ndarray)
        np.testing.assert_allclose(cupy.asnumpy(g_dev), g_host, rtol=1e-10, atol=1e-12)


def test_affine(cupy):
    _compare(cupy, P.affine, rng.randn(3, 4), rng.randn(4, 5), rng.randn(5))


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_relu(cupy, slope):
    _compare(cupy, lambda x: P.relu(x, slope), rng.randn(4, 3) + 0.05)


@pytest.mark.parametrize("prim", [P.tanh, P.sigmoid, P.softplus, P.exp])
def test_elementwise(cupy, prim):
    _compare(cupy, prim, rng.randn(3, 4))


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False)])
@pytest.mark.parametrize("prim", [P.sum, P.mean])
def test_reductions(cupy, prim, axis, keepdims):
    _compare(cupy, lambda x: prim(x, axis=axis, keepdims=keepdims), rng.randn(2, 3, 4))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_logsumexp_and_log_mean_exp(cupy, axis):
    x = rng.randn(3, 4, 2)
    _compare(cupy, lambda v: P.logsumexp(v, axis=axis), x)
    _compare(cupy, lambda v: P.log_mean_exp(v, axis=axis), x)


def test_bernoulli_log_likelihood(cupy):
    x = (rng.uniform(size=(2, 3, 4)) < 0.5).astype(float)
    _compare(cupy, P.bernoulli_log_likelihood, x, rng.randn(2, 3, 4))
    _compare(cupy, P.bernoulli_log_likelihood, x, rng.randn(3, 4))


def test_gaussian_log_density(cupy):
    x, mu, ls = rng.randn(2, 3, 4), rng.randn(3, 4), 0.3 * rng.randn(3, 4)
    _compare(cupy, P.gaussian_log_density, x, mu, ls)
    _compare(cupy, P.gaussian_log_density, x, mu[0], ls[0])


def test_reparametrize(cupy):
    mu, ls, eps = rng.randn(3, 4), rng.randn(3, 4), rng.randn(2, 3, 4)
    _compare(cupy, P.reparametrize, mu, ls, eps)
    _compare(cupy, P.reparametrize, mu, ls, eps[0])


def test_diagonal_gaussian_kl(cupy):
    args = rng.randn(3, 4), 0.3 * rng.randn(3, 4), rng.randn(4), 0.3 * rng.randn(4)
    _compare(cupy, P.diagonal_gaussian_kl, *args)


class _SquaredError(DefaultDataSpecsMixin, Cost):
    """Squared error of each output of a CompositeLayer against its target."""

    def __init__(self, targets):
        self.targets = targets

    def expr(self, model, data, **kwargs):
        outs = model.fprop(data)
        return sum(P.mean(P.sum((o - t) * (o - t), axis=1)) for o, t in zip(outs, self.targets))


def _build_mlp():
    return MLP(
        [
            RectifiedLinear(dim=5, layer_name="h0", irange=0.5, left_slope=0.1),
            Tanh(dim=4, layer_name="h1", istdev=0.5),
            CompositeLayer(
                "out",
                [
                    Sigmoid(dim=2, layer_name="s", irange=0.5),
                    Softplus(dim=3, layer_name="p", irange=0.5),
                ],
            ),
        ],
        nvis=3,
        seed=4,
    )


def test_mlp_gradients_on_gpu_match_cpu(cupy):
    x, t0, t1 = rng.randn(4, 3), rng.rand(4, 2), rng.rand(4, 3)
    gpu_mlp = _build_mlp()
    assert isinstance(gpu_mlp.get_params()[0].get_value(borrow=True), cupy.ndarray)
    targets = (cupy.asarray(t0), cupy.asarray(t1))
    gpu_grads, _ = _SquaredError(targets).get_gradients(gpu_mlp, cupy.asarray(x))

    backend.set_device("cpu")
    cpu_mlp = _build_mlp()
    cpu_grads, _ = _SquaredError((t0, t1)).get_gradients(cpu_mlp, x)
    backend.set_device("gpu")

    assert [p.name for p in gpu_grads] == [p.name for p in cpu_grads]
    for (p, g_dev), g_host in zip(gpu_grads.items(), cpu_grads.values()):
        assert isinstance(g_dev, cupy.ndarray), p.name
        assert np.any(g_host != 0), p.name
        np.testing.assert_allclose(cupy.asnumpy(g_dev), g_host, rtol=1e-9, err_msg=p.name)
