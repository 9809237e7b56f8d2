"""The formulas of the VAE, each written once, as plain array code autograd differentiates.

These are the *reference*: the maths a reader checks against the papers (see
``docs/reading.md``), and the specification every faster implementation is tested
against. Most are compositions that autograd traces as they stand. A few are autograd
``@primitive`` functions whose gradient sits right under them in one ``defvjp`` line,
where autograd's own gradient would build NumPy arrays and so fail on CuPy (``dot``,
``sum``, ``mean``) or where the stable form of a function has a simpler gradient than
its steps (``softplus``, ``logsumexp``). Every body asks the backend for the array
module of its inputs, so the same line runs on NumPy and on CuPy.

Faster implementations
    A function decorated with :func:`~pylearn_vae.op_registry.op` may be replaced, per
    device, by a faster one of the same name: :mod:`pylearn_vae.accel` registers them
    when ``import pylearn_vae`` runs, unless ``PYLEARN_VAE_REFERENCE=1``; then this
    module's code runs everywhere, end to end, and :mod:`pylearn_vae.accel` is never
    imported. The tests prove each implementation equal to the formula here.

Shapes: ``(..., dim)`` arrays reduce over their last axis; binary formulas broadcast
like NumPy (a ``(batch, nhid)`` mean meets ``(num_samples, batch, nhid)`` noise).
"""

import math

import autograd.numpy as anp
from autograd.extend import defvjp, primitive

from pylearn_vae import backend
from pylearn_vae.op_registry import implementation, op, register, registered

__all__ = [
    "LOG_2PI",
    "affine",
    "bernoulli_log_likelihood",
    "dense_relu",
    "diagonal_gaussian_kl",
    "dot",
    "gaussian_log_density",
    "implementation",
    "log_mean_exp",
    "logsumexp",
    "mean",
    "op",
    "register",
    "registered",
    "relu",
    "reparametrize",
    "sigmoid",
    "softplus",
    "sum",
    "tanh",
]

LOG_2PI = math.log(2.0 * math.pi)


_xp = backend.compute_module


# -- reductions -----------------------------------------------------------------------------
@primitive
def sum(x, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy.sum
    """Sum over ``axis`` (all axes if None)."""
    return x.sum(axis=axis, keepdims=keepdims)


def _spread(g, x, axis, keepdims):
    """A reduction's gradient ``g`` given back the reduced axes and broadcast to ``x``."""
    shape = list(g.shape)
    if axis is None:
        shape = [1] * x.ndim
    elif not keepdims:
        for a in sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)):
            shape.insert(a, 1)
    return _xp(g).broadcast_to(g.reshape(shape), x.shape)


defvjp(sum, lambda ans, x, axis=None, keepdims=False: lambda g: _spread(g, x, axis, keepdims))


@primitive
def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (all axes if None)."""
    return x.mean(axis=axis, keepdims=keepdims)


defvjp(
    mean,
    lambda ans, x, axis=None, keepdims=False: lambda g: _spread(
        g / (x.size // max(ans.size, 1)), x, axis, keepdims
    ),
)


@primitive
def logsumexp(x, axis=0):
    """``log sum_i exp(x_i)`` over ``axis``, as ``m + log sum_i exp(x_i - m)`` with ``m``
    the largest ``x_i``, so that it never overflows."""
    xp = _xp(x)
    m = x.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    return (xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m).squeeze(axis=axis)


# d/dx_i logsumexp(x) = exp(x_i - logsumexp(x)), the softmax.
defvjp(
    logsumexp,
    lambda ans, x, axis=0: lambda g: anp.expand_dims(g, axis)
    * anp.exp(x - anp.expand_dims(ans, axis)),
)


def log_mean_exp(x, axis=0):
    """``log (1/S) sum_s exp(x_s)`` over ``axis`` of size ``S``: the log of an average of
    likelihood ratios, from their logs."""
    return logsumexp(x, axis=axis) - math.log(x.shape[axis])


# -- elementwise functions ------------------------------------------------------------------
@primitive
def tanh(x):
    """Hyperbolic tangent."""
    return _xp(x).tanh(x)


defvjp(tanh, lambda ans, x: lambda g: g * (1 - ans * ans))


@op
@primitive
def sigmoid(x):
    """``1 / (1 + e^-x)``, computed as ``(1 + tanh(x / 2)) / 2``, which never overflows."""
    return 0.5 + 0.5 * _xp(x).tanh(0.5 * x)


defvjp(sigmoid.reference, lambda ans, x: lambda g: g * ans * (1 - ans))


@op
@primitive
def softplus(x):
    """``log(1 + e^x)``, computed as ``max(x, 0) + log(1 + e^-|x|)``, which never overflows."""
    xp = _xp(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


defvjp(softplus.reference, lambda ans, x: lambda g: g * sigmoid(x))


@primitive
def relu(x, left_slope=0.0):
    """The rectifier: ``x`` where ``x > 0``, else ``left_slope * x``."""
    return _xp(x).where(x > 0, x, left_slope * x)


defvjp(
    relu,
    lambda ans, x, left_slope=0.0: (
        lambda g: g * _xp(x).where(x > 0, 1.0, left_slope).astype(x.dtype)
    ),
)


# -- the dense layer ------------------------------------------------------------------------
@primitive
def dot(a, b):
    """The matrix product ``a b`` of 2-D arrays."""
    return _xp(a, b).dot(a, b)


defvjp(dot, lambda ans, a, b: lambda g: dot(g, b.T), lambda ans, a, b: lambda g: dot(a.T, g))


@op
def affine(x, W, b):
    """``x W + b``.

    Parameters
    ----------
    x : array, shape (batch, n_in)
    W : array, shape (n_in, n_out)
    b : array, shape (n_out,)

    Returns
    -------
    array, shape (batch, n_out)
    """
    return dot(x, W) + b


@op
def dense_relu(x, W, b):
    """``max(x W + b, 0)``: a rectified linear layer (shapes as :func:`affine`)."""
    return relu(affine(x, W, b))


# -- log-densities, the reparametrization and the KL ----------------------------------------
@op
def bernoulli_log_likelihood(x, logits):
    """``log p(x | s)`` of binary ``x`` under Bernoulli units with logits ``s``, over ``d``.

    ``sum_d [x log sigmoid(s) + (1 - x) log(1 - sigmoid(s))] = sum_d [x s - softplus(s)]``.

    Parameters
    ----------
    x : array, shape (..., dim)
    logits : array, broadcastable against ``x``

    Returns
    -------
    array, shape (...,)
    """
    return sum(x * logits - softplus(logits), axis=-1)


@op
def gaussian_log_density(x, mu, log_sigma):
    """``log N(x; mu, diag(sigma^2))`` with ``sigma = exp(log_sigma)``, over the last axis.

    ``-1/2 sum_d [log 2 pi + 2 log_sigma + ((x - mu) / sigma)^2]``.

    Parameters
    ----------
    x, mu, log_sigma : arrays broadcastable to a common shape (..., dim)

    Returns
    -------
    array, shape (...,)
    """
    standardized = (x - mu) * anp.exp(-log_sigma)
    return -0.5 * sum(LOG_2PI + 2 * log_sigma + standardized * standardized, axis=-1)


@op
def reparametrize(mu, log_sigma, epsilon):
    """The reparametrization trick: ``z = mu + exp(log_sigma) * epsilon``.

    Parameters
    ----------
    mu, log_sigma : array, shape (batch, nhid)
    epsilon : array, shape (batch, nhid) or (num_samples, batch, nhid)

    Returns
    -------
    array, the shape of ``epsilon``
    """
    return mu + anp.exp(log_sigma) * epsilon


@op
def diagonal_gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p):
    """``KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2))`` of each unit, in closed form.

    ``log sigma_p - log sigma_q + (sigma_q^2 + (mu_q - mu_p)^2) / (2 sigma_p^2) - 1/2``.

    Parameters
    ----------
    mu_q, log_sigma_q : array, shape (batch, nhid)
        The posterior's parameters.
    mu_p, log_sigma_p : array, shape (nhid,) or (batch, nhid)
        The prior's parameters.

    Returns
    -------
    array, shape (batch, nhid)
    """
    difference = mu_q - mu_p
    return (
        log_sigma_p
        - log_sigma_q
        + 0.5 * (anp.exp(2 * log_sigma_q) + difference * difference) * anp.exp(-2 * log_sigma_p)
        - 0.5
    )


# -- the learning rule ----------------------------------------------------------------------
@op
def momentum_update(value, velocity, grad, eta, mu, nesterov=False):
    """One step of momentum: ``(p', v')`` from the parameter ``p``, its velocity ``v`` and
    gradient ``g``.

    ``v' = mu v - eta g``; ``p' = p + v'``, or with Nesterov momentum
    ``p' = p + mu v' - eta g``.
    """
    new_velocity = mu * velocity - eta * grad
    step = mu * new_velocity - eta * grad if nesterov else new_velocity
    return value + step, new_velocity
