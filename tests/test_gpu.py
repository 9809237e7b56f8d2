"""The ops, an MLP gradient and the VAE on CuPy, compared with the NumPy results.

Every test is marked ``gpu`` and skipped where CuPy or a CUDA device is missing, and
runs twice: with the GPU registrations of ``pylearn_vae.accel`` (fused kernels of
``pylearn_vae/accel/kernels.py``), and with the reference formulas of
``pylearn_vae.ops`` alone on CuPy arrays. Each runs the same computation on small
float64 NumPy and CuPy arrays and compares values and autograd gradients (moved back
with ``cupy.asnumpy``); the NumPy results themselves are checked against formulas and
finite differences in ``tests/test_ops.py``, ``tests/test_accel.py``,
``tests/test_mlp.py`` and ``tests/test_vae_maths.py``.
The VAE's two criteria are compared on the same fixed noise; its Monte Carlo KL is
checked against the analytic KL on the GPU's own noise.
"""

import numpy as np
import pytest
from autograd import grad

from pylearn_vae import backend, op_registry, ops
from pylearn_vae.costs.cost import Cost, DefaultDataSpecsMixin
from pylearn_vae.costs.vae import ImportanceSamplingCriterion, VAECriterion
from pylearn_vae.models.mlp import MLP, CompositeLayer, RectifiedLinear, Sigmoid, Softplus, Tanh
from pylearn_vae.testing.learning_rule import momentum_on_each_device
from pylearn_vae.testing.vae import make_vae

pytestmark = pytest.mark.gpu


@pytest.fixture(params=["accelerated", "reference"])
def cupy(request, monkeypatch):
    """CuPy on the GPU, float64; each test runs with the GPU registrations of
    pylearn_vae.accel and with the reference formulas alone."""
    cupy = pytest.importorskip("cupy")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no driver, no device
        count = 0
    if count < 1:
        pytest.skip("no CUDA device")
    registered = ops.registered()
    if request.param == "accelerated":
        assert any(device == "gpu" for _, device in registered), "pylearn_vae.accel not installed"
    else:
        monkeypatch.setattr(
            op_registry, "_FASTER", {k: v for k, v in registered.items() if k[1] != "gpu"}
        )
    with backend.using(device="gpu", floatX="float64"):
        yield cupy


def _compare(cupy, f, *args):
    """``f`` and the gradient of ``sum(f * w)`` for each argument: CuPy on the GPU vs
    NumPy on the CPU (an op runs what is registered for the current device)."""
    host = [np.asarray(a, dtype="float64") for a in args]
    dev = [cupy.asarray(a) for a in host]
    w = np.random.RandomState(0).randn(*np.shape(f(*dev)))
    with backend.using(device="cpu"):
        out_host = f(*host)
        g_host = [grad(lambda *a: ops.sum(f(*a) * w), i)(*host) for i in range(len(args))]
    out_dev = f(*dev)
    assert isinstance(out_dev, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(out_dev), out_host, rtol=1e-10, atol=1e-12)
    w_dev = cupy.asarray(w)
    for i in range(len(args)):
        g_dev = grad(lambda *a: ops.sum(f(*a) * w_dev), i)(*dev)
        assert isinstance(g_dev, cupy.ndarray)
        np.testing.assert_allclose(cupy.asnumpy(g_dev), g_host[i], rtol=1e-10, atol=1e-12)


def test_affine(rng, cupy):
    _compare(cupy, ops.affine, rng.randn(3, 4), rng.randn(4, 5), rng.randn(5))


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_relu(rng, cupy, slope):
    _compare(cupy, lambda x: ops.relu(x, slope), rng.randn(4, 3) + 0.05)


@pytest.mark.parametrize("prim", [ops.tanh, ops.sigmoid, ops.softplus])
def test_elementwise(rng, cupy, prim):
    _compare(cupy, prim, rng.randn(3, 4))


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False)])
@pytest.mark.parametrize("prim", [ops.sum, ops.mean])
def test_reductions(rng, cupy, prim, axis, keepdims):
    _compare(cupy, lambda x: prim(x, axis=axis, keepdims=keepdims), rng.randn(2, 3, 4))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_logsumexp_and_log_mean_exp(rng, cupy, axis):
    x = rng.randn(3, 4, 2)
    _compare(cupy, lambda v: ops.logsumexp(v, axis=axis), x)
    _compare(cupy, lambda v: ops.log_mean_exp(v, axis=axis), x)


def test_bernoulli_log_likelihood(rng, cupy):
    x = (rng.uniform(size=(2, 3, 4)) < 0.5).astype(float)
    _compare(cupy, ops.bernoulli_log_likelihood, x, rng.randn(2, 3, 4))
    _compare(cupy, ops.bernoulli_log_likelihood, x, rng.randn(3, 4))


def test_gaussian_log_density(rng, cupy):
    x, mu, ls = rng.randn(2, 3, 4), rng.randn(3, 4), 0.3 * rng.randn(3, 4)
    _compare(cupy, ops.gaussian_log_density, x, mu, ls)
    _compare(cupy, ops.gaussian_log_density, x, mu[0], ls[0])


def test_reparametrize(rng, cupy):
    mu, ls, eps = rng.randn(3, 4), rng.randn(3, 4), rng.randn(2, 3, 4)
    _compare(cupy, ops.reparametrize, mu, ls, eps)
    _compare(cupy, ops.reparametrize, mu, ls, eps[0])


def test_diagonal_gaussian_kl(rng, cupy):
    args = rng.randn(3, 4), 0.3 * rng.randn(3, 4), rng.randn(4), 0.3 * rng.randn(4)
    _compare(cupy, ops.diagonal_gaussian_kl, *args)


class _SquaredError(DefaultDataSpecsMixin, Cost):
    """Squared error of each output of a CompositeLayer against its target."""

    def __init__(self, targets):
        self.targets = targets

    def expr(self, model, data, **kwargs):
        outs = model.fprop(data)
        return sum(
            ops.mean(ops.sum((o - t) * (o - t), axis=1))
            for o, t in zip(outs, self.targets, strict=True)
        )


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


def test_mlp_gradients_on_gpu_match_cpu(rng, cupy):
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
    for (p, g_dev), g_host in zip(gpu_grads.items(), cpu_grads.values(), strict=True):
        assert isinstance(g_dev, cupy.ndarray), p.name
        assert np.any(g_host != 0), p.name
        np.testing.assert_allclose(cupy.asnumpy(g_dev), g_host, rtol=1e-9, err_msg=p.name)


# -- the VAE on the GPU ---------------------------------------------------------------------
def _vae_with_fixed_noise(epsilon, **kwargs):
    """A small VAE on the current device whose posterior noise is always ``epsilon``."""
    vae = make_vae(nvis=6, nhid=3, hidden=5, irange=0.5, **kwargs)

    def fixed(shape):
        assert tuple(shape) == epsilon.shape
        return backend.asarray(epsilon)

    vae.posterior.sample_from_epsilon = fixed
    return vae


@pytest.mark.parametrize("conditional", ["bernoulli", "gaussian"])
def test_vae_criteria_and_gradients_on_gpu_match_cpu(rng, cupy, conditional):
    epsilon = rng.randn(4, 5, 3)
    x = (rng.uniform(size=(5, 6)) < 0.5).astype(float)
    results = {}
    for device in ("gpu", "cpu"):
        backend.set_device(device)
        vae = _vae_with_fixed_noise(epsilon, conditional=conditional)
        X = backend.asarray(x)
        lower_bound = vae.log_likelihood_lower_bound(X, 4)
        approximation = vae.log_likelihood_approximation(X, 4)
        costs = [
            cost.get_value_and_gradients(vae, X)
            for cost in (VAECriterion(num_samples=4), ImportanceSamplingCriterion(num_samples=4))
        ]
        results[device] = (vae, lower_bound, approximation, costs)
    backend.set_device("gpu")

    gpu, cpu = results["gpu"], results["cpu"]
    assert isinstance(gpu[1], cupy.ndarray) and gpu[1].shape == (5,)
    for a, b in zip(gpu[1:3], cpu[1:3], strict=True):
        np.testing.assert_allclose(cupy.asnumpy(a), b, rtol=1e-10, atol=1e-12)
    if conditional == "bernoulli":
        assert np.all(cupy.asnumpy(gpu[1]) <= 0)
    for (v_dev, g_dev, _), (v_host, g_host, _) in zip(gpu[3], cpu[3], strict=True):
        assert float(v_dev) == pytest.approx(float(v_host), rel=1e-10)
        assert (
            [p.name for p in g_dev]
            == [p.name for p in g_host]
            == [p.name for p in gpu[0].get_params()]
        )
        for (p, a), b in zip(g_dev.items(), g_host.values(), strict=True):
            assert isinstance(a, cupy.ndarray), p.name
            np.testing.assert_allclose(cupy.asnumpy(a), b, rtol=1e-9, atol=1e-12, err_msg=p.name)


def test_vae_monte_carlo_kl_on_gpu_noise(rng, cupy):
    vae = make_vae(nvis=6, nhid=3, hidden=5, irange=0.5)
    vae.prior.prior_mu.set_value(cupy.asarray(rng.randn(3)))
    X = backend.asarray((rng.uniform(size=(4, 6)) < 0.5).astype(float))
    phi = vae.encode_phi(X)
    analytic = cupy.asnumpy(vae.kl_divergence_term(phi, vae.get_prior_theta()))
    epsilon = vae.sample_from_epsilon((20000, 4, 3))
    assert isinstance(epsilon, cupy.ndarray) and epsilon.dtype == np.float64
    z = vae.sample_from_q_z_given_x(epsilon, phi)
    log_ratio = cupy.asnumpy(vae.log_q_z_given_x(z, phi) - vae.log_p_z(z))
    monte_carlo = cupy.asnumpy(vae.kl_divergence_term(phi, None, True, epsilon))
    np.testing.assert_allclose(monte_carlo, log_ratio.mean(axis=0), rtol=1e-10)
    standard_error = log_ratio.std(axis=0) / np.sqrt(20000)
    assert np.all(np.abs(monte_carlo - analytic) < 5 * standard_error)


def test_vae_sampling_and_monitoring_on_gpu(rng, cupy):
    vae = make_vae(nvis=6, nhid=3, hidden=5)
    X = backend.asarray((rng.uniform(size=(4, 6)) < 0.5).astype(float))
    samples, means = vae.sample(7)
    assert isinstance(samples, cupy.ndarray) and samples.shape == means.shape == (7, 6)
    assert set(cupy.asnumpy(samples).ravel()) <= {0.0, 1.0}
    reconstructed, means = vae.reconstruct(X, noisy_encoding=True)
    assert isinstance(means, cupy.ndarray) and reconstructed.shape == (4, 6)
    channels = vae.get_monitoring_channels(X)
    assert list(channels)[0] == "reconstruction_mse" and "posterior_sigma_std" in channels
    assert all(np.isfinite(float(v)) for v in channels.values())


def test_scalars_to_host_reads_device_and_host_values_in_order(cupy):
    values = [cupy.asarray(1.5, dtype="float32"), 2, np.float32(0.5), cupy.asarray(-0.25)]
    assert backend.scalars_to_host(values) == [1.5, 2.0, 0.5, -0.25]
    assert backend.scalars_to_host([cupy.isfinite(cupy.ones(3)).all()]) == [1.0]


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_on_gpu_matches_cpu(cupy, nesterov):
    results = momentum_on_each_device(("gpu", "cpu"), nesterov)
    backend.set_device("gpu")
    for on_gpu, on_cpu in zip(results["gpu"], results["cpu"], strict=True):
        assert isinstance(on_gpu, cupy.ndarray)
        np.testing.assert_allclose(cupy.asnumpy(on_gpu), on_cpu, rtol=1e-12)
