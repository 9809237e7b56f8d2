"""Fused GPU kernels: one CuPy launch for a formula that array operations do in several.

On CuPy every array operation is its own kernel launch and its own temporary array, so
an expression like the Bernoulli log-likelihood from logits (nine operations over a
``(batch, 784)`` array) costs nine launches and nine passes over memory. Each entry of
:data:`KERNELS` writes one such formula once more as the body of a CuPy
``ElementwiseKernel`` or ``ReductionKernel``: one launch, one pass.

The formulas of :mod:`pylearn_vae.ops` and the learning rules are the reference; the
GPU ops of :mod:`pylearn_vae.accel.gpu` call these kernels through :func:`get`, which
builds each on first use through the array module the caller holds (this module
imports no CuPy: the backend stays the one seam).

Every body is plain C++ on ``T`` values (``exp``, ``log1p``, ``fabs``, arithmetic and
``?:``), so the tests compile the same text on the host with a C++ compiler and check
it against the reference formulas of :mod:`pylearn_vae.ops` (``tests/host_kernels.py``,
``tests/test_kernels.py``); ``tests/test_gpu.py`` checks it on a GPU.
"""

import math
from collections import namedtuple

__all__ = ["KERNELS", "Elementwise", "Reduction", "get"]

Elementwise = namedtuple("Elementwise", "in_params out_params operation")
Reduction = namedtuple(
    "Reduction", "in_params out_params map_expr reduce_expr post_map_expr identity"
)

_LOG_2PI = repr(math.log(2.0 * math.pi))

KERNELS = {
    # sum_d [x s - softplus(s)], softplus(s) = max(s, 0) + log1p(exp(-|s|)); over an axis.
    "bernoulli_log_likelihood": Reduction(
        "T x, T s",
        "T y",
        "x * s - (s > (T)0 ? s : (T)0) - log1p(exp(-fabs(s)))",
        "a + b",
        "y = a",
        "0",
    ),
    # d/ds of the above, times the incoming gradient: (x - sigmoid(s)) g.
    "bernoulli_log_likelihood_logits_grad": Elementwise(
        "T x, T s, T g",
        "T out",
        "out = (x - (T)1 / ((T)1 + exp(-s))) * g",
    ),
    # sum_d -1/2 [log 2 pi + 2 ls + ((x - mu) exp(-ls))^2]; over an axis.
    "gaussian_log_density": Reduction(
        "T x, T mu, T ls",
        "T y",
        f"(T)-0.5 * ((T){_LOG_2PI} + (T)2 * ls + (x - mu) * (x - mu) * exp((T)-2 * ls))",
        "a + b",
        "y = a",
        "0",
    ),
    # z = mu + exp(log_sigma) epsilon.
    "reparametrize": Elementwise("T mu, T ls, T eps", "T z", "z = mu + exp(ls) * eps"),
    # Per-component KL(N(mq, exp(lq)^2) || N(mp, exp(lp)^2)).
    "diagonal_gaussian_kl": Elementwise(
        "T mq, T lq, T mp, T lp",
        "T kl",
        "T d = mq - mp; "
        "kl = lp - lq + (T)0.5 * (exp((T)2 * lq) + d * d) * exp((T)-2 * lp) - (T)0.5",
    ),
    # Its gradients with respect to the four arguments, times the incoming gradient g.
    "diagonal_gaussian_kl_grad": Elementwise(
        "T mq, T lq, T mp, T lp, T g",
        "T d_mq, T d_lq, T d_mp, T d_lp",
        "T inv_var_p = exp((T)-2 * lp); T var_q = exp((T)2 * lq); T d = mq - mp; "
        "d_mq = g * d * inv_var_p; d_mp = -d_mq; "
        "d_lq = g * (var_q * inv_var_p - (T)1); "
        "d_lp = g * ((T)1 - (var_q + d * d) * inv_var_p)",
    ),
    # Classic momentum: v' = mu v - eta g, p' = p + v'.
    "momentum": Elementwise(
        "T p, T v, T g, T eta, T mu",
        "T new_p, T new_v",
        "new_v = mu * v - eta * g; new_p = p + new_v",
    ),
    # Nesterov momentum: v' = mu v - eta g, p' = p + mu v' - eta g.
    "nesterov_momentum": Elementwise(
        "T p, T v, T g, T eta, T mu",
        "T new_p, T new_v",
        "T step = eta * g; new_v = mu * v - step; new_p = p + mu * new_v - step",
    ),
}

_built = {}  # (name, id(array module)) -> kernel


def get(name, xp):
    """The CuPy kernel ``name`` built through ``xp`` (CuPy), once.

    Parameters
    ----------
    name : str
        A key of :data:`KERNELS`.
    xp : module
        The array module of the caller's arrays (``cupy``).
    """
    spec = KERNELS[name]
    key = (name, id(xp))
    kernel = _built.get(key)
    if kernel is None:
        if isinstance(spec, Reduction):
            kernel = xp.ReductionKernel(*spec, name=f"pylearn_vae_{name}")
        else:
            kernel = xp.ElementwiseKernel(*spec, name=f"pylearn_vae_{name}")
        _built[key] = kernel
    return kernel
