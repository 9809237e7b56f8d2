"""Autograd primitives with hand-written gradients, for NumPy and CuPy alike.

Each function below is an autograd ``@primitive``; its vector-Jacobian product (VJP)
sits right under it in one ``defvjp`` call (``defvjp_argnums`` where the gradients of
several arguments share their intermediate arrays). Every body asks
``xp = get_array_module(...)`` for the array module of its inputs, so one definition
serves the CPU and the GPU, and none builds a NumPy array from a CuPy one (autograd's
own VJPs for ``sum``/``mean`` do, and fail on CuPy).

Why hand-written: a VAE step spends its time in a few fused expressions. One primitive
for the Bernoulli log-likelihood from logits replaces a chain of a dozen elementwise
operations (each its own temporary and tape entry); ``affine`` replaces autograd's
``dot`` gradient (``tensordot`` with transposes); and the stable softplus
``max(x, 0) + log1p(exp(-|x|))`` is about ten times faster than ``numpy.logaddexp``.
Everything is stable for any finite input (logits of +-1000 give no overflow).

Broadcasting: binary primitives broadcast like NumPy, and their VJPs sum the gradient
back to each input's shape (so a ``(batch, dim)`` mean can meet ``(S, batch, dim)``
noise without indexing a traced array).

Higher-order gradients: every VJP can itself be differentiated (``grad(grad(f))``,
Hessian-vector products); ``tests/test_primitives_second_order.py`` checks each second
derivative against finite differences. A VJP is differentiated when the gradient ``g`` or
a value it captured is an autograd box; it then asks :func:`_array_module` for
``autograd.numpy`` instead of NumPy/CuPy, skips the fused kernels and the in-place
arithmetic (which autograd cannot trace) and computes the same formula out of traceable
operations. A plain first-order gradient never sees a box, so it keeps the fast path.
"""

import math

import autograd.numpy as anp
import numpy
from autograd.extend import defvjp, defvjp_argnums, primitive
from autograd.tracer import Box

from pylearn_vae import kernels, threads
from pylearn_vae.backend import get_array_module

__all__ = [
    "affine",
    "bernoulli_log_likelihood",
    "dense_relu",
    "diagonal_gaussian_kl",
    "exp",
    "gaussian_log_density",
    "log_mean_exp",
    "logsumexp",
    "mean",
    "relu",
    "reparametrize",
    "sigmoid",
    "softplus",
    "sum",
    "tanh",
]

LOG_2PI = math.log(2.0 * math.pi)


def _array_module(g, ans):
    """The module a VJP computes with: ``autograd.numpy`` when it is being differentiated.

    That is when the gradient ``g`` or the primitive's output ``ans`` is an autograd box
    (``ans`` is one exactly when the primitive's inputs were traced at an outer level, so
    the values the VJP captured are boxes too); otherwise NumPy or CuPy, as ``g``'s. Two
    ``isinstance`` checks are all a first-order gradient pays.
    """
    if isinstance(g, Box) or isinstance(ans, Box):
        return anp
    return get_array_module(g)


def _vjp_kernel(name, xp):
    """The fused CuPy kernel of a VJP, or None (always None when the VJP is traced)."""
    return None if xp is anp else kernels.get(name, xp)


def _unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``, undoing NumPy broadcasting."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def _expand(g, shape, axis, keepdims):
    """Give a reduced gradient ``g`` back the reduced axes of ``shape`` (as size 1)."""
    if axis is None:
        return g.reshape((1,) * len(shape))
    if keepdims:
        return g
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = sorted(a % len(shape) for a in axes)
    out_shape = list(g.shape)
    for a in axes:
        out_shape.insert(a, 1)
    return g.reshape(out_shape)


def _same_dtype(*arrays):
    """The arrays cast to their NumPy result type (a fused kernel takes one type ``T``)."""
    dtype = numpy.result_type(*(a.dtype for a in arrays))
    return tuple(a.astype(dtype, copy=False) for a in arrays)


def _log1p_is_vectorized():
    """Whether NumPy's float32 ``log1p`` runs SIMD code on this CPU.

    NumPy 2 vectorizes it only for AVX-512 (``X86_V4``); elsewhere (AVX2 laptops, AMD
    Zen 2/3) it runs scalar, 7x slower than ``log``. ``numpy.lib.introspect`` says
    which loop NumPy dispatched to (it honours ``NPY_DISABLE_CPU_FEATURES``).
    """
    try:
        from numpy.lib.introspect import opt_func_info
    except ImportError:  # NumPy 1.x: no introspection; its log1p is plain either way
        return True
    info = opt_func_info(func_name="^log1p$", signature="float32")
    loops = info.get("log1p", {})
    return bool(loops) and not any(
        loop.get("current", "baseline").startswith("baseline") for loop in loops.values()
    )


LOG1P_IS_VECTORIZED = _log1p_is_vectorized()


def _log1p_is_scalar(dtype):
    """Whether ``log1p`` of ``dtype`` runs scalar here: float32 where NumPy has no SIMD
    loop for it (float64 keeps ``log1p``: the workarounds below are float32's)."""
    return not LOG1P_IS_VECTORIZED and dtype == numpy.float32


def _log1p_of_unit(t, out):
    """``log1p(t)`` for ``t`` in [0, 1], written to ``out`` (which must not be ``t``).

    Where NumPy's float32 ``log1p`` is scalar (see :func:`_log1p_is_vectorized`), from
    ``log`` alone: ``u = 1 + t`` rounds, but ``u - 1`` is exact (Sterbenz) and
    ``(u - 1) - t`` is the rounding error, so ``log(u) - ((u - 1) - t)`` is
    ``log1p(t)`` to a float's rounding (the dropped term is the error times
    ``1 - 1/u``); 2.5x faster there, within 3 float32 ulps of ``log1p``.
    """
    if not _log1p_is_scalar(t.dtype):
        return numpy.log1p(t, out=out)
    u = t + 1
    numpy.log(u, out=out)
    u -= 1
    u -= t
    out -= u
    return out


def _exp_of_minus_abs(x):
    """``exp(-|x|)``, in (0, 1], as a new array (softplus's tail)."""
    tail = numpy.abs(x)
    numpy.negative(tail, out=tail)
    return numpy.exp(tail, out=tail)


def _softplus_rows(x, out):
    # max(x, 0) + log1p(exp(-|x|)) in the block's temporaries (see _log1p_of_unit).
    tail = _exp_of_minus_abs(x)
    _log1p_of_unit(tail, out)
    numpy.maximum(x, 0, out=tail)
    out += tail
    return out


#: Halvings of a row in :func:`_sum_log_rows`: one log per 16 values.
LOG_PRODUCT_HALVINGS = 4


def _sum_log_rows(u, out):
    """``log(u).sum(axis=-1)`` for ``u`` in [1, 2], into ``out``; ``u`` is overwritten.

    A sum of logs is the log of a product: the rows are folded in half
    :data:`LOG_PRODUCT_HALVINGS` times (while their width is even), each time
    multiplying the second half into the first, and the log is taken of what is left,
    one value per 16. A product of 16 values in [1, 2] stays below ``2 ** 16`` and is
    within 15 roundings (1e-6 relative) of the exact product, so its log is off by at
    most 1e-6: no more than the rounding of sixteen separate logs and their sum.
    For the Bernoulli sum where float32 ``log1p`` is scalar (AVX2): there a float32
    ``log`` costs about twelve multiplications (215 against 15-20 us on (200, 784)),
    and the folds cost about one.
    """
    width = u.shape[-1]
    for _ in range(LOG_PRODUCT_HALVINGS):
        if width % 2:
            break
        width //= 2
        u[..., :width] *= u[..., width : 2 * width]
    left = u[..., :width]
    numpy.log(left, out=left)
    return left.sum(axis=-1, out=out)


def _stable_softplus(xp, x):
    if xp is anp:  # traced inside a VJP: the primitive, which autograd can differentiate
        return softplus(x)
    if xp is not numpy:  # CuPy: one pass per operation is what a GPU wants
        tail = xp.abs(x)
        xp.negative(tail, out=tail)
        xp.exp(tail, out=tail)
        xp.log1p(tail, out=tail)
        out = xp.maximum(x, 0)
        out += tail
        return out
    x = numpy.asarray(x)
    if x.ndim == 0:  # a 0-d array: numpy.abs of it is a scalar, which out= cannot take
        return _stable_softplus(numpy, x.reshape(1)).reshape(())
    out = numpy.empty_like(x)
    threads.for_blocks(lambda i: _softplus_rows(x[i], out[i]), x.shape)
    return out


def _stable_sigmoid(xp, x):
    # 0.5 * (1 + tanh(x / 2)) never overflows, unlike 1 / (1 + exp(-x)).
    if xp is anp:  # traced inside a VJP: the primitive, which autograd can differentiate
        return sigmoid(x)
    out = xp.asarray(x * 0.5)  # an array even for a 0-d x, so out= can write to it
    xp.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


# -- dense layer -----------------------------------------------------------------------
@primitive
def affine(x, W, b):
    """``x @ W + b``.

    Parameters
    ----------
    x : array, shape (batch, n_in)
    W : array, shape (n_in, n_out)
    b : array, shape (n_out,)

    Returns
    -------
    array, shape (batch, n_out)
    """
    xp = get_array_module(x, W)
    out = xp.dot(x, W)
    out += b
    return out


def _affine_vjp(rectified):
    """The VJP maker of ``x @ W + b`` (:func:`affine`), or with ``rectified`` of its
    rectifier too (:func:`dense_relu`, whose ``ans > 0`` masks the gradient once for
    the three)."""

    def maker(argnums, ans, args, kwargs):
        x, W, _ = args

        def vjp(g):
            xp = _array_module(g, ans)
            if rectified:
                # The mask once for the three; the operator form when traced (anp).
                g = g * (ans > 0) if xp is anp else xp.multiply(g, ans > 0)
            grads = {
                0: lambda: xp.dot(g, W.T),
                1: lambda: xp.dot(x.T, g),
                2: lambda: g.sum(axis=0),
            }
            return tuple(grads[argnum]() for argnum in argnums)

        return vjp

    return maker


defvjp_argnums(affine, _affine_vjp(rectified=False))


@primitive
def dense_relu(x, W, b):
    """``max(x @ W + b, 0)``: :func:`affine` then :func:`relu` (slope 0) as one primitive.

    The same values and gradients as ``relu(affine(x, W, b))``, bit for bit: the
    rectifier is applied in the product's own array, and the backward pass masks the
    gradient once (``ans > 0`` is ``x @ W + b > 0``) and shares the mask among the three
    gradients. One tape entry and one ``(batch, n_out)`` array fewer per hidden layer.
    Arguments and result are shaped as :func:`affine`'s.
    """
    out = affine(x, W, b)  # not traced: dense_relu's arguments reach it unboxed
    return get_array_module(out).maximum(out, 0, out=out)


defvjp_argnums(dense_relu, _affine_vjp(rectified=True))


# -- elementwise nonlinearities ----------------------------------------------------------
@primitive
def relu(x, left_slope=0.0):
    """Rectifier ``where(x > 0, x, left_slope * x)``; the slope at 0 is ``left_slope``."""
    xp = get_array_module(x)
    if left_slope == 0.0:
        return xp.maximum(x, 0)
    return xp.where(x > 0, x, left_slope * x)


defvjp(
    relu,
    lambda ans, x, left_slope=0.0: (
        lambda g: (
            g * (x > 0)
            if left_slope == 0.0
            else g * get_array_module(x).where(x > 0, 1.0, left_slope).astype(x.dtype)
        )
    ),
)


@primitive
def tanh(x):
    """Hyperbolic tangent."""
    return get_array_module(x).tanh(x)


defvjp(tanh, lambda ans, x: lambda g: g * (1 - ans * ans))


@primitive
def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow."""
    return _stable_sigmoid(get_array_module(x), x)


defvjp(sigmoid, lambda ans, x: lambda g: g * ans * (1 - ans))


@primitive
def softplus(x):
    """``log(1 + exp(x))`` as ``max(x, 0) + log1p(exp(-|x|))``."""
    return _stable_softplus(get_array_module(x), x)


defvjp(softplus, lambda ans, x: lambda g: g * _stable_sigmoid(_array_module(g, ans), x))


@primitive
def exp(x):
    """Elementwise exponential."""
    return get_array_module(x).exp(x)


defvjp(exp, lambda ans, x: lambda g: g * ans)


# -- reductions ------------------------------------------------------------------------
@primitive
def sum(x, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy.sum
    """Sum over ``axis`` (all axes if None)."""
    return x.sum(axis=axis, keepdims=keepdims)


defvjp(
    sum,
    lambda ans, x, axis=None, keepdims=False: (
        lambda g: _array_module(g, ans).broadcast_to(
            _expand(g, x.shape, axis, keepdims), x.shape
        )
    ),
)


@primitive
def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (all axes if None)."""
    return x.mean(axis=axis, keepdims=keepdims)


def _mean_vjp(ans, x, axis=None, keepdims=False):
    count = x.size // max(ans.size, 1)

    def vjp(g):
        xp = _array_module(g, ans)
        return xp.broadcast_to(_expand(g, x.shape, axis, keepdims) / count, x.shape)

    return vjp


defvjp(mean, _mean_vjp)


@primitive
def logsumexp(x, axis=0):
    """``log(sum(exp(x), axis))``, shifted by the maximum so it never overflows."""
    xp = get_array_module(x)
    m = x.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out.squeeze(axis=axis)


def _logsumexp_vjp(ans, x, axis=0):
    def vjp(g):
        xp = _array_module(g, ans)
        return xp.expand_dims(g, axis) * xp.exp(x - xp.expand_dims(ans, axis))

    return vjp


defvjp(logsumexp, _logsumexp_vjp)


def log_mean_exp(x, axis=0):
    """``log(mean(exp(x), axis))``: the log of an average of likelihood ratios."""
    return logsumexp(x, axis=axis) - math.log(x.shape[axis])


# -- log-densities and the VAE's fused expressions --------------------------------------
@primitive
def bernoulli_log_likelihood(x, logits):
    """Log-likelihood of binary ``x`` under Bernoulli units with pre-sigmoid ``logits``.

    ``sum_d [x log sigmoid(s) + (1 - x) log(1 - sigmoid(s))]``
    ``= -sum_d [x softplus(-s) + (1 - x) softplus(s)] = sum_d [x s - softplus(s)]``.

    Parameters
    ----------
    x : array, shape (..., dim)
    logits : array, broadcastable against ``x``

    Returns
    -------
    array, shape (...,) -- summed over the last axis
    """
    xp = get_array_module(x, logits)
    kernel = kernels.get("bernoulli_log_likelihood", xp)
    if kernel is not None:  # one GPU launch
        return kernel(*_same_dtype(x, logits), axis=-1)
    if xp is not numpy:
        terms = x * logits
        terms -= _stable_softplus(xp, logits)
        return terms.sum(axis=-1)
    x, logits = numpy.broadcast_arrays(x, logits)
    out = numpy.empty(logits.shape[:-1], numpy.result_type(x, logits))
    threads.for_blocks(lambda i: _bernoulli_rows(x[i], logits[i], out[i]), logits.shape)
    return out


def _bernoulli_rows(x, s, out):
    # sum_d [x s - softplus(s)] for one block, in at most three temporaries of its size.
    terms = numpy.multiply(x, s)
    if not _log1p_is_scalar(s.dtype):
        terms -= _softplus_rows(s, numpy.empty_like(terms))
        return terms.sum(axis=-1, out=out)
    # float32 log1p is scalar here (AVX2): softplus's sum_d log1p(t_d) is taken as
    # sum_d log(1 + t_d), by logs of products.
    tail = _exp_of_minus_abs(s)
    tail += 1
    logs = _sum_log_rows(tail, numpy.empty_like(out))
    numpy.maximum(s, 0, out=tail)
    terms -= tail
    terms.sum(axis=-1, out=out)
    out -= logs
    return out


def _bernoulli_vjp_x(ans, x, logits):
    return lambda g: _unbroadcast(g[..., None] * logits, x.shape)


def _bernoulli_vjp_logits(ans, x, logits):
    def vjp(g):
        xp = _array_module(g, ans)
        kernel = _vjp_kernel("bernoulli_log_likelihood_logits_grad", xp)
        if kernel is not None:
            return _unbroadcast(kernel(*_same_dtype(x, logits, g[..., None])), logits.shape)
        if xp is numpy:
            xs, ss = numpy.broadcast_arrays(x, logits)
            out = numpy.empty(ss.shape, numpy.result_type(xs, ss, g))
            threads.for_blocks(
                lambda i: _bernoulli_grad_rows(xs[i], ss[i], g[i], out[i]), ss.shape
            )
            return _unbroadcast(out, logits.shape)
        probabilities = _stable_sigmoid(xp, logits)
        if xp is anp:  # differentiated: no in-place arithmetic
            return _unbroadcast((x - probabilities) * g[..., None], logits.shape)
        if probabilities.shape == numpy.broadcast_shapes(x.shape, logits.shape):
            residual = xp.subtract(x, probabilities, out=probabilities)
        else:
            residual = x - probabilities
        residual *= g[..., None]
        return _unbroadcast(residual, logits.shape)

    return vjp


defvjp(bernoulli_log_likelihood, _bernoulli_vjp_x, _bernoulli_vjp_logits)


def _bernoulli_grad_rows(x, s, g, out):
    # (x - sigmoid(s)) * g for one block, written to out; sigmoid = (1 + tanh(s / 2)) / 2.
    numpy.multiply(s, 0.5, out=out)
    numpy.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    numpy.subtract(x, out, out=out)
    out *= g[..., None]
    return out


@primitive
def gaussian_log_density(x, mu, log_sigma):
    """Log-density of ``x`` under a diagonal Gaussian, summed over the last axis.

    ``-1/2 sum_d [log 2 pi + 2 log_sigma + (x - mu)^2 exp(-2 log_sigma)]``

    Parameters
    ----------
    x, mu, log_sigma : arrays broadcastable to a common shape (..., dim)

    Returns
    -------
    array, shape (...,)
    """
    xp = get_array_module(x, mu, log_sigma)
    kernel = kernels.get("gaussian_log_density", xp)
    if kernel is not None:
        return kernel(*_same_dtype(x, mu, log_sigma), axis=-1)
    if xp is not numpy:
        d = (x - mu) * xp.exp(-log_sigma)
        return -0.5 * (LOG_2PI + 2 * log_sigma + d * d).sum(axis=-1)
    # The parameters' parts once, on their own (often smaller, broadcast) shape; the
    # per-element passes in blocks.
    inv_sigma = numpy.exp(-log_sigma)
    constant = LOG_2PI + 2 * log_sigma
    x, mu, inv_sigma, constant = numpy.broadcast_arrays(x, mu, inv_sigma, constant)
    out = numpy.empty(x.shape[:-1], numpy.result_type(x, mu, inv_sigma))
    threads.for_blocks(
        lambda i: _gaussian_rows(x[i], mu[i], inv_sigma[i], constant[i], out[i]), x.shape
    )
    out *= -0.5
    return out


def _gaussian_rows(x, mu, inv_sigma, constant, out):
    # sum_d [constant + ((x - mu) inv_sigma)^2] for one block, in one temporary.
    d = numpy.subtract(x, mu)
    d *= inv_sigma
    d *= d
    d += constant
    return d.sum(axis=-1, out=out)


def _gaussian_log_density_vjp(argnums, ans, args, kwargs):
    # One maker for every traced argument, so the shared parts are computed once.
    x, mu, log_sigma = args

    def vjp(g):
        xp = _array_module(g, ans)
        g = g[..., None]
        inv_sigma = xp.exp(-log_sigma)
        standardized = (x - mu) * inv_sigma
        d_mu = g * standardized * inv_sigma if {0, 1} & set(argnums) else None
        grads = {0: lambda: -d_mu, 1: lambda: d_mu, 2: lambda: g * (standardized**2 - 1)}
        return tuple(_unbroadcast(grads[i](), args[i].shape) for i in argnums)

    return vjp


defvjp_argnums(gaussian_log_density, _gaussian_log_density_vjp)


@primitive
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
    xp = get_array_module(mu, epsilon)
    kernel = kernels.get("reparametrize", xp)
    if kernel is not None:
        return kernel(*_same_dtype(mu, log_sigma, epsilon))
    if xp is not numpy:
        return mu + xp.exp(log_sigma) * epsilon
    # exp on the parameters' shape once; the per-sample passes in blocks, in one array.
    mu, sigma, epsilon = numpy.broadcast_arrays(mu, numpy.exp(log_sigma), epsilon)
    out = numpy.empty(epsilon.shape, numpy.result_type(mu, sigma, epsilon))
    threads.for_blocks(
        lambda i: _reparametrize_rows(mu[i], sigma[i], epsilon[i], out[i]), out.shape
    )
    return out


def _reparametrize_rows(mu, sigma, epsilon, out):
    # mu + sigma * epsilon for one block (the sum's order is immaterial: the same bits).
    numpy.multiply(sigma, epsilon, out=out)
    out += mu
    return out


defvjp(
    reparametrize,
    lambda ans, mu, log_sigma, epsilon: lambda g: _unbroadcast(g, mu.shape),
    lambda ans, mu, log_sigma, epsilon: lambda g: _unbroadcast(g * (ans - mu), log_sigma.shape),
    lambda ans, mu, log_sigma, epsilon: (
        lambda g: _unbroadcast(g * _array_module(g, ans).exp(log_sigma), epsilon.shape)
    ),
)


@primitive
def diagonal_gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p):
    """Per-component KL(q || p) between diagonal Gaussians.

    ``log_sigma_p - log_sigma_q + (exp(2 log_sigma_q) + (mu_q - mu_p)^2)
    / (2 exp(2 log_sigma_p)) - 1/2``

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
    xp = get_array_module(mu_q, mu_p)
    kernel = kernels.get("diagonal_gaussian_kl", xp)
    if kernel is not None:
        return kernel(*_same_dtype(mu_q, log_sigma_q, mu_p, log_sigma_p))
    inv_var_p = xp.exp(-2 * log_sigma_p)
    diff = mu_q - mu_p
    return (
        log_sigma_p - log_sigma_q + 0.5 * (xp.exp(2 * log_sigma_q) + diff * diff) * inv_var_p - 0.5
    )


def _diagonal_gaussian_kl_vjp(argnums, ans, args, kwargs):
    # One maker for every traced argument, so the shared parts are computed once.
    mu_q, log_sigma_q, mu_p, log_sigma_p = args

    def vjp(g):
        xp = _array_module(g, ans)
        kernel = _vjp_kernel("diagonal_gaussian_kl_grad", xp)
        if kernel is not None:  # all four in one launch
            fused = kernel(*_same_dtype(mu_q, log_sigma_q, mu_p, log_sigma_p, g))
            return tuple(_unbroadcast(fused[i], args[i].shape) for i in argnums)
        inv_var_p = xp.exp(-2 * log_sigma_p)
        var_q = xp.exp(2 * log_sigma_q)
        diff = mu_q - mu_p
        d_mu_q = g * diff * inv_var_p if {0, 2} & set(argnums) else None
        grads = {
            0: lambda: d_mu_q,
            1: lambda: g * (var_q * inv_var_p - 1),
            2: lambda: -d_mu_q,
            3: lambda: g * (1 - (var_q + diff * diff) * inv_var_p),
        }
        return tuple(_unbroadcast(grads[i](), args[i].shape) for i in argnums)

    return vjp


defvjp_argnums(diagonal_gaussian_kl, _diagonal_gaussian_kl_vjp)
