"""The fused GPU kernels' text, compiled for the host, against the array-operation formulas.

``pylearn_vae/kernels.py`` writes each formula a second time as CUDA-C for CuPy. Here the
same text runs through ``tests/host_kernels.py`` (CuPy's kernel conventions in a C++
loop) and must give what the NumPy formulas of ``primitives`` and ``Momentum`` give, in
float32 and float64, with broadcasting and at extreme logits. Skipped without a C++
compiler; ``tests/test_gpu.py`` repeats the comparison with CuPy on a GPU.
"""

from collections import OrderedDict

import numpy as np
import pytest
from host_kernels import ElementwiseKernel, ReductionKernel, compiler

from pylearn_vae import kernels
from pylearn_vae import primitives as P
from pylearn_vae.models.model import Param
from pylearn_vae.training_algorithms.learning_rule import Momentum

needs_compiler = pytest.mark.skipif(compiler() is None, reason="no C++ compiler")
DTYPES = ["float32", "float64"]
TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-12, atol=1e-12)}


def host_kernel(name):
    spec = kernels.KERNELS[name]
    cls = ReductionKernel if isinstance(spec, kernels.Reduction) else ElementwiseKernel
    return cls(*spec, name=name)


def draw(rng, dtype, *shapes, scale=1.0):
    return [(scale * rng.standard_normal(s)).astype(dtype) for s in shapes]


def test_get_gives_no_kernel_on_numpy_or_when_fusion_is_off():
    class FakeCupy:
        __name__ = "cupy"
        ElementwiseKernel = ReductionKernel = staticmethod(lambda *a, **k: ("built", a, k))

    try:
        for name in kernels.KERNELS:
            assert kernels.get(name, np) is None
            built = kernels.get(name, FakeCupy)
            assert built[0] == "built" and built[2] == {"name": f"pylearn_vae_{name}"}
            assert kernels.get(name, FakeCupy) is built  # built once
        kernels.set_fused(False)
        assert not kernels.fused()
        assert all(kernels.get(name, FakeCupy) is None for name in kernels.KERNELS)
    finally:
        kernels.set_fused(True)
        kernels._state["built"].clear()
    with pytest.raises(KeyError):
        kernels.get("no_such_kernel", np)


@pytest.mark.parametrize(
    "value, expected", [("0", False), ("off", False), ("1", True), (" YES ", True)]
)
def test_the_environment_switch(monkeypatch, value, expected):
    monkeypatch.setenv("PYLEARN_VAE_FUSED", value)
    assert kernels._from_environment() is expected


def test_a_bad_environment_switch_says_what_to_use(monkeypatch):
    monkeypatch.setenv("PYLEARN_VAE_FUSED", "maybe")
    with pytest.raises(ValueError, match=r"PYLEARN_VAE_FUSED='maybe': use 1 .* or 0"):
        kernels._from_environment()


@needs_compiler
@pytest.mark.parametrize("dtype", DTYPES)
def test_bernoulli_log_likelihood_and_its_logits_gradient(dtype):
    rng = np.random.RandomState(0)
    x = (rng.uniform(size=(5, 7)) < 0.5).astype(dtype)
    (logits,) = draw(rng, dtype, (3, 5, 7), scale=4.0)
    logits[0, 0, :4] = [1000, -1000, 80, -80]  # no overflow either way
    got = host_kernel("bernoulli_log_likelihood")(x, logits, axis=-1)
    expected = P.bernoulli_log_likelihood(x, logits)
    assert got.shape == (3, 5) and got.dtype == dtype and np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, **TOL[dtype])

    (g,) = draw(rng, dtype, (3, 5))
    got = host_kernel("bernoulli_log_likelihood_logits_grad")(x, logits, g[..., None])
    vjp = P._bernoulli_vjp_logits(None, x, logits)
    np.testing.assert_allclose(got, vjp(g), **TOL[dtype])


@needs_compiler
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_log_density_and_reparametrize(dtype):
    rng = np.random.RandomState(1)
    z, mu, log_sigma = draw(rng, dtype, (4, 6, 3), (6, 3), (6, 3))
    got = host_kernel("gaussian_log_density")(z, mu, log_sigma, axis=-1)
    assert got.shape == (4, 6)
    np.testing.assert_allclose(got, P.gaussian_log_density(z, mu, log_sigma), **TOL[dtype])

    (epsilon,) = draw(rng, dtype, (4, 6, 3))
    got = host_kernel("reparametrize")(mu, log_sigma, epsilon)
    np.testing.assert_allclose(got, P.reparametrize(mu, log_sigma, epsilon), **TOL[dtype])


@needs_compiler
@pytest.mark.parametrize("dtype", DTYPES)
def test_diagonal_gaussian_kl_and_its_four_gradients(dtype):
    rng = np.random.RandomState(2)
    mq, lq, g = draw(rng, dtype, (6, 4), (6, 4), (6, 4))
    mp, lp = draw(rng, dtype, (4,), (4,))  # a prior shared by the batch
    got = host_kernel("diagonal_gaussian_kl")(mq, lq, mp, lp)
    np.testing.assert_allclose(got, P.diagonal_gaussian_kl(mq, lq, mp, lp), **TOL[dtype])

    fused = host_kernel("diagonal_gaussian_kl_grad")(mq, lq, mp, lp, g)
    args = (mq, lq, mp, lp)
    reference = P._diagonal_gaussian_kl_vjp((0, 1, 2, 3), None, args, {})(g)
    for i, (full, expected) in enumerate(zip(fused, reference, strict=True)):
        np.testing.assert_allclose(P._unbroadcast(full, args[i].shape), expected, **TOL[dtype])


@needs_compiler
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_momentum_updates(dtype, nesterov):
    rng = np.random.RandomState(3)
    value, velocity, grad = draw(rng, dtype, (5, 3), (5, 3), (5, 3))
    rule = Momentum(0.7, nesterov_momentum=nesterov)
    eta, mu = np.asarray(0.1, dtype), np.asarray(rule.momentum.get_value(), dtype)
    param = Param(value.copy(), name="W", dtype=dtype)
    rule.velocity[param] = vel = Param(velocity.copy(), name="vel_W", dtype=dtype)
    expected = rule.get_updates(Param(0.1, dtype=dtype), OrderedDict([(param, grad)]))
    name = "nesterov_momentum" if nesterov else "momentum"
    new_value, new_velocity = host_kernel(name)(value, velocity, grad, eta, mu)
    np.testing.assert_allclose(new_value, expected[param], **TOL[dtype])
    np.testing.assert_allclose(new_velocity, expected[vel], **TOL[dtype])


@needs_compiler
def test_the_host_kernels_refuse_mixed_types_as_cupy_does():
    x = np.zeros((2, 3), "float32")
    with pytest.raises(TypeError, match="type T is float32"):
        host_kernel("reparametrize")(x, x, x.astype("float64"))
