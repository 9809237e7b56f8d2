"""The fused GPU kernels' text, compiled for the host, against the reference formulas.

``pylearn_vae/accel/kernels.py`` writes formulas of :mod:`pylearn_vae.ops` a second
time, as C++ bodies of CuPy kernels. Here the same text runs through
``tests/host_kernels.py`` (CuPy's kernel conventions in a C++ loop) and must give what
the reference formulas of :mod:`pylearn_vae.ops` give -- their values, and for the
gradient kernels autograd's gradients of them -- in float32 and float64, with
broadcasting and at extreme logits. Skipped without a C++ compiler;
``tests/test_gpu.py`` repeats the comparison with CuPy on a GPU.
"""

import autograd
import numpy as np
import pytest
from host_kernels import ElementwiseKernel, ReductionKernel, compiler

from pylearn_vae import ops
from pylearn_vae.accel import kernels

needs_compiler = pytest.mark.skipif(compiler() is None, reason="no C++ compiler")
DTYPES = ["float32", "float64"]
TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-12, atol=1e-12)}

_BERNOULLI = "test_bernoulli_log_likelihood_and_its_logits_gradient"
CHECKED = {  # kernel -> the test below that checks it
    "bernoulli_log_likelihood": _BERNOULLI,
    "bernoulli_log_likelihood_logits_grad": _BERNOULLI,
    "gaussian_log_density": "test_gaussian_log_density_and_reparametrize",
    "reparametrize": "test_gaussian_log_density_and_reparametrize",
    "diagonal_gaussian_kl": "test_diagonal_gaussian_kl_and_its_four_gradients",
    "diagonal_gaussian_kl_grad": "test_diagonal_gaussian_kl_and_its_four_gradients",
    "momentum": "test_momentum_updates",
    "nesterov_momentum": "test_momentum_updates",
}


def test_every_kernel_is_checked_here():
    assert set(CHECKED) == set(kernels.KERNELS)
    assert all(callable(globals()[test]) for test in CHECKED.values())


def host_kernel(name):
    spec = kernels.KERNELS[name]
    cls = ReductionKernel if isinstance(spec, kernels.Reduction) else ElementwiseKernel
    return cls(*spec, name=name)


def draw(rng, dtype, *shapes, scale=1.0):
    return [(scale * rng.standard_normal(s)).astype(dtype) for s in shapes]


def reference_gradients(formula, args, g):
    """Autograd's gradients of ``sum(formula(*args) * g)``, one per argument."""
    return autograd.grad(lambda *a: ops.sum(formula(*a) * g), argnum=tuple(range(len(args))))(
        *args
    )


def test_get_builds_each_kernel_once_through_the_callers_module(monkeypatch):
    monkeypatch.setattr(kernels, "_built", {})

    class FakeCupy:
        ElementwiseKernel = staticmethod(lambda *a, **k: ("elementwise", a, k))
        ReductionKernel = staticmethod(lambda *a, **k: ("reduction", a, k))

    class OtherCupy(FakeCupy):
        pass

    for name, spec in kernels.KERNELS.items():
        built = kernels.get(name, FakeCupy)
        kind = "reduction" if isinstance(spec, kernels.Reduction) else "elementwise"
        assert built == (kind, tuple(spec), {"name": f"pylearn_vae_{name}"})
        assert kernels.get(name, FakeCupy) is built  # built once
        assert kernels.get(name, OtherCupy) is not built  # per array module
    with pytest.raises(KeyError):
        kernels.get("no_such_kernel", FakeCupy)


@needs_compiler
@pytest.mark.parametrize("dtype", DTYPES)
def test_bernoulli_log_likelihood_and_its_logits_gradient(dtype):
    rng = np.random.RandomState(0)
    x = (rng.uniform(size=(5, 7)) < 0.5).astype(dtype)
    (logits,) = draw(rng, dtype, (3, 5, 7), scale=4.0)
    logits[0, 0, :4] = [1000, -1000, 80, -80]  # no overflow either way
    formula = ops.bernoulli_log_likelihood.reference
    got = host_kernel("bernoulli_log_likelihood")(x, logits, axis=-1)
    expected = formula(x, logits)
    assert got.shape == (3, 5) and got.dtype == dtype and np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, **TOL[dtype])

    (g,) = draw(rng, dtype, (3, 5))
    got = host_kernel("bernoulli_log_likelihood_logits_grad")(x, logits, g[..., None])
    assert got.shape == (3, 5, 7) and got.dtype == dtype
    _, d_logits = reference_gradients(formula, (x, logits), g)
    np.testing.assert_allclose(got, d_logits, **TOL[dtype])


@needs_compiler
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_log_density_and_reparametrize(dtype):
    rng = np.random.RandomState(1)
    z, mu, log_sigma = draw(rng, dtype, (4, 6, 3), (6, 3), (6, 3))
    got = host_kernel("gaussian_log_density")(z, mu, log_sigma, axis=-1)
    assert got.shape == (4, 6) and got.dtype == dtype
    expected = ops.gaussian_log_density.reference(z, mu, log_sigma)
    np.testing.assert_allclose(got, expected, **TOL[dtype])
    # the prior's (nhid,) parameters against (S, B, nhid) samples
    got = host_kernel("gaussian_log_density")(z, mu[0], log_sigma[0], axis=-1)
    expected = ops.gaussian_log_density.reference(z, mu[0], log_sigma[0])
    np.testing.assert_allclose(got, expected, **TOL[dtype])

    (epsilon,) = draw(rng, dtype, (4, 6, 3))
    got = host_kernel("reparametrize")(mu, log_sigma, epsilon)
    assert got.shape == (4, 6, 3) and got.dtype == dtype
    expected = ops.reparametrize.reference(mu, log_sigma, epsilon)
    np.testing.assert_allclose(got, expected, **TOL[dtype])


@needs_compiler
@pytest.mark.parametrize("dtype", DTYPES)
def test_diagonal_gaussian_kl_and_its_four_gradients(dtype):
    rng = np.random.RandomState(2)
    mq, lq, g = draw(rng, dtype, (6, 4), (6, 4), (6, 4))
    mp, lp = draw(rng, dtype, (4,), (4,))  # a prior shared by the batch
    formula = ops.diagonal_gaussian_kl.reference
    got = host_kernel("diagonal_gaussian_kl")(mq, lq, mp, lp)
    np.testing.assert_allclose(got, formula(mq, lq, mp, lp), **TOL[dtype])

    fused = host_kernel("diagonal_gaussian_kl_grad")(mq, lq, mp, lp, g)
    args = (mq, lq, mp, lp)
    reference = reference_gradients(formula, args, g)
    for arg, full, expected in zip(args, fused, reference, strict=True):
        assert full.shape == (6, 4) and full.dtype == dtype
        summed = full.sum(axis=0) if arg.ndim == 1 else full  # the prior's: over the batch
        np.testing.assert_allclose(summed, expected, **TOL[dtype])


@needs_compiler
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_momentum_updates(dtype, nesterov):
    rng = np.random.RandomState(3)
    value, velocity, grad = draw(rng, dtype, (5, 3), (5, 3), (5, 3))
    eta, mu = np.asarray(0.1, dtype), np.asarray(0.7, dtype)
    expected = ops.momentum_update.reference(value, velocity, grad, eta, mu, nesterov)
    name = "nesterov_momentum" if nesterov else "momentum"
    got = host_kernel(name)(value, velocity, grad, eta, mu)
    for a, e in zip(got, expected, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, e, **TOL[dtype])


@needs_compiler
def test_the_host_kernels_refuse_mixed_types_as_cupy_does():
    x = np.zeros((2, 3), "float32")
    with pytest.raises(TypeError, match="type T is float32"):
        host_kernel("reparametrize")(x, x, x.astype("float64"))
