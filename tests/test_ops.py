"""The reference ops of pylearn_vae.ops: each formula against a closed form (or SciPy),
its gradients against finite differences (float64, tiny shapes), second derivatives
through every op, stability at extreme inputs, broadcasting, and the registry of faster
implementations.

The faster implementations are checked against these formulas in tests/test_accel.py;
here every op is called through ``.reference`` where it has one, so what is tested is
the formula itself whatever is registered.
"""

import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.test_util import check_grads
from scipy import special, stats

from pylearn_vae import backend, op_registry, ops


def ref(op):
    """The reference formula of ``op`` (the op itself where nothing can replace it)."""
    return getattr(op, "reference", op)


softplus = ref(ops.softplus)
sigmoid = ref(ops.sigmoid)
affine = ref(ops.affine)
dense_relu = ref(ops.dense_relu)
bernoulli_log_likelihood = ref(ops.bernoulli_log_likelihood)
gaussian_log_density = ref(ops.gaussian_log_density)
reparametrize = ref(ops.reparametrize)
diagonal_gaussian_kl = ref(ops.diagonal_gaussian_kl)
momentum_update = ref(ops.momentum_update)

_constants = np.random.RandomState(0)  # the fixed inputs below, drawn once at import
X = _constants.randn(3, 4)
W = _constants.randn(4, 5)
B = _constants.randn(5)
BINARY = (_constants.uniform(size=(2, 3, 4)) < 0.5).astype(float)
del _constants


def rev(fun, order=1, argnum=0):
    """``check_grads`` in reverse mode: the gradient (``order=2``: and the gradient of the
    gradient, with respect to the inputs and to the incoming gradient) against finite
    differences."""
    return check_grads(fun, modes=["rev"], order=order, argnum=argnum)


# -- reductions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False)])
@pytest.mark.parametrize("op, closed", [(ops.sum, np.sum), (ops.mean, np.mean)])
def test_reductions(rng, op, closed, axis, keepdims):
    x = rng.randn(2, 3, 4)
    np.testing.assert_allclose(
        op(x, axis=axis, keepdims=keepdims), closed(x, axis=axis, keepdims=keepdims), rtol=1e-14
    )
    rev(lambda v: op(v, axis=axis, keepdims=keepdims))(x)
    # A reduction is linear: its second derivatives are those of what it reduces, and
    # its gradient must itself be differentiable (here with respect to both factors
    # and to the incoming gradient).
    y = rng.randn(2, 3, 4)
    rev(lambda u, v: op(u * v, axis=axis, keepdims=keepdims), order=2, argnum=(0, 1))(x, y)


def test_reductions_over_several_axes(rng):
    x, y = rng.randn(2, 3, 4), rng.randn(2, 3, 4)
    for op, closed in ((ops.sum, np.sum), (ops.mean, np.mean)):
        np.testing.assert_allclose(op(x, axis=(0, 2)), closed(x, axis=(0, 2)), rtol=1e-14)
        rev(lambda u, v, op=op: op(u * v, axis=(0, 2)), order=2, argnum=(0, 1))(x, y)


@pytest.mark.parametrize("op, n", [(ops.sum, 1), (ops.mean, 3)])
def test_the_hessian_through_a_reduction_is_the_closed_form(op, n):
    # f(x) = exp(s), s = sum(x^2) / n: H = e^s (2 I + 4 x x^T / n) / n. The incoming
    # gradient of the reduction, e^s, is itself traced here.
    x = np.array([0.1, 0.2, -0.3])
    s = (x * x).sum() / n
    hessian = autograd.hessian(lambda v: anp.exp(op(v * v)))(x)
    assert hessian.dtype == np.float64
    expected = np.exp(s) * (2 * np.eye(3) + 4 * np.outer(x, x) / n) / n
    np.testing.assert_allclose(hessian, expected, rtol=1e-14)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_logsumexp_and_log_mean_exp(rng, axis):
    x = rng.randn(3, 4, 2)
    closed = special.logsumexp(x, axis=axis)
    np.testing.assert_allclose(ops.logsumexp(x, axis=axis), closed, rtol=1e-13)
    np.testing.assert_allclose(
        ops.log_mean_exp(x, axis=axis), closed - np.log(x.shape[axis]), rtol=1e-13
    )
    rev(lambda v: ops.logsumexp(v, axis=axis), order=2)(x)
    rev(lambda v: ops.log_mean_exp(v, axis=axis), order=2)(x)


def test_logsumexp_gradient_is_the_softmax(rng):
    x = rng.randn(4, 3)
    g = autograd.grad(lambda v: ops.sum(ops.logsumexp(v, axis=1)))(x)
    np.testing.assert_allclose(g, special.softmax(x, axis=1), rtol=1e-14)


def test_logsumexp_and_log_mean_exp_do_not_overflow():
    x = np.array([[1000.0, -1000.0], [1000.0, -1001.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = ops.logsumexp(x, axis=0)
        lme = ops.log_mean_exp(x, axis=0)
        g = autograd.grad(lambda v: ops.sum(ops.logsumexp(v, axis=0)))(x)
    np.testing.assert_allclose(out, [1000.0 + np.log(2.0), -1000.0 + np.log1p(np.exp(-1.0))])
    np.testing.assert_allclose(lme, out - np.log(2.0))
    np.testing.assert_allclose(g, [[0.5, np.e / (1 + np.e)], [0.5, 1 / (1 + np.e)]], rtol=1e-12)


def test_logsumexp_of_minus_infinity_is_minus_infinity():
    # A row of zero likelihoods: the largest is -inf, and the shift must not make a NaN.
    x = np.array([[-np.inf, 0.0], [-np.inf, 1.0]])
    with np.errstate(divide="ignore"):
        out = ops.logsumexp(x, axis=0)
    assert out[0] == -np.inf
    np.testing.assert_allclose(out[1], np.logaddexp(0.0, 1.0))


# -- elementwise ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "op, closed",
    [
        (ops.tanh, np.tanh),
        (sigmoid, special.expit),
        (softplus, lambda x: np.logaddexp(0.0, x)),
    ],
    ids=["tanh", "sigmoid", "softplus"],
)
def test_elementwise_values_and_derivatives(rng, op, closed):
    x = rng.randn(3, 4)
    np.testing.assert_allclose(op(x), closed(x), rtol=1e-14, atol=1e-15)
    rev(op, order=2)(x)


def test_derivatives_in_closed_form(rng):
    x = rng.randn(3, 4)
    d = autograd.elementwise_grad
    np.testing.assert_allclose(d(ops.tanh)(x), 1 - np.tanh(x) ** 2, rtol=1e-14)
    np.testing.assert_allclose(d(sigmoid)(x), special.expit(x) * special.expit(-x), rtol=1e-13)
    np.testing.assert_allclose(d(softplus)(x), special.expit(x), rtol=1e-14)


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_relu(rng, slope):
    x = rng.randn(4, 3) + 0.05  # away from the kink at 0
    x[x == 0] = 0.5
    np.testing.assert_array_equal(ops.relu(x, slope), np.where(x > 0, x, slope * x))
    np.testing.assert_array_equal(
        autograd.elementwise_grad(lambda v: ops.relu(v, slope))(x), np.where(x > 0, 1, slope)
    )
    rev(lambda v: ops.relu(v, slope), order=2)(x)


def test_softplus_and_sigmoid_at_extreme_inputs():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sp, sg = softplus(x), sigmoid(x)
        d_sp = autograd.elementwise_grad(softplus)(x)
        d_sg = autograd.elementwise_grad(sigmoid)(x)
    np.testing.assert_allclose(sp, [0.0, np.exp(-50.0), np.log(2.0), 50.0, 1000.0], rtol=1e-14)
    np.testing.assert_allclose(sg, [0.0, special.expit(-50.0), 0.5, 1.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(d_sp, sg, atol=1e-15)
    np.testing.assert_allclose(d_sg, [0.0, 0.0, 0.25, 0.0, 0.0], atol=1e-15)
    for dtype in (np.float32, np.float64):  # and float32: exp(-1000) underflows quietly
        with np.errstate(over="raise", invalid="raise"):
            out = softplus(x.astype(dtype))
        assert out.dtype == dtype and out[0] == 0 and out[-1] == 1000


# -- the dense layer -----------------------------------------------------------------------------
def test_dot_and_affine():
    np.testing.assert_allclose(ops.dot(X, W), X @ W, rtol=1e-14)
    np.testing.assert_allclose(affine(X, W, B), X @ W + B, rtol=1e-14)
    rev(ops.dot, order=2, argnum=(0, 1))(X, W)
    rev(affine, order=2, argnum=(0, 1, 2))(X, W, B)


def test_affine_gradients_in_closed_form(rng):
    g = rng.randn(3, 5)
    dx, dw, db = autograd.grad(lambda *a: ops.sum(affine(*a) * g), argnum=(0, 1, 2))(X, W, B)
    np.testing.assert_allclose(dx, g @ W.T, rtol=1e-14)
    np.testing.assert_allclose(dw, X.T @ g, rtol=1e-14)
    np.testing.assert_allclose(db, g.sum(0), rtol=1e-14)


def test_dense_relu_is_the_rectified_affine(rng):
    x = rng.randn(6, 4)
    out = dense_relu(x, W, B)
    np.testing.assert_array_equal(out, np.maximum(x @ W + B, 0))
    assert 0 < (out > 0).mean() < 1  # both sides of the kink
    rev(dense_relu, order=2, argnum=(0, 1, 2))(X, W, B)


# -- log-densities -------------------------------------------------------------------------------
def test_bernoulli_log_likelihood_is_the_log_of_the_probabilities(rng):
    logits = rng.randn(2, 3, 4)
    p = special.expit(logits)
    closed = (BINARY * np.log(p) + (1 - BINARY) * np.log(1 - p)).sum(-1)
    np.testing.assert_allclose(bernoulli_log_likelihood(BINARY, logits), closed, rtol=1e-13)
    np.testing.assert_allclose(
        bernoulli_log_likelihood(BINARY, logits),
        stats.bernoulli.logpmf(BINARY, p).sum(-1),
        rtol=1e-12,
    )
    dx, ds = autograd.grad(lambda *a: ops.sum(bernoulli_log_likelihood(*a)), argnum=(0, 1))(
        BINARY, logits
    )
    np.testing.assert_allclose(ds, BINARY - p, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dx, logits, rtol=1e-15)
    rev(bernoulli_log_likelihood, order=2, argnum=(0, 1))(BINARY, logits)


@pytest.mark.parametrize(
    "x_shape, s_shape",
    [((2, 3, 4), (3, 4)), ((3, 4), (2, 3, 4)), ((4,), (4,)), ((3, 4), (1, 4))],
)
def test_bernoulli_log_likelihood_broadcasts(rng, x_shape, s_shape):
    x = (rng.uniform(size=x_shape) < 0.5).astype(float)
    s = rng.randn(*s_shape)
    out = bernoulli_log_likelihood(x, s)
    shape = np.broadcast_shapes(x_shape, s_shape)[:-1]
    assert out.shape == shape
    xb, sb = np.broadcast_arrays(x, s)
    np.testing.assert_allclose(out, (xb * sb - np.logaddexp(0, sb)).sum(-1), rtol=1e-13)
    dx, ds = autograd.grad(lambda *a: ops.sum(bernoulli_log_likelihood(*a)), (0, 1))(x, s)
    assert dx.shape == x.shape and ds.shape == s.shape
    rev(bernoulli_log_likelihood, order=2, argnum=(0, 1))(x, s)


def test_bernoulli_log_likelihood_at_extreme_logits():
    x = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 0.0]])
    s = np.array([[1000.0, -1000.0, -1000.0, 1000.0, 0.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = bernoulli_log_likelihood(x, s)
        ds = autograd.grad(lambda v: ops.sum(bernoulli_log_likelihood(x, v)))(s)
    np.testing.assert_allclose(out, [-2000.0 - 2 * np.log(2.0)], rtol=1e-15)
    np.testing.assert_array_equal(ds, [[0.0, 0.0, 1.0, -1.0, 0.5, -0.5]])


def test_gaussian_log_density_is_scipys(rng):
    x, mu, ls = rng.randn(2, 3, 4), rng.randn(3, 4), 0.3 * rng.randn(3, 4)
    closed = stats.norm.logpdf(x, loc=mu, scale=np.exp(ls)).sum(-1)
    np.testing.assert_allclose(gaussian_log_density(x, mu, ls), closed, rtol=1e-13)
    dx, dmu, dls = autograd.grad(lambda *a: ops.sum(gaussian_log_density(*a)), argnum=(0, 1, 2))(
        x, mu, ls
    )
    standardized = (x - mu) * np.exp(-ls)
    np.testing.assert_allclose(dx, -standardized * np.exp(-ls), rtol=1e-13)
    np.testing.assert_allclose(dmu, (standardized * np.exp(-ls)).sum(0), rtol=1e-13)
    np.testing.assert_allclose(dls, (standardized**2 - 1).sum(0), rtol=1e-13)
    rev(gaussian_log_density, order=2, argnum=(0, 1, 2))(x, mu, ls)


@pytest.mark.parametrize(
    "shapes",
    [((2, 3, 4), (3, 4), (3, 4)), ((2, 3, 4), (4,), (4,)), ((3, 4), (2, 3, 4), (4,))],
)
def test_gaussian_log_density_broadcasts(rng, shapes):
    x, mu, ls = (rng.randn(*s) for s in shapes)
    ls *= 0.3
    out = gaussian_log_density(x, mu, ls)
    assert out.shape == np.broadcast_shapes(*shapes)[:-1]
    closed = stats.norm.logpdf(*np.broadcast_arrays(x, mu, np.exp(ls))).sum(-1)
    np.testing.assert_allclose(out, closed, rtol=1e-13)
    grads = autograd.grad(lambda *a: ops.sum(gaussian_log_density(*a)), (0, 1, 2))(x, mu, ls)
    assert [g.shape for g in grads] == list(shapes)
    rev(gaussian_log_density, order=2, argnum=(0, 1, 2))(x, mu, ls)


def test_gaussian_log_density_at_extreme_scales():
    # sigma = e^-30 and e^30: no overflow in the standardized distance.
    x = np.array([[1e-13, 1e13]])
    ls = np.array([[-30.0, 30.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = gaussian_log_density(x, np.zeros(2), ls)
    closed = stats.norm.logpdf(x, scale=np.exp(ls)).sum(-1)
    np.testing.assert_allclose(out, closed, rtol=1e-13)


# -- the reparametrization and the KL ------------------------------------------------------------
def test_reparametrize(rng):
    mu, ls, eps = rng.randn(3, 4), rng.randn(3, 4), rng.randn(2, 3, 4)
    np.testing.assert_allclose(reparametrize(mu, ls, eps), mu + np.exp(ls) * eps, rtol=1e-14)
    assert reparametrize(mu, ls, eps[0]).shape == (3, 4)
    dmu, dls, deps = autograd.grad(lambda *a: ops.sum(reparametrize(*a)), (0, 1, 2))(mu, ls, eps)
    np.testing.assert_allclose(dmu, np.full((3, 4), 2.0))
    np.testing.assert_allclose(dls, np.exp(ls) * eps.sum(0), rtol=1e-14)
    np.testing.assert_allclose(deps, np.broadcast_to(np.exp(ls), (2, 3, 4)), rtol=1e-14)
    rev(reparametrize, order=2, argnum=(0, 1, 2))(mu, ls, eps)
    rev(reparametrize, order=2, argnum=(0, 1, 2))(mu, ls, eps[0])


def test_reparametrized_samples_have_the_asked_moments():
    mu, ls = np.array([1.5, -2.0]), np.log(np.array([0.5, 3.0]))
    eps = np.random.RandomState(3).standard_normal((200_000, 2))
    z = reparametrize(mu, ls, eps)
    np.testing.assert_allclose(z.mean(0), mu, atol=0.03)
    np.testing.assert_allclose(z.std(0), np.exp(ls), rtol=0.01)


def test_diagonal_gaussian_kl_is_the_textbook_formula(rng):
    mq, lq = rng.randn(3, 4), 0.3 * rng.randn(3, 4)
    mp, lp = rng.randn(4), 0.3 * rng.randn(4)
    vq, vp = np.exp(2 * lq), np.exp(2 * lp)  # the ratio of variances
    closed = 0.5 * (np.log(vp / vq) + (vq + (mq - mp) ** 2) / vp - 1)
    out = diagonal_gaussian_kl(mq, lq, mp, lp)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, closed, rtol=1e-12, atol=1e-15)
    rev(diagonal_gaussian_kl, order=2, argnum=(0, 1, 2, 3))(mq, lq, mp, lp)
    rev(diagonal_gaussian_kl, order=2, argnum=(0, 1, 2, 3))(mq, lq, mp[None], lp[None])


def test_diagonal_gaussian_kl_by_quadrature():
    from scipy import integrate

    mq, lq, mp, lp = 0.3, -0.4, -0.5, 0.2
    q, p = stats.norm(mq, np.exp(lq)), stats.norm(mp, np.exp(lp))
    numeric, _ = integrate.quad(lambda z: q.pdf(z) * (q.logpdf(z) - p.logpdf(z)), -20, 20)
    out = diagonal_gaussian_kl(*(np.array([v]) for v in (mq, lq, mp, lp)))
    np.testing.assert_allclose(out, [numeric], rtol=1e-9)


def test_diagonal_gaussian_kl_is_zero_for_equal_distributions_and_positive_otherwise(rng):
    m, ls = rng.randn(5, 3), rng.randn(5, 3)
    np.testing.assert_allclose(diagonal_gaussian_kl(m, ls, m, ls), 0.0, atol=1e-15)
    assert (diagonal_gaussian_kl(m, ls, m + 0.1, ls) > 0).all()
    grads = autograd.grad(lambda *a: ops.sum(diagonal_gaussian_kl(*a)), argnum=(0, 1, 2, 3))(
        m, ls, m, ls
    )
    for g in grads:  # a minimum
        np.testing.assert_allclose(g, 0.0, atol=1e-14)


# -- the learning rule ---------------------------------------------------------------------------
@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_update(rng, nesterov):
    p, v, g = rng.randn(3, 2), rng.randn(3, 2), rng.randn(3, 2)
    eta, mu = 0.1, 0.7
    new_p, new_v = momentum_update(p, v, g, eta, mu, nesterov)
    np.testing.assert_allclose(new_v, mu * v - eta * g, rtol=1e-15)
    expected = p + mu * (mu * v - eta * g) - eta * g if nesterov else p + mu * v - eta * g
    np.testing.assert_allclose(new_p, expected, rtol=1e-14)
    for output in (0, 1):  # check_grads differentiates one array, not a tuple

        def update(p, v, g, output=output):
            return momentum_update(p, v, g, eta, mu, nesterov)[output]

        rev(update, argnum=(0, 1, 2))(p, v, g)
        # linear, so the second order through it is that of its inputs
        rev(lambda p, v, g, f=update: f(p * p, v * v, g * g), order=2, argnum=(0, 1, 2))(p, v, g)


# -- types ---------------------------------------------------------------------------------------
def test_float32_in_float32_out(rng):
    x = rng.randn(3, 4).astype("float32")
    w = rng.randn(4, 5).astype("float32")
    b = np.zeros(5, "float32")
    for out in [
        ops.dot(x, w),
        affine(x, w, b),
        dense_relu(x, w, b),
        ops.relu(x),
        ops.tanh(x),
        softplus(x),
        sigmoid(x),
        bernoulli_log_likelihood((x > 0).astype("float32"), x),
        gaussian_log_density(x, x, x),
        reparametrize(x, x, x),
        diagonal_gaussian_kl(x, x, x, x),
        ops.logsumexp(x, axis=0),
        ops.log_mean_exp(x, axis=0),
        ops.sum(x, axis=1),
        ops.mean(x),
        *momentum_update(x, x, x, np.float32(0.1), np.float32(0.5)),
    ]:
        assert out.dtype == np.float32


def test_log_2pi():
    assert ops.LOG_2PI == math.log(2 * math.pi)


# -- second order through a composition ----------------------------------------------------------
def test_hessian_vector_product_of_a_decoder_log_likelihood(rng):
    # grad of grad through affine, softplus and the Bernoulli log-likelihood, against a
    # central difference of the gradient.
    W2, b2 = rng.randn(4, 6), rng.randn(6)
    x_bin = (rng.uniform(size=(3, 6)) < 0.5).astype(float)

    def log_likelihood(h):
        return ops.sum(bernoulli_log_likelihood(x_bin, affine(softplus(h), W2, b2)))

    direction = rng.randn(3, 4)
    grad = autograd.grad(log_likelihood)
    hvp = autograd.grad(lambda v: anp.sum(grad(v) * direction))(X)
    eps = 1e-6
    numeric = (grad(X + eps * direction) - grad(X - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(hvp, numeric, rtol=1e-6, atol=1e-8)


# -- the registry --------------------------------------------------------------------------------
OP_NAMES = {
    "sigmoid",
    "softplus",
    "affine",
    "dense_relu",
    "bernoulli_log_likelihood",
    "gaussian_log_density",
    "reparametrize",
    "diagonal_gaussian_kl",
    "momentum_update",
}


def test_the_replaceable_ops_and_what_they_run(monkeypatch):
    monkeypatch.setattr(op_registry, "_FASTER", {})
    for name in OP_NAMES:
        assert getattr(ops, name).reference is op_registry._REFERENCE[name]
        assert ops.implementation(name, "cpu") is op_registry._REFERENCE[name]
    assert set(op_registry._REFERENCE) == OP_NAMES
    assert ops.registered() == {}


def test_a_registration_runs_on_its_device_only(monkeypatch):
    monkeypatch.setattr(op_registry, "_FASTER", {})
    calls = []

    def faster(x):
        calls.append(x)
        return "faster"

    ops.register("softplus", "gpu", faster)
    assert ops.registered() == {("softplus", "gpu"): faster}
    assert ops.implementation("softplus", "gpu") is faster
    with backend.using(device="cpu"):
        assert ops.implementation("softplus") is ops.softplus.reference
        np.testing.assert_allclose(ops.softplus(np.array([0.0])), [np.log(2.0)])
    assert calls == []
    ops.register("softplus", "cpu", faster)
    with backend.using(device="cpu"):
        assert ops.softplus(np.array([0.0])) == "faster"
    assert len(calls) == 1
    registered = ops.registered()
    registered.clear()  # a copy
    assert len(ops.registered()) == 2
    ops.register("softplus", "cpu", None)
    ops.register("softplus", "cpu", None)  # removing nothing is fine
    assert ops.registered() == {("softplus", "gpu"): faster}


def test_a_bad_registration_is_refused_by_name(monkeypatch):
    monkeypatch.setattr(op_registry, "_FASTER", {})
    with pytest.raises(KeyError, match=r"no op named 'softmax'; the ops are affine, "):
        ops.register("softmax", "cpu", np.exp)
    with pytest.raises(ValueError, match=r"device must be 'cpu' or 'gpu', got 'tpu'"):
        ops.register("softplus", "tpu", np.exp)
    assert ops.registered() == {}
