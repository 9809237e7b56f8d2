"""Faster NumPy implementations of the ops of :mod:`pylearn_vae.ops`.

What makes them faster than the reference formulas:

- one autograd primitive with a hand-written gradient replaces a chain of traced
  operations (each its own temporary array and tape entry): the Bernoulli
  log-likelihood, the Gaussian log-density, the reparametrization, the KL;
- the elementwise passes run in cache-sized blocks on several threads
  (:func:`pylearn_vae.accel.blocks.for_blocks`), in as few temporaries as possible;
- :func:`affine` adds the bias in the product's own array, and :func:`dense_relu`
  rectifies there too and masks the gradient once for its three arguments;
- where NumPy's float32 ``log1p`` has no SIMD loop on this CPU (AVX2; NumPy 2 has one
  only for AVX-512), it is avoided: softplus's ``log1p(t)`` comes from ``log`` and a
  correction (:func:`_log1p_of_unit`), and the Bernoulli sum of ``log(1 + t)`` over a
  row is the log of products of 16 values (:func:`_sum_log_rows`).

Each agrees with its reference to rounding; ``tests/test_accel.py`` checks values and
gradients on random shapes, dtypes and extreme inputs. When a gradient is itself
differentiated, the reference's gradient is used (:mod:`pylearn_vae.accel.vjp`).
"""

import numpy
from autograd.extend import primitive

from pylearn_vae import ops
from pylearn_vae.accel.blocks import for_blocks
from pylearn_vae.accel.vjp import defvjp_with_reference, unbroadcast
from pylearn_vae.backend import get_array_module

__all__ = [
    "LOG1P_IS_VECTORIZED",
    "affine",
    "bernoulli_log_likelihood",
    "dense_relu",
    "diagonal_gaussian_kl",
    "gaussian_log_density",
    "gaussian_log_density_gradients",
    "reparametrize",
    "reparametrize_gradients",
    "sigmoid",
    "softplus",
]


def _log1p_is_vectorized():
    """Whether NumPy's float32 ``log1p`` runs SIMD code on this CPU.

    NumPy 2 vectorizes it only for AVX-512 (``X86_V4``); elsewhere (AVX2 laptops, AMD
    Zen 2/3) it runs scalar, several times slower than ``log``. ``numpy.lib.introspect``
    says which loop NumPy dispatched to (it honours ``NPY_DISABLE_CPU_FEATURES``).
    """
    try:
        from numpy.lib.introspect import opt_func_info
    except ImportError:  # NumPy 1.x: no introspection; its log1p is plain either way
        return True
    loops = opt_func_info(func_name="^log1p$", signature="float32").get("log1p", {})
    return bool(loops) and not any(
        loop.get("current", "baseline").startswith("baseline") for loop in loops.values()
    )


LOG1P_IS_VECTORIZED = _log1p_is_vectorized()


def _log1p_is_scalar(dtype):
    """Whether ``log1p`` of ``dtype`` runs scalar here (float32 without a SIMD loop)."""
    return not LOG1P_IS_VECTORIZED and dtype == numpy.float32


def _log1p_of_unit(t, out):
    """``log1p(t)`` for ``t`` in [0, 1], written to ``out`` (which must not be ``t``).

    Where float32 ``log1p`` is scalar, from ``log`` alone: ``u = 1 + t`` rounds, but
    ``u - 1`` is exact (Sterbenz) and ``(u - 1) - t`` is the rounding error, so
    ``log(u) - ((u - 1) - t)`` is ``log1p(t)`` to a float's rounding (the dropped term is
    the error times ``1 - 1/u``); within 4 float32 ulps of ``log1p``.
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
    # max(x, 0) + log1p(exp(-|x|)) in the block's temporaries.
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
    most 1e-6. Worth it where float32 ``log`` costs about twelve multiplications.
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


def _sigmoid_into(x, out):
    """``(1 + tanh(x / 2)) / 2`` written to ``out`` (which may be ``x``'s own array)."""
    numpy.multiply(x, 0.5, out=out)
    numpy.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


# -- softplus ------------------------------------------------------------------------------
@primitive
def softplus(x):
    """:func:`pylearn_vae.ops.softplus`, in blocks."""
    x = numpy.asarray(x)
    if x.ndim == 0:  # out= cannot take numpy.abs of a 0-d array, a scalar
        return softplus(x.reshape(1)).reshape(())
    out = numpy.empty_like(x)
    for_blocks(lambda i: _softplus_rows(x[i], out[i]), x.shape)
    return out


defvjp_with_reference(
    softplus,
    ops.softplus.reference,
    lambda argnums, ans, args: lambda g: (g * _sigmoid_into(args[0], numpy.empty_like(g)),),
)


# -- sigmoid -------------------------------------------------------------------------------
@primitive
def sigmoid(x):
    """:func:`pylearn_vae.ops.sigmoid`, in one array instead of three."""
    x = numpy.asarray(x)
    return _sigmoid_into(x, numpy.empty(x.shape, numpy.result_type(x.dtype, 0.5)))


defvjp_with_reference(
    sigmoid,
    ops.sigmoid.reference,
    lambda argnums, ans, args: lambda g: (g * ans * (1 - ans),),
)


# -- the dense layer -----------------------------------------------------------------------
@primitive
def affine(x, W, b):
    """:func:`pylearn_vae.ops.affine`, the bias added in the product's array (any device)."""
    out = get_array_module(x, W).dot(x, W)
    out += b
    return out


def _affine_gradients(rectified):
    """The gradients of ``x W + b``, with ``rectified`` of its rectifier too (the mask
    ``ans > 0`` applied once for the three)."""

    def gradients(argnums, ans, args):
        x, W, _ = args

        def vjp(g):
            xp = get_array_module(g)
            if rectified:
                g = xp.multiply(g, ans > 0)
            grads = {0: lambda: xp.dot(g, W.T), 1: lambda: xp.dot(x.T, g), 2: lambda: g.sum(0)}
            return tuple(grads[i]() for i in argnums)

        return vjp

    return gradients


defvjp_with_reference(affine, ops.affine.reference, _affine_gradients(rectified=False))


@primitive
def dense_relu(x, W, b):
    """:func:`pylearn_vae.ops.dense_relu` as one primitive, rectified in place (any device)."""
    out = affine(x, W, b)
    return get_array_module(out).maximum(out, 0, out=out)


defvjp_with_reference(dense_relu, ops.dense_relu.reference, _affine_gradients(rectified=True))


# -- the Bernoulli log-likelihood ----------------------------------------------------------
@primitive
def bernoulli_log_likelihood(x, logits):
    """:func:`pylearn_vae.ops.bernoulli_log_likelihood`, in blocks."""
    x, logits = numpy.broadcast_arrays(x, logits)
    out = numpy.empty(logits.shape[:-1], numpy.result_type(x, logits))
    for_blocks(lambda i: _bernoulli_rows(x[i], logits[i], out[i]), logits.shape)
    return out


def _bernoulli_rows(x, s, out):
    # sum_d [x s - softplus(s)] for one block, in at most three temporaries of its size.
    terms = numpy.multiply(x, s)
    if not _log1p_is_scalar(s.dtype):
        terms -= _softplus_rows(s, numpy.empty_like(terms))
        return terms.sum(axis=-1, out=out)
    # float32 log1p is scalar here: softplus's sum_d log1p(t_d) as sum_d log(1 + t_d),
    # by logs of products.
    tail = _exp_of_minus_abs(s)
    tail += 1
    logs = _sum_log_rows(tail, numpy.empty_like(out))
    numpy.maximum(s, 0, out=tail)
    terms -= tail
    terms.sum(axis=-1, out=out)
    out -= logs
    return out


def _bernoulli_gradients(argnums, ans, args):
    x, logits = args

    def vjp(g):
        grads = []
        if 0 in argnums:
            grads.append(unbroadcast(g[..., None] * logits, numpy.shape(x)))
        if 1 in argnums:  # (x - sigmoid(s)) g, in blocks
            xs, ss = numpy.broadcast_arrays(x, logits)
            out = numpy.empty(ss.shape, numpy.result_type(xs, ss, g))
            for_blocks(lambda i: _bernoulli_grad_rows(xs[i], ss[i], g[i], out[i]), ss.shape)
            grads.append(unbroadcast(out, numpy.shape(logits)))
        return tuple(grads)

    return vjp


def _bernoulli_grad_rows(x, s, g, out):
    _sigmoid_into(s, out)
    numpy.subtract(x, out, out=out)
    out *= g[..., None]
    return _flush_subnormals(out)


def _flush_subnormals(a):
    """Set the subnormal numbers of ``a`` to zero, in place; returns ``a``.

    A pixel the decoder is sure of (float32 ``sigmoid(s) < 1.2e-38`` at ``s < -87``),
    or an importance weight near zero, gives a gradient below the smallest normal
    number; on x86 every product that reads such numbers runs up to five times slower
    (the decoder's two backward products of a trained IWAE). Each is smaller than an
    ulp of any sum it joins (within the tolerance ``tests/test_accel.py`` checks
    against the reference, which keeps them).
    """
    numpy.putmask(a, numpy.abs(a) < numpy.finfo(a.dtype).tiny, 0)
    return a


defvjp_with_reference(
    bernoulli_log_likelihood, ops.bernoulli_log_likelihood.reference, _bernoulli_gradients
)


# -- the Gaussian log-density --------------------------------------------------------------
@primitive
def gaussian_log_density(x, mu, log_sigma):
    """:func:`pylearn_vae.ops.gaussian_log_density`, the parameters' parts once on their
    own (often smaller) shape, the per-element passes in blocks."""
    inv_sigma = numpy.exp(-log_sigma)
    constant = ops.LOG_2PI + 2 * log_sigma
    x, mu, inv_sigma, constant = numpy.broadcast_arrays(x, mu, inv_sigma, constant)
    out = numpy.empty(x.shape[:-1], numpy.result_type(x, mu, inv_sigma))
    for_blocks(lambda i: _gaussian_rows(x[i], mu[i], inv_sigma[i], constant[i], out[i]), x.shape)
    out *= -0.5
    return out


def _gaussian_rows(x, mu, inv_sigma, constant, out):
    # sum_d [constant + ((x - mu) inv_sigma)^2] for one block, in one temporary.
    d = numpy.subtract(x, mu)
    d *= inv_sigma
    d *= d
    d += constant
    return d.sum(axis=-1, out=out)


def gaussian_log_density_gradients(argnums, ans, args):
    """The hand-written gradients of the Gaussian log-density (any device)."""
    x, mu, log_sigma = args

    def vjp(g):
        g = g[..., None]
        inv_sigma = get_array_module(g).exp(-log_sigma)
        standardized = (x - mu) * inv_sigma
        d_mu = g * standardized * inv_sigma if {0, 1} & set(argnums) else None
        grads = {0: lambda: -d_mu, 1: lambda: d_mu, 2: lambda: g * (standardized**2 - 1)}
        return tuple(unbroadcast(grads[i](), numpy.shape(args[i])) for i in argnums)

    return vjp


defvjp_with_reference(
    gaussian_log_density, ops.gaussian_log_density.reference, gaussian_log_density_gradients
)


# -- the reparametrization -----------------------------------------------------------------
@primitive
def reparametrize(mu, log_sigma, epsilon):
    """:func:`pylearn_vae.ops.reparametrize`: ``exp`` once on the parameters' shape, the
    per-sample passes in blocks, in one array."""
    mu, sigma, epsilon = numpy.broadcast_arrays(mu, numpy.exp(log_sigma), epsilon)
    out = numpy.empty(epsilon.shape, numpy.result_type(mu, sigma, epsilon))
    for_blocks(lambda i: _reparametrize_rows(mu[i], sigma[i], epsilon[i], out[i]), out.shape)
    return out


def _reparametrize_rows(mu, sigma, epsilon, out):
    numpy.multiply(sigma, epsilon, out=out)
    out += mu
    return out


def reparametrize_gradients(argnums, ans, args):
    """The hand-written gradients of the reparametrization (any device)."""
    mu, log_sigma, epsilon = args
    grads = {
        0: lambda g: g,
        1: lambda g: g * get_array_module(g).exp(log_sigma) * epsilon,
        2: lambda g: g * get_array_module(g).exp(log_sigma),
    }
    return lambda g: tuple(unbroadcast(grads[i](g), numpy.shape(args[i])) for i in argnums)


defvjp_with_reference(reparametrize, ops.reparametrize.reference, reparametrize_gradients)


# -- the diagonal Gaussian KL --------------------------------------------------------------
@primitive
def diagonal_gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p):
    """:func:`pylearn_vae.ops.diagonal_gaussian_kl` as one primitive."""
    inv_var_p = numpy.exp(-2 * log_sigma_p)
    diff = mu_q - mu_p
    return (
        log_sigma_p
        - log_sigma_q
        + 0.5 * (numpy.exp(2 * log_sigma_q) + diff * diff) * inv_var_p
        - 0.5
    )


def _kl_gradients(argnums, ans, args):
    mu_q, log_sigma_q, mu_p, log_sigma_p = args

    def vjp(g):
        inv_var_p = numpy.exp(-2 * log_sigma_p)
        var_q = numpy.exp(2 * log_sigma_q)
        diff = mu_q - mu_p
        d_mu_q = g * diff * inv_var_p if {0, 2} & set(argnums) else None
        grads = {
            0: lambda: d_mu_q,
            1: lambda: g * (var_q * inv_var_p - 1),
            2: lambda: -d_mu_q,
            3: lambda: g * (1 - (var_q + diff * diff) * inv_var_p),
        }
        return tuple(unbroadcast(grads[i](), numpy.shape(args[i])) for i in argnums)

    return vjp


defvjp_with_reference(diagonal_gaussian_kl, ops.diagonal_gaussian_kl.reference, _kl_gradients)

#: What :mod:`pylearn_vae.accel` registers for the CPU, by op name.
IMPLEMENTATIONS = {
    f.__name__: f
    for f in (
        sigmoid,
        softplus,
        affine,
        dense_relu,
        bernoulli_log_likelihood,
        gaussian_log_density,
        reparametrize,
        diagonal_gaussian_kl,
    )
}
