"""Every faster implementation registered for an op equals the op's reference formula.

The cases are taken from the registry itself (``ops.registered()`` after
``accel.install()``), so an implementation registered without a case here fails
``test_every_registration_has_a_case`` and every parametrized test below. For each one:

- values and the gradient with respect to every argument (alone, and all together: a
  VJP maker is asked for any subset) on random shapes, broadcast shapes included
  (``(S, B, d)`` against ``(B, d)`` or ``(d,)``) and widths 784, 785, 12, 8 and 1, in
  float32 and float64, and at extreme inputs;
- second order: the gradient of the gradient through the implementation is the
  reference's, and matches finite differences;
- on the CPU, again where float32 ``log1p`` is taken to be scalar (an AVX2 CPU: the
  ``log`` workaround and the logs of products run), and on 1 and 2 threads with the same
  bits, the blocked path taken;
- on the emulated GPU (``tests/fake_cupy.py``, its kernels compiled for the host by
  ``tests/host_kernels.py``; skipped without a C++ compiler), the GPU registrations.

Tolerances are a few of the dtype's epsilons times the size of what is computed,
element by element: for a value, the sum of the magnitudes of its terms (where it sums
over a row) or of the formula's parts; for a gradient, the sum of the magnitudes of the
terms it adds up (over the broadcast axes too). On the CPU's native path the values are
the reference's own bits; where the ``log1p`` workaround or the logs of products apply
they are within a few float32 ulps (``pylearn_vae/accel/cpu.py``), the logs of products
to an ulp of 1 per term (each takes the log of a rounded ``1 + exp(-|s|)``).
Finally ``PYLEARN_VAE_REFERENCE=1`` keeps ``pylearn_vae.accel`` out entirely, and a
small VAE gives the same bound and gradients with the implementations and without.
"""

import os
import subprocess
import sys
import warnings
import zlib
from collections import namedtuple

import autograd
import numpy as np
import pytest
from autograd.test_util import check_grads
from host_kernels import compiler
from test_gpu_emulated import FixedNoise

from pylearn_vae import accel, backend, op_registry, ops, threads
from pylearn_vae.accel import blocks, cpu, gpu, vjp
from pylearn_vae.costs.vae import ImportanceSamplingCriterion, VAECriterion
from pylearn_vae.testing.vae import binary_batch, make_vae


def _installed_registrations():
    """What ``accel.install()`` registers, the registry left as it was found."""
    before, tuner = dict(op_registry._FASTER), threads._state["tuner"]
    accel.install()
    registrations = ops.registered()
    op_registry._FASTER.clear()
    op_registry._FASTER.update(before)
    threads.register_tuner(tuner)
    return registrations


REGISTERED = _installed_registrations()
CPU = sorted(name for name, device in REGISTERED if device == "cpu")
GPU = sorted(name for name, device in REGISTERED if device == "gpu")


@pytest.fixture(autouse=True)
def _installed(monkeypatch):
    """The implementations registered (as ``import pylearn_vae`` does) for every test,
    even in a run under ``PYLEARN_VAE_REFERENCE=1``; the registry restored after."""
    monkeypatch.setattr(op_registry, "_FASTER", dict(op_registry._FASTER))
    monkeypatch.setitem(threads._state, "tuner", threads._state["tuner"])
    accel.install()


# -- the cases -----------------------------------------------------------------------------------
def _softplus(x):
    return np.logaddexp(0.0, x)


def _binary(rng, shape, dtype):
    return (rng.uniform(size=shape) < 0.4).astype(dtype)


def _normal(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


# draw(rng, variant, dtype) -> args; magnitude(*float64 args) -> the size of each output;
# grad_magnitude(w, *float64 args) -> for each differentiable argument, the sizes of the
# terms of its gradient (broadcast terms are summed to the argument's shape)
Case = namedtuple("Case", "draw variants magnitude grad_magnitude differentiable extremes large")


def _sigmoid(x):
    return 0.5 + 0.5 * np.tanh(0.5 * x)


LAYER_SHAPES = [  # (batch, n_in, n_out)
    (7, 784, 12),
    (5, 785, 8),
    (3, 12, 1),
    (4, 8, 785),
    (1, 1, 1),
]


def _draw_layer(rng, variant, dtype):
    batch, n_in, n_out = variant
    return [
        _normal(rng, (batch, n_in), dtype),
        _normal(rng, (n_in, n_out), dtype, 1 / np.sqrt(n_in)),
        _normal(rng, (n_out,), dtype),
    ]


def _layer_magnitude(x, W, b):
    return np.abs(x) @ np.abs(W) + np.abs(b)


def _layer_grad_magnitude(w, x, W, b):
    w = np.abs(w)
    return [w @ np.abs(W).T, np.abs(x).T @ w, w.sum(axis=0)]


def _layer_extremes(dtype):
    x = np.array([[1e4, -1e4, 0.0], [1e-30, 3.0, -2.0]], dtype)
    W = np.array([[1e3, -1e3], [1e3, 1.0], [0.0, -1.0]], dtype)
    return [x, W, np.array([-1e7, 1e-30], dtype)]


def _draw_bernoulli(rng, variant, dtype):
    x_shape, s_shape = variant
    return [_binary(rng, x_shape, dtype), _normal(rng, s_shape, dtype, 4.0)]


def _bernoulli_magnitude(x, s, log_products=False):
    # With logs of products, each term's log(1 + exp(-|s|)) comes from a rounded
    # 1 + exp(-|s|): an error of about an ulp of 1 per term, not of the term.
    return (np.abs(x * s) + _softplus(s) + (1.0 if log_products else 0.0)).sum(axis=-1)


def _bernoulli_grad_magnitude(w, x, s):
    # x - sigmoid(s): the reference's sigmoid, (1 + tanh(s / 2)) / 2, is accurate to an
    # ulp of 1, not of itself (the GPU's kernel takes 1 / (1 + exp(-s)))
    w = np.abs(w)[..., None]
    return [w * np.abs(s), w * (np.abs(x) + 1)]


def _bernoulli_extremes(dtype):
    s = np.array([[-1000, -80, -30, 0, 30, 80, 1000, 0], [1000, 1000, -1000, -1000, 0, 0, 1, -1]])
    x = np.array([[0, 1, 1, 0, 1, 0, 1, 0], [1, 0, 1, 0, 1, 0, 1, 0]])
    return [x.astype(dtype), s.astype(dtype)]


def _draw_gaussian(rng, variant, dtype):
    x_shape, mu_shape, ls_shape = variant
    return [
        _normal(rng, x_shape, dtype),
        _normal(rng, mu_shape, dtype),
        _normal(rng, ls_shape, dtype, 0.3),
    ]


def _gaussian_magnitude(x, mu, ls):
    standardized = (x - mu) * np.exp(-ls)
    return 0.5 * (ops.LOG_2PI + 2 * np.abs(ls) + standardized**2).sum(axis=-1)


def _gaussian_grad_magnitude(w, x, mu, ls):
    w = np.abs(w)[..., None]
    standardized = (x - mu) * np.exp(-ls)
    location = w * np.abs(standardized) * np.exp(-ls)
    return [location, location, w * (standardized**2 + 1)]


def _gaussian_extremes(dtype):
    x = np.array([[1e3, -1e3, 0.0, 1e-3], [0.0, 5.0, -5.0, 0.0]], dtype)
    mu = np.array([-1e3, 1e3, 0.0, 0.0], dtype)
    ls = np.array([[20.0, -20.0, 0.0, -10.0], [-20.0, 20.0, 10.0, 0.0]], dtype)
    return [x, mu, ls]


def _draw_reparametrize(rng, variant, dtype):
    mu_shape, ls_shape, eps_shape = variant
    return [
        _normal(rng, mu_shape, dtype),
        _normal(rng, ls_shape, dtype, 0.5),
        _normal(rng, eps_shape, dtype),
    ]


def _reparametrize_magnitude(mu, ls, epsilon):
    return np.abs(mu) + np.exp(ls) * np.abs(epsilon)


def _reparametrize_grad_magnitude(w, mu, ls, epsilon):
    w = np.abs(w)
    return [w, w * np.exp(ls) * np.abs(epsilon), w * np.exp(ls)]


def _reparametrize_extremes(dtype):
    mu = np.array([[1e6, -1e6, 0.0], [0.0, 1.0, -1.0]], dtype)
    ls = np.array([20.0, -20.0, 0.0], dtype)
    eps = np.array([[[8.0, -8.0, 0.0], [1e-3, 5.0, -5.0]]], dtype)
    return [mu, ls, eps]


def _draw_kl(rng, variant, dtype):
    q_shape, p_shape = variant
    return [
        _normal(rng, q_shape, dtype),
        _normal(rng, q_shape, dtype, 0.3),
        _normal(rng, p_shape, dtype),
        _normal(rng, p_shape, dtype, 0.3),
    ]


def _kl_magnitude(mq, lq, mp, lp):
    d = mq - mp
    return np.abs(lp) + np.abs(lq) + 0.5 * (np.exp(2 * lq) + d * d) * np.exp(-2 * lp) + 0.5


def _kl_grad_magnitude(w, mq, lq, mp, lp):
    w, d = np.abs(w), np.abs(mq - mp)
    var_q, inv_var_p = np.exp(2 * lq), np.exp(-2 * lp)
    location = w * d * inv_var_p
    return [location, w * (var_q * inv_var_p + 1), location, w * (1 + (var_q + d * d) * inv_var_p)]


def _kl_extremes(dtype):
    mq = np.array([[1e3, -1e3, 0.0, 1.0], [0.0, 0.0, 1e-3, -1.0]], dtype)
    lq = np.array([[20.0, -20.0, 0.0, 10.0], [-20.0, 20.0, -10.0, 0.0]], dtype)
    mp = np.array([-1e3, 1e3, 0.0, 1.0], dtype)
    lp = np.array([-20.0, 20.0, 10.0, -10.0], dtype)
    return [mq, lq, mp, lp]


def _draw_momentum(rng, variant, dtype):
    shape, nesterov = variant
    p, v, g = (_normal(rng, shape, dtype) for _ in range(3))
    return [p, v, g, np.asarray(0.1, dtype), np.asarray(0.7, dtype), nesterov]


def _momentum_magnitude(p, v, g, eta, mu, nesterov):
    velocity = np.abs(mu * v) + np.abs(eta * g)
    return np.abs(p) + 2 * velocity, velocity


def _momentum_extremes(dtype):
    p = np.array([1e20, -1e-20, 0.0], dtype)
    v = np.array([1e10, 1e-10, -1e20], dtype)
    g = np.array([-1e20, 1e-30, 1e10], dtype)
    return [p, v, g, np.asarray(0.5, dtype), np.asarray(0.9, dtype), True]


CASES = {
    "sigmoid": Case(
        lambda rng, shape, dtype: [_normal(rng, shape, dtype, 4.0)],
        [(200, 784), (3, 785), (5, 12), (2, 3, 8), (7, 1), (12,), ()],
        lambda x: np.ones_like(x),  # accurate to a rounding of 1, as the reference
        lambda w, x: [np.abs(w)],
        (0,),
        lambda dtype: [np.array([[-1000, -87, -30, -1e-3, 0], [1e-3, 1, 30, 87, 1000]], dtype)],
        (100, 20, 784),
    ),
    "softplus": Case(
        lambda rng, shape, dtype: [_normal(rng, shape, dtype, 4.0)],
        [(200, 784), (3, 785), (5, 12), (2, 3, 8), (7, 1), (12,), ()],
        lambda x: _softplus(x),
        lambda w, x: [np.abs(w) * _sigmoid(x)],
        (0,),
        lambda dtype: [np.array([[-1000, -87, -30, -1e-3, 0], [1e-3, 1, 30, 87, 1000]], dtype)],
        (100, 20, 784),
    ),
    "affine": Case(
        _draw_layer,
        LAYER_SHAPES,
        _layer_magnitude,
        _layer_grad_magnitude,
        (0, 1, 2),
        _layer_extremes,
        (200, 784, 200),
    ),
    "dense_relu": Case(
        _draw_layer,
        LAYER_SHAPES,
        _layer_magnitude,
        _layer_grad_magnitude,
        (0, 1, 2),
        _layer_extremes,
        (200, 784, 200),
    ),
    "bernoulli_log_likelihood": Case(
        _draw_bernoulli,
        [
            ((200, 784), (200, 784)),
            ((10, 784), (5, 10, 784)),  # one x, several samples of logits
            ((5, 10, 784), (10, 784)),
            ((784,), (784,)),
            ((3, 785), (3, 785)),  # an odd width: no halving
            ((3, 12), (3, 12)),  # halved twice, then 3 is odd
            ((4, 8), (1, 4, 8)),
            ((3, 12), (1, 12)),
            ((2, 1), (2, 1)),
        ],
        _bernoulli_magnitude,
        _bernoulli_grad_magnitude,
        (0, 1),
        _bernoulli_extremes,
        ((20, 784), (100, 20, 784)),
    ),
    "gaussian_log_density": Case(
        _draw_gaussian,
        [
            ((5, 10, 784), (10, 784), (10, 784)),  # z of (S, B, d) under q(z|x)
            ((5, 10, 12), (12,), (12,)),  # and under the prior
            ((3, 785), (3, 785), (3, 785)),
            ((10, 8), (3, 10, 8), (8,)),
            ((4, 3, 1), (3, 1), (1,)),
        ],
        _gaussian_magnitude,
        _gaussian_grad_magnitude,
        (0, 1, 2),
        _gaussian_extremes,
        ((400, 20, 200), (20, 200), (200,)),
    ),
    "reparametrize": Case(
        _draw_reparametrize,
        [
            ((10, 784), (10, 784), (5, 10, 784)),
            ((10, 12), (10, 12), (10, 12)),
            ((12,), (12,), (3, 4, 12)),
            ((3, 785), (785,), (2, 3, 785)),
            ((3, 1), (3, 1), (2, 3, 1)),
        ],
        _reparametrize_magnitude,
        _reparametrize_grad_magnitude,
        (0, 1, 2),
        _reparametrize_extremes,
        ((20, 200), (20, 200), (400, 20, 200)),
    ),
    "diagonal_gaussian_kl": Case(
        _draw_kl,
        [
            ((6, 784), (784,)),
            ((6, 8), (6, 8)),
            ((3, 785), (785,)),
            ((5, 12), (1, 12)),
            ((2, 1), (1,)),
        ],
        _kl_magnitude,
        _kl_grad_magnitude,
        (0, 1, 2, 3),
        _kl_extremes,
        ((200, 784), (784,)),
    ),
    "momentum_update": Case(
        _draw_momentum,
        [((784, 12), False), ((784, 12), True), ((12,), False), ((1,), True)],
        _momentum_magnitude,
        None,
        (),  # a learning rule's step: applied, never differentiated
        _momentum_extremes,
        ((784, 200), True),
    ),
}


def test_every_registration_has_a_case():
    assert REGISTERED, "accel.install() registered nothing"
    missing = {name for name, _ in REGISTERED} - set(CASES)
    assert not missing, f"registered without a case in tests/test_accel.py: {missing}"


def test_install_registers_each_implementation_and_uninstall_removes_them():
    expected = {(name, "cpu"): fn for name, fn in cpu.IMPLEMENTATIONS.items()}
    expected.update({(name, "gpu"): fn for name, fn in gpu.IMPLEMENTATIONS.items()})
    assert ops.registered() == expected == REGISTERED
    assert type(threads.tuner(batch_size=10)) is accel.ThreadTuner
    for (name, device), fn in REGISTERED.items():
        assert ops.implementation(name, device) is fn
    accel.uninstall()
    assert ops.registered() == {}
    assert type(threads.tuner(batch_size=10)).__name__ == "FixedThreads"
    for name, device in REGISTERED:
        assert ops.implementation(name, device) is getattr(ops, name).reference
    accel.install()
    assert ops.registered() == REGISTERED


# -- comparing -----------------------------------------------------------------------------------
def _outputs(value):
    return value if isinstance(value, tuple) else (value,)


def _host(value):
    return np.asarray(backend.to_host(value))


def _assert_within(got, want, scale, ulps, what):
    """``|got - want| <= ulps * eps * scale`` elementwise, same shape and dtype."""
    got, want = _host(got), _host(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (what, got.dtype, want.dtype)
    eps = np.finfo(want.dtype).eps
    error = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = ulps * eps * np.broadcast_to(np.asarray(scale, np.float64), error.shape)
    worst = float(np.max(error / np.maximum(bound, 1e-300), initial=0))
    assert np.isfinite(got).all() == np.isfinite(want).all(), what
    assert (error <= bound).all(), f"{what}: {worst:.2f} times the tolerance of {ulps} ulps"


def _assert_values_match(name, got, args, ulps, what, log_products=False):
    want = getattr(ops, name).reference(*args)
    args64 = [_float64(a) for a in args]
    if log_products:
        scales = _outputs(CASES[name].magnitude(*args64, log_products=True))
    else:
        scales = _outputs(CASES[name].magnitude(*args64))
    for i, (g, w, s) in enumerate(zip(_outputs(got), _outputs(want), scales, strict=True)):
        _assert_within(g, w, s, ulps, f"{what}, output {i}")


def _float64(a):
    return _host(a).astype(np.float64) if hasattr(a, "dtype") else a


def _weights(rng, out, like):
    """Random output weights ``w`` for ``sum(out * w)``, on the device of ``like``."""
    return backend.get_array_module(like).asarray(
        rng.standard_normal(np.shape(out)).astype(_host(out).dtype)
    )


def _gradients(fn, args, argnums, w):
    """The gradients of ``sum(fn(*args) * w)`` with respect to ``argnums``."""
    return autograd.grad(lambda *a: ops.sum(fn(*a) * w), argnum=argnums)(*args)


def _assert_gradients_match(name, fn, args, ulps, what, rng):
    """Every argument alone, then all together, against the reference's gradients."""
    argnums = CASES[name].differentiable
    reference = getattr(ops, name).reference
    w = _weights(rng, reference(*args), args[0])
    terms = CASES[name].grad_magnitude(_float64(w), *(_float64(a) for a in args))
    for subset in [(i,) for i in argnums] + [argnums]:
        got = _gradients(fn, args, subset, w)
        want = _gradients(reference, args, subset, w)
        for i, g, r in zip(subset, got, want, strict=True):
            assert type(g) is type(r), (what, i, type(g), type(r))
            scale = _sum_to(terms[i], np.shape(args[i]))
            _assert_within(g, r, scale, ulps, f"{what}, gradient {i} of {subset}")


def _sum_to(terms, shape):
    """``terms`` summed over the axes that broadcasting added to ``shape``."""
    terms = np.asarray(terms)
    while terms.ndim > len(shape):
        terms = terms.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and terms.shape[axis] != 1:
            terms = terms.sum(axis=axis, keepdims=True)
    return np.broadcast_to(terms, shape)


def _draws(name, dtype):
    rng = np.random.RandomState(zlib.crc32(f"{name} {np.dtype(dtype).name}".encode()))
    return [(variant, CASES[name].draw(rng, variant, dtype)) for variant in CASES[name].variants]


#: ulps of the magnitude: values and gradients on the CPU
CPU_ULPS = 8


@pytest.fixture(params=["native log1p", "scalar log1p"])
def log1p(request, monkeypatch):
    """Where NumPy's float32 ``log1p`` is scalar (AVX2 CPUs; ``NPY_DISABLE_CPU_FEATURES``
    imitates one per process), softplus takes ``log1p`` from ``log`` and the Bernoulli
    sum takes logs of products: the flag is set by hand, the formulas are plain NumPy."""
    if request.param == "scalar log1p":
        monkeypatch.setattr(cpu, "LOG1P_IS_VECTORIZED", False)
    return request.param


def _log_products(name, dtype):
    """Whether the CPU's Bernoulli log-likelihood takes logs of products here."""
    return name == "bernoulli_log_likelihood" and cpu._log1p_is_scalar(np.dtype(dtype))


# -- the CPU -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CPU)
def test_cpu_values_and_gradients_equal_the_reference(name, dtype, log1p):
    fn = REGISTERED[name, "cpu"]
    rng = np.random.RandomState(1)
    for variant, args in _draws(name, dtype):
        what = f"{name}{variant} {np.dtype(dtype).name}, {log1p}"
        got = fn(*args)
        for out in _outputs(got):
            assert type(out) is np.ndarray, what
        _assert_values_match(name, got, args, CPU_ULPS, what, _log_products(name, dtype))
        if CASES[name].differentiable:
            _assert_gradients_match(name, fn, args, CPU_ULPS, what, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CPU)
def test_cpu_at_extreme_inputs(name, dtype, log1p):
    fn = REGISTERED[name, "cpu"]
    args = CASES[name].extremes(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = fn(*args)
        _assert_values_match(
            name, got, args, CPU_ULPS, f"{name} at extremes, {log1p}", _log_products(name, dtype)
        )
        if CASES[name].differentiable:
            _assert_gradients_match(
                name, fn, args, CPU_ULPS, f"{name} at extremes", np.random.RandomState(2)
            )
    for out in _outputs(got):
        assert np.isfinite(out).all()


def test_the_native_path_gives_the_references_bits(rng):
    # Where log1p is vectorized (or in float64) the blocked formulas do the reference's
    # operations in the same order.
    for name in (
        "softplus",
        "bernoulli_log_likelihood",
        "gaussian_log_density",
        "reparametrize",
        "diagonal_gaussian_kl",
        "affine",
        "dense_relu",
    ):
        for _, args in _draws(name, np.float64):
            np.testing.assert_array_equal(
                REGISTERED[name, "cpu"](*args), getattr(ops, name).reference(*args)
            )


def test_softplus_of_a_0d_array_and_of_a_python_float():
    # The elementwise ufuncs give NumPy scalars for 0-d inputs, which out= cannot take.
    softplus = REGISTERED["softplus", "cpu"]
    assert float(softplus(np.array(2.0))) == pytest.approx(np.logaddexp(0, 2.0), rel=1e-15)
    assert float(softplus(2.0)) == pytest.approx(np.logaddexp(0, 2.0), rel=1e-15)
    assert softplus(np.float32(-3.0)).dtype == np.float32


# -- second order --------------------------------------------------------------------------------
SECOND_ORDER_VARIANT = {  # tiny shapes: finite differences in float64
    "sigmoid": (2, 3),
    "softplus": (2, 3),
    "affine": (3, 4, 2),
    "dense_relu": (3, 4, 2),
    "bernoulli_log_likelihood": ((2, 3), (2, 2, 3)),
    "gaussian_log_density": ((2, 3, 4), (3, 4), (4,)),
    "reparametrize": ((3, 4), (4,), (2, 3, 4)),
    "diagonal_gaussian_kl": ((3, 4), (4,)),
}


def _second_order_args(name, device):
    args = CASES[name].draw(np.random.RandomState(3), SECOND_ORDER_VARIANT[name], np.float64)
    if name == "dense_relu":  # keep the products away from the kink at 0
        x, W, b = args
        b = b + np.where(x @ W + b > 0, 0.5, -0.5)[0]
        args = [x, W, b]
    if device == "gpu":
        args = [backend.asarray(a, dtype="float64") for a in args]
    return args


def _hessian_vector_products(fn, args, argnums, w, v):
    """For each ``i``: the gradient, with respect to every argument, of
    ``<grad_i sum(fn * w), v_i>``: every block of the Hessian, applied to ``v``."""
    out = []
    for i in argnums:
        first = autograd.grad(lambda *a, i=i: ops.sum(fn(*a) * w), argnum=i)
        with warnings.catch_warnings():
            # A gradient that is constant (affine's for b, reparametrize's for mu) has
            # zero second derivatives, and autograd says so.
            warnings.filterwarnings("ignore", "Output seems independent of input")
            out.append(
                autograd.grad(
                    lambda *a, i=i, first=first: ops.sum(first(*a) * v[i]), argnum=argnums
                )(*args)
            )
    return out


def _assert_second_order(name, device):
    fn = REGISTERED[name, device]
    argnums = CASES[name].differentiable
    args = _second_order_args(name, device)
    rng = np.random.RandomState(4)
    w = _weights(rng, fn(*args), args[0])
    v = {i: _weights(rng, args[i], args[0]) for i in argnums}
    got = _hessian_vector_products(fn, args, argnums, w, v)
    want = _hessian_vector_products(getattr(ops, name).reference, args, argnums, w, v)
    for i, (row, expected) in enumerate(zip(got, want, strict=True)):
        for j, a, b in zip(argnums, row, expected, strict=True):
            scale = np.abs(_host(b)).max(initial=0)
            _assert_within(a, b, scale, 8, f"{name} on the {device}: d2/d{i}d{j}")
    # and against finite differences, the incoming gradient traced too
    check_grads(fn, modes=["rev"], order=2, argnum=argnums)(*args)


@pytest.mark.parametrize("name", [n for n in CPU if CASES[n].differentiable])
def test_cpu_second_order_equals_the_reference(name, monkeypatch):
    traced = []
    monkeypatch.setattr(
        vjp, "make_vjp", lambda *a, real=vjp.make_vjp, **k: traced.append(1) or real(*a, **k)
    )
    fn = REGISTERED[name, "cpu"]
    args = _second_order_args(name, "cpu")
    autograd.grad(lambda *a: ops.sum(fn(*a)))(*args)
    assert not traced  # a first-order gradient: the hand-written one
    _assert_second_order(name, "cpu")
    assert traced  # differentiated: the reference's gradient


def test_the_hessian_of_a_decoder_through_the_implementations(rng):
    # grad of grad through affine, softplus and the Bernoulli log-likelihood, each the
    # CPU's implementation, against a central difference of the gradient.
    affine, softplus, bernoulli = (
        REGISTERED[n, "cpu"] for n in ("affine", "softplus", "bernoulli_log_likelihood")
    )
    W, b = rng.randn(4, 6), rng.randn(6)
    x = (rng.uniform(size=(3, 6)) < 0.5).astype(float)
    h, direction = rng.randn(3, 4), rng.randn(3, 4)

    def log_likelihood(h):
        return ops.sum(bernoulli(x, affine(softplus(h), W, b)))

    grad = autograd.grad(log_likelihood)
    hvp = autograd.grad(lambda v: ops.sum(grad(v) * direction))(h)
    eps = 1e-6
    numeric = (grad(h + eps * direction) - grad(h - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(hvp, numeric, rtol=1e-6, atol=1e-8)


# -- the workarounds where float32 log1p is scalar ----------------------------------------------
F32_EPS = np.finfo(np.float32).eps


def test_log1p_is_vectorized_is_read_from_numpy():
    assert isinstance(cpu.LOG1P_IS_VECTORIZED, bool)
    assert cpu._log1p_is_vectorized() == cpu.LOG1P_IS_VECTORIZED
    assert not cpu._log1p_is_scalar(np.dtype(np.float64))


def test_log1p_is_scalar_only_for_float32_where_numpy_has_no_simd_loop(monkeypatch):
    monkeypatch.setattr(cpu, "LOG1P_IS_VECTORIZED", False)
    assert cpu._log1p_is_scalar(np.dtype(np.float32))
    assert not cpu._log1p_is_scalar(np.dtype(np.float64))
    monkeypatch.setattr(cpu, "LOG1P_IS_VECTORIZED", True)
    assert not cpu._log1p_is_scalar(np.dtype(np.float32))


def test_log1p_of_unit_is_within_4_ulps_of_log1p(monkeypatch):
    monkeypatch.setattr(cpu, "LOG1P_IS_VECTORIZED", False)
    t = np.concatenate(
        [np.linspace(0, 1, 100_001), np.geomspace(1e-38, 1, 10_001), [2**-24, 2**-23, 0.5]]
    ).astype(np.float32)
    got = cpu._log1p_of_unit(t, np.empty_like(t))
    assert got.dtype == np.float32
    want = np.log1p(t.astype(np.float64))
    ulp = np.spacing(np.log1p(t)).astype(np.float64)
    assert (np.abs(got - want) <= 4 * ulp).all()  # of the exact value
    assert (np.abs(got - np.log1p(t)) <= 4 * ulp).all()  # of NumPy's float32 log1p
    assert got[0] == 0


@pytest.mark.parametrize("width", [784, 785, 12, 8, 7, 1])
def test_sum_log_rows_is_the_log_of_products(rng, width):
    u = (1 + rng.uniform(size=(50, width))).astype(np.float32)
    u[0] = 2.0  # the largest product of 16: 2 ** 16
    u[1] = 1.0  # log 1 = 0
    expected = np.log(u.astype(np.float64)).sum(axis=-1)
    got = cpu._sum_log_rows(u.copy(), np.empty(50, np.float32))
    assert got.dtype == np.float32 and got[1] == 0
    # 1e-6 per log of a product of 16 and the float32 rounding of the sum.
    np.testing.assert_allclose(got, expected, rtol=4 * F32_EPS, atol=1e-6 * (width / 16 + 1))


@pytest.mark.parametrize("shape", [(1000, 784), (784_000,)])
def test_float32_softplus_is_within_4_eps_of_float64_on_both_paths(monkeypatch, shape):
    x = np.linspace(-87, 100, 1000 * 784).astype(np.float32).reshape(shape)
    reference = np.logaddexp(0, x.astype(np.float64))
    softplus = REGISTERED["softplus", "cpu"]
    for vectorized in (True, False):
        monkeypatch.setattr(cpu, "LOG1P_IS_VECTORIZED", vectorized)
        with threads.limited(2):
            got = softplus(x)
        assert got.dtype == np.float32 and got.shape == shape
        assert (np.abs(got.astype(np.float64) - reference) / reference).max() <= 4 * F32_EPS


def test_the_logs_of_products_run_where_log1p_is_scalar(rng, monkeypatch):
    monkeypatch.setattr(cpu, "LOG1P_IS_VECTORIZED", False)
    folded = []
    monkeypatch.setattr(
        cpu, "_sum_log_rows", lambda u, out, f=cpu._sum_log_rows: folded.append(1) or f(u, out)
    )
    bernoulli = REGISTERED["bernoulli_log_likelihood", "cpu"]
    x, s = _draw_bernoulli(rng, ((3, 784), (3, 784)), np.float32)
    bernoulli(x, s)
    assert folded  # float32: the path under test
    folded.clear()
    bernoulli(x.astype(np.float64), s.astype(np.float64))
    assert not folded  # float64 keeps log1p


# -- threads -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CPU)
def test_cpu_results_do_not_depend_on_the_number_of_threads(name, monkeypatch, log1p):
    fn = REGISTERED[name, "cpu"]
    shapes = []
    monkeypatch.setattr(
        cpu,
        "for_blocks",
        lambda f, shape, *a, real=cpu.for_blocks: shapes.append(shape) or real(f, shape, *a),
    )
    parallel = []
    monkeypatch.setattr(
        blocks, "_pool", lambda n, real=blocks._pool: parallel.append(n) or real(n)
    )
    rng = np.random.RandomState(5)
    args = CASES[name].draw(rng, CASES[name].large, np.float32)
    argnums = CASES[name].differentiable
    w = _weights(rng, fn(*args), args[0])
    results = {}
    for count in (1, 2):
        with threads.limited(count):
            shapes.clear()
            parallel.clear()
            value = _outputs(fn(*args))
            grads = _gradients(fn, args, argnums, w) if argnums else ()
            results[count] = (value, grads, list(shapes), list(parallel))
            if not shapes:  # not blocked (the BLAS or one NumPy pass): the reference's bits
                for a, b in zip(value, _outputs(getattr(ops, name).reference(*args)), strict=True):
                    np.testing.assert_array_equal(a, b)
    (one, one_grads, blocked, one_parallel), (two, two_grads, _, two_parallel) = results.values()
    if blocked:
        assert max(len(blocks.blocks(s)) for s in blocked) >= 2 * blocks.PARALLEL_MIN_BLOCKS
        assert not one_parallel and two_parallel  # the blocks ran on the pool's threads too
        for a, b in zip((*one, *one_grads), (*two, *two_grads), strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        assert name in ("affine", "dense_relu", "diagonal_gaussian_kl", "sigmoid"), name


# -- the emulated GPU ----------------------------------------------------------------------------
needs_compiler = pytest.mark.skipif(compiler() is None, reason="no C++ compiler")

#: ulps of the magnitude on the emulated GPU: its reductions add a row one by one
#: (``tests/host_kernels.py``), NumPy pairwise, and C++'s exp and log1p are not NumPy's.
GPU_ULPS = 16


@pytest.fixture
def on_gpu(fake_gpu):
    backend.set_device("gpu")
    return sys.modules["cupy"]


def _on_device(cupy, args):
    return [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]


@needs_compiler
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", GPU)
def test_gpu_values_and_gradients_equal_the_reference(name, dtype, on_gpu):
    fn = REGISTERED[name, "gpu"]
    rng = np.random.RandomState(6)
    for variant, args in _draws(name, dtype):
        what = f"{name}{variant} {np.dtype(dtype).name} on the GPU"
        device_args = _on_device(on_gpu, args)
        got = fn(*device_args)
        for out in _outputs(got):
            assert type(out) is on_gpu.ndarray, what
        _assert_values_match(name, got, args, GPU_ULPS, what)
        if CASES[name].differentiable:
            _assert_gradients_match(name, fn, device_args, GPU_ULPS, what, rng)


@needs_compiler
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", GPU)
def test_gpu_at_extreme_inputs(name, dtype, on_gpu):
    fn = REGISTERED[name, "gpu"]
    args = CASES[name].extremes(dtype)
    got = fn(*_on_device(on_gpu, args))
    _assert_values_match(name, got, args, GPU_ULPS, f"{name} at extremes on the GPU")
    for out in _outputs(got):
        assert np.isfinite(_host(out)).all()
    if CASES[name].differentiable:
        _assert_gradients_match(
            name,
            fn,
            _on_device(on_gpu, args),
            GPU_ULPS,
            f"{name} at extremes on the GPU",
            np.random.RandomState(7),
        )


@needs_compiler
@pytest.mark.parametrize("name", [n for n in GPU if CASES[n].differentiable])
def test_gpu_second_order_equals_the_reference(name, on_gpu):
    _assert_second_order(name, "gpu")


@needs_compiler
def test_the_gpu_ops_run_their_kernels(on_gpu):
    from pylearn_vae.accel import kernels

    for name in GPU:
        fn = getattr(ops, name)  # dispatched on the 'gpu' device
        for _, args in _draws(name, np.float64):
            args = _on_device(on_gpu, args)
            if CASES[name].differentiable:
                _gradients(fn, args, CASES[name].differentiable, 1.0)
            else:
                fn(*args)
    built = {name for name, _ in kernels._built}
    assert built == set(kernels.KERNELS)  # every kernel, each used by a registration


# -- the reference alone -------------------------------------------------------------------------
def test_the_reference_switch_never_imports_the_implementations():
    code = (
        "import sys, numpy\n"
        "import pylearn_vae\n"
        "from pylearn_vae import ops, threads\n"
        "from pylearn_vae.costs.vae import VAECriterion\n"
        "from pylearn_vae.testing.vae import make_vae\n"
        "import pylearn_vae.train, pylearn_vae.training_algorithms.sgd, pylearn_vae.monitor\n"
        "vae = make_vae(nvis=6, nhid=3, hidden=5)\n"
        "X = (numpy.random.RandomState(0).uniform(size=(4, 6)) < 0.5).astype('float32')\n"
        "value, grads, _ = VAECriterion(num_samples=2).get_value_and_gradients(vae, X)\n"
        "assert numpy.isfinite(float(value)) and len(grads) == len(vae.get_params())\n"
        "print(sorted(m for m in sys.modules if m.startswith('pylearn_vae.accel')))\n"
        "print(ops.registered(), type(threads.tuner(10)).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYLEARN_VAE_REFERENCE="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == ["[]", "{} FixedThreads"]


def _criteria_and_gradients(dtype, conditional, values=None):
    """Both criteria and their gradients for a small VAE: ``[(value, [gradients])]``, and
    its parameters' values (``values`` sets them)."""
    out = []
    with backend.using(floatX=dtype):
        vae = make_vae(nvis=12, nhid=3, hidden=8, conditional=conditional, seed=1)
        if values is not None:
            for p, v in zip(vae.get_params(), values, strict=True):
                p.set_value(backend.asarray(v, dtype=dtype))
        X = binary_batch(5, 12, seed=2)
        for cost in (VAECriterion(num_samples=4), ImportanceSamplingCriterion(num_samples=4)):
            for seed, part in enumerate((vae.posterior, vae.conditional, vae.prior)):
                part.noise = FixedNoise(seed)  # the same noise every time, in any dtype
            value, grads, _ = cost.get_value_and_gradients(vae, X)
            out.append((_host(value), [_host(g) for g in grads.values()]))
        return out, [_host(p.get_value()) for p in vae.get_params()]


@pytest.mark.parametrize("conditional", ["bernoulli", "gaussian"])
def test_a_vae_gives_the_same_criteria_and_gradients_with_the_implementations_and_without(
    conditional,
):
    results = {}
    for installed in (True, False):
        if not installed:
            accel.uninstall()
        try:
            assert bool(ops.registered()) is installed
            for dtype in ("float64", "float32"):
                results[installed, dtype] = _criteria_and_gradients(dtype, conditional)[0]
            # float64 on the float32 run's parameters: what float32 rounds
            _, values32 = _criteria_and_gradients("float32", conditional)
            results[installed, "exact"] = _criteria_and_gradients(
                "float64", conditional, values32
            )[0]
        finally:
            accel.install()

    def flat(key):
        return [a for value, grads in results[key] for a in (value, *grads)]

    # float64: the same to rounding
    for a, b in zip(flat((True, "float64")), flat((False, "float64")), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13 * np.abs(b).max())
    # float32: as close to the exact values as the reference formulas come
    exact = flat((True, "exact"))
    for a, b, e, e_ref in zip(
        flat((True, "float32")),
        flat((False, "float32")),
        exact,
        flat((False, "exact")),
        strict=True,
    ):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(e, e_ref, rtol=1e-13, atol=1e-13 * np.abs(e_ref).max())
        slack = 4 * F32_EPS * np.abs(e).max()
        assert np.abs(a - e).max() <= 2 * np.abs(b - e).max() + slack


@pytest.mark.parametrize(
    "value, reference",
    [("1", True), (" YES ", True), ("on", True), ("0", False), ("", False), ("off", False)],
)
def test_the_reference_switch_reads_yes_and_no(monkeypatch, value, reference):
    import pylearn_vae

    monkeypatch.setenv(pylearn_vae.REFERENCE_VARIABLE, value)
    assert pylearn_vae._reference_only() is reference


def test_a_bad_reference_switch_says_what_to_use(monkeypatch):
    import pylearn_vae

    monkeypatch.setenv("PYLEARN_VAE_REFERENCE", "maybe")
    with pytest.raises(ValueError, match=r"PYLEARN_VAE_REFERENCE='maybe': use 1 .* or 0"):
        pylearn_vae._reference_only()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_bernoulli_gradient_has_no_subnormal_numbers(dtype):
    """An example of a tiny weight (an importance weight near zero) gives gradients
    below the smallest normal number in the reference; the accelerated gradient flushes
    them to zero (they slow every later product), and leaves every normal one as the
    reference has it."""
    tiny = np.finfo(dtype).tiny
    s = np.array([[-100.0, -90.0, -20.0, 0.0, 100.0], [-800.0, -3.0, 3.0, -3.0, 0.0]], dtype)
    x = np.array([[0, 0, 0, 1, 1], [0, 0, 1, 0, 1]], dtype)
    weights = np.array([1.0, 10 * tiny], dtype)

    def loss(fn):
        return lambda logits: np.sum(fn(x, logits) * weights)

    got = autograd.grad(loss(cpu.bernoulli_log_likelihood))(s)
    want = autograd.grad(loss(ops.bernoulli_log_likelihood.reference))(s)
    subnormal = (want != 0) & (np.abs(want) < tiny)
    assert subnormal.any()  # the case is one the flush changes
    assert not ((got != 0) & (np.abs(got) < tiny)).any()
    assert (got[subnormal] == 0).all()
    np.testing.assert_array_equal(got[~subnormal], want[~subnormal])
