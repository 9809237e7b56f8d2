"""Second derivatives through the primitives (grad of grad), against finite differences.

A VJP being differentiated computes with ``autograd.numpy`` (no in-place arithmetic, no
fused kernel); a first-order gradient keeps NumPy/CuPy.
"""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.test_util import check_grads

from pylearn_vae import primitives as P

rng = np.random.RandomState(1)
X = rng.randn(3, 4)
BINARY = (rng.uniform(size=(2, 3, 4)) < 0.5).astype(float)

CASES = {
    "affine": (P.affine, (X, rng.randn(4, 5), rng.randn(5))),
    "dense_relu": (P.dense_relu, (X, rng.randn(4, 5), rng.randn(5))),
    "relu": (lambda v: P.relu(v), (X + 0.05,)),
    "leaky relu": (lambda v: P.relu(v, 0.2), (X + 0.05,)),
    "tanh": (P.tanh, (X,)),
    "sigmoid": (P.sigmoid, (X,)),
    "softplus": (P.softplus, (X,)),
    "exp": (P.exp, (X,)),
    "sum over an axis": (lambda v: P.sum(v, axis=1), (X,)),
    "sum": (P.sum, (X,)),
    "mean": (lambda v: P.mean(v, axis=0, keepdims=True), (X,)),
    "logsumexp": (lambda v: P.logsumexp(v, axis=1), (X,)),
    "log_mean_exp": (lambda v: P.log_mean_exp(v, axis=0), (X,)),
    "bernoulli_log_likelihood": (P.bernoulli_log_likelihood, (BINARY, rng.randn(3, 4))),
    "gaussian_log_density": (
        P.gaussian_log_density,
        (rng.randn(2, 3, 4), rng.randn(3, 4), 0.3 * rng.randn(3, 4)),
    ),
    "reparametrize": (
        P.reparametrize,
        (rng.randn(3, 4), 0.3 * rng.randn(3, 4), rng.randn(2, 3, 4)),
    ),
    "diagonal_gaussian_kl": (
        P.diagonal_gaussian_kl,
        (rng.randn(3, 4), 0.3 * rng.randn(3, 4), rng.randn(4), 0.3 * rng.randn(4)),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_second_derivatives_match_finite_differences(name):
    # order=2 differentiates each VJP with respect to every input and to the gradient g.
    fun, args = CASES[name]
    check_grads(fun, argnum=tuple(range(len(args))), modes=["rev"], order=2)(*args)


def test_hessian_vector_product_of_a_decoder_log_likelihood():
    # grad of grad through affine, softplus and the fused Bernoulli log-likelihood.
    W, b = rng.randn(4, 6), rng.randn(6)
    x_bin = (rng.uniform(size=(3, 6)) < 0.5).astype(float)

    def log_likelihood(h):
        return anp.sum(P.bernoulli_log_likelihood(x_bin, P.affine(P.softplus(h), W, b)))

    direction = rng.randn(3, 4)

    def hvp(h):
        return autograd.grad(lambda v: anp.sum(autograd.grad(log_likelihood)(v) * direction))(h)

    eps = 1e-6
    grad = autograd.grad(log_likelihood)
    numeric = (grad(X + eps * direction) - grad(X - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(hvp(X), numeric, rtol=1e-6, atol=1e-8)


def test_first_order_vjps_compute_with_numpy():
    assert P._array_module(X, X) is np
    assert P._array_module(autograd.tracer.new_box(X, 0, None), X) is anp
    assert P._array_module(X, autograd.tracer.new_box(X, 0, None)) is anp
