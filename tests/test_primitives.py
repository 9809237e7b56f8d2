"""Every primitive: its value against a direct NumPy formula, its gradient against
finite differences (float64), and stability at extreme inputs."""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.test_util import check_grads

from pylearn_vae import primitives as P


def _softplus_ref(x):
    return np.logaddexp(0.0, x)


def _sigmoid_ref(x):
    return 1.0 / (1.0 + np.exp(-x))


_constants = np.random.RandomState(0)  # the fixed inputs below, drawn once at import
X = _constants.randn(3, 4)
W = _constants.randn(4, 5)
B = _constants.randn(5)
del _constants


def test_affine_value_and_grads():
    np.testing.assert_allclose(P.affine(X, W, B), X @ W + B)
    check_grads(P.affine, modes=["rev"], order=1)(X, W, B)


def test_dense_relu_is_relu_of_affine_bit_for_bit(rng):
    # Values and every gradient equal to the two primitives' (float32, a batch whose
    # products are negative for about half the units), and to finite differences.
    x = rng.randn(6, 4).astype("float32")
    w, b = rng.randn(4, 5).astype("float32"), rng.randn(5).astype("float32")
    out = P.dense_relu(x, w, b)
    np.testing.assert_array_equal(out, P.relu(P.affine(x, w, b)))
    assert out.dtype == np.float32 and 0 < (out > 0).mean() < 1
    g = rng.randn(6, 5).astype("float32")
    fused = autograd.grad(lambda *a: anp.sum(P.dense_relu(*a) * g), argnum=(0, 1, 2))(x, w, b)
    parts = autograd.grad(
        lambda *a: anp.sum(P.relu(P.affine(*a)) * g), argnum=(0, 1, 2)
    )(x, w, b)
    for a, e in zip(fused, parts, strict=True):
        np.testing.assert_array_equal(a, e)
    check_grads(P.dense_relu, modes=["rev"], order=1)(X, W, B)


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_relu_value_and_grad(rng, slope):
    x = rng.randn(4, 3) + 0.05  # keep away from the kink at 0
    np.testing.assert_allclose(P.relu(x, slope), np.where(x > 0, x, slope * x))
    check_grads(lambda v: P.relu(v, slope), modes=["rev"], order=1)(x)


@pytest.mark.parametrize(
    "prim, ref",
    [
        (P.tanh, np.tanh),
        (P.sigmoid, _sigmoid_ref),
        (P.softplus, _softplus_ref),
        (P.exp, np.exp),
    ],
)
def test_elementwise_values_and_grads(rng, prim, ref):
    x = rng.randn(3, 4)
    np.testing.assert_allclose(prim(x), ref(x), rtol=1e-12, atol=1e-12)
    check_grads(prim, modes=["rev"], order=1)(x)


def test_softplus_and_sigmoid_extreme_inputs():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sp = P.softplus(x)
        sg = P.sigmoid(x)
    np.testing.assert_allclose(sp, [0.0, np.exp(-50.0), np.log(2.0), 50.0, 1000.0], rtol=1e-12)
    np.testing.assert_allclose(sg, [0.0, _sigmoid_ref(-50.0), 0.5, 1.0, 1.0], atol=1e-15)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False)])
@pytest.mark.parametrize("prim, ref", [(P.sum, np.sum), (P.mean, np.mean)])
def test_reductions(rng, prim, ref, axis, keepdims):
    x = rng.randn(2, 3, 4)
    np.testing.assert_allclose(
        prim(x, axis=axis, keepdims=keepdims), ref(x, axis=axis, keepdims=keepdims)
    )
    check_grads(lambda v: prim(v, axis=axis, keepdims=keepdims), modes=["rev"], order=1)(x)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_logsumexp(rng, axis):
    x = rng.randn(3, 4, 2)
    ref = np.log(np.exp(x).sum(axis=axis))
    np.testing.assert_allclose(P.logsumexp(x, axis=axis), ref, rtol=1e-12)
    check_grads(lambda v: P.logsumexp(v, axis=axis), modes=["rev"], order=1)(x)


def test_logsumexp_and_log_mean_exp_do_not_overflow():
    x = np.array([[1000.0, -1000.0], [1000.0, -1001.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = P.logsumexp(x, axis=0)
        lme = P.log_mean_exp(x, axis=0)
    np.testing.assert_allclose(out, [1000.0 + np.log(2.0), -1000.0 + np.log1p(np.exp(-1.0))])
    np.testing.assert_allclose(lme, out - np.log(2.0))


def test_bernoulli_log_likelihood_value_and_grads(rng):
    x = (rng.uniform(size=(2, 3, 4)) < 0.5).astype(float)
    logits = rng.randn(2, 3, 4)
    p = _sigmoid_ref(logits)
    ref = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum(-1)
    np.testing.assert_allclose(P.bernoulli_log_likelihood(x, logits), ref, rtol=1e-10)
    check_grads(lambda s: P.bernoulli_log_likelihood(x, s), modes=["rev"], order=1)(logits)
    # 2-D logits broadcast over the sample axis of 3-D x, and 2-D data works too.
    logits2 = rng.randn(3, 4)
    check_grads(lambda s: P.bernoulli_log_likelihood(x, s), modes=["rev"], order=1)(logits2)
    assert P.bernoulli_log_likelihood(x[0], logits2).shape == (3,)


def test_bernoulli_log_likelihood_extreme_logits():
    x = np.array([[1.0, 0.0, 1.0, 0.0]])
    s = np.array([[1000.0, -1000.0, -1000.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = P.bernoulli_log_likelihood(x, s)
    np.testing.assert_allclose(out, [-2000.0])


def test_gaussian_log_density_value_and_grads(rng):
    x = rng.randn(2, 3, 4)
    mu = rng.randn(3, 4)
    ls = 0.3 * rng.randn(3, 4)
    sigma = np.exp(ls)
    ref = (-0.5 * np.log(2 * np.pi) - ls - 0.5 * ((x - mu) / sigma) ** 2).sum(-1)
    np.testing.assert_allclose(P.gaussian_log_density(x, mu, ls), ref, rtol=1e-12)
    check_grads(P.gaussian_log_density, modes=["rev"], order=1)(x, mu, ls)
    # 1-D prior parameters broadcast over (S, B, d) too.
    check_grads(P.gaussian_log_density, modes=["rev"], order=1)(x, mu[0], ls[0])


def test_gaussian_log_density_matches_scipy(rng):
    from scipy.stats import norm

    x, mu, ls = rng.randn(5, 3), rng.randn(5, 3), 0.5 * rng.randn(5, 3)
    ref = norm.logpdf(x, loc=mu, scale=np.exp(ls)).sum(-1)
    np.testing.assert_allclose(P.gaussian_log_density(x, mu, ls), ref, rtol=1e-12)


def test_reparametrize(rng):
    mu, ls, eps = rng.randn(3, 4), rng.randn(3, 4), rng.randn(2, 3, 4)
    np.testing.assert_allclose(P.reparametrize(mu, ls, eps), mu + np.exp(ls) * eps)
    check_grads(P.reparametrize, modes=["rev"], order=1)(mu, ls, eps)
    check_grads(P.reparametrize, modes=["rev"], order=1)(mu, ls, eps[0])


def test_diagonal_gaussian_kl_value_and_grads(rng):
    mq, lq = rng.randn(3, 4), 0.3 * rng.randn(3, 4)
    mp, lp = rng.randn(4), 0.3 * rng.randn(4)
    # Closed form written as the textbook ratio of variances.
    vq, vp = np.exp(2 * lq), np.exp(2 * lp)
    ref = 0.5 * (np.log(vp / vq) + (vq + (mq - mp) ** 2) / vp - 1)
    np.testing.assert_allclose(P.diagonal_gaussian_kl(mq, lq, mp, lp), ref, rtol=1e-12)
    check_grads(P.diagonal_gaussian_kl, modes=["rev"], order=1)(mq, lq, mp, lp)


def test_float32_in_float32_out(rng):
    x = rng.randn(3, 4).astype("float32")
    w = rng.randn(4, 5).astype("float32")
    b = np.zeros(5, "float32")
    for out in [
        P.affine(x, w, b),
        P.relu(x),
        P.softplus(x),
        P.sigmoid(x),
        P.bernoulli_log_likelihood((x > 0).astype("float32"), x),
        P.gaussian_log_density(x, x, x),
        P.logsumexp(x, axis=0),
        P.mean(x),
    ]:
        assert out.dtype == np.float32


@pytest.mark.parametrize(
    "prim, shapes, scales",
    [
        (P.gaussian_log_density, ((2, 3, 4), (3, 4), (4,)), (1, 1, 0.3)),
        (P.diagonal_gaussian_kl, ((3, 4), (3, 4), (4,), (4,)), (1, 0.3, 1, 0.3)),
    ],
)
def test_gradient_with_respect_to_each_argument_alone(rng, prim, shapes, scales):
    args = [scale * rng.randn(*shape) for shape, scale in zip(shapes, scales, strict=True)]
    # These primitives share one VJP maker over all arguments: check every subset of one.
    for i in range(len(args)):

        def partial(v, i=i):
            return prim(*args[:i], v, *args[i + 1 :])

        check_grads(partial, modes=["rev"], order=1)(args[i])
