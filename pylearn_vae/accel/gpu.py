"""Faster CuPy implementations of the ops of :mod:`pylearn_vae.ops`: fused kernels.

On CuPy every array operation is its own kernel launch and its own temporary array;
the ops here run their formula as one kernel of :mod:`pylearn_vae.accel.kernels`
(one launch, one pass over memory) and give it a hand-written gradient, fused too
where it is hot. :func:`pylearn_vae.accel.cpu.affine` and ``dense_relu`` serve the GPU
as they are. Each agrees with its reference to rounding: ``tests/test_accel.py``
checks them on an emulated GPU whose kernels are compiled for the host, and
``tests/test_gpu.py`` on a real one.
"""

import numpy
from autograd.extend import primitive

from pylearn_vae import ops
from pylearn_vae.accel import cpu, kernels
from pylearn_vae.accel.vjp import defvjp_with_reference, unbroadcast
from pylearn_vae.backend import get_array_module

__all__ = [
    "bernoulli_log_likelihood",
    "diagonal_gaussian_kl",
    "gaussian_log_density",
    "momentum_update",
    "reparametrize",
]


def _kernel(name, *arrays):
    """Kernel ``name`` and the arrays cast to their common type (a kernel takes one ``T``)."""
    dtype = numpy.result_type(*(a.dtype for a in arrays))
    xp = get_array_module(*arrays)
    return kernels.get(name, xp), tuple(xp.asarray(a).astype(dtype, copy=False) for a in arrays)


@primitive
def bernoulli_log_likelihood(x, logits):
    """:func:`pylearn_vae.ops.bernoulli_log_likelihood` in one launch."""
    kernel, args = _kernel("bernoulli_log_likelihood", x, logits)
    return kernel(*args, axis=-1)


def _bernoulli_gradients(argnums, ans, args):
    x, logits = args

    def vjp(g):
        grads = []
        if 0 in argnums:
            grads.append(unbroadcast(g[..., None] * logits, x.shape))
        if 1 in argnums:
            kernel, fused = _kernel(
                "bernoulli_log_likelihood_logits_grad", x, logits, g[..., None]
            )
            grads.append(unbroadcast(kernel(*fused), logits.shape))
        return tuple(grads)

    return vjp


defvjp_with_reference(
    bernoulli_log_likelihood, ops.bernoulli_log_likelihood.reference, _bernoulli_gradients
)


@primitive
def gaussian_log_density(x, mu, log_sigma):
    """:func:`pylearn_vae.ops.gaussian_log_density` in one launch."""
    kernel, args = _kernel("gaussian_log_density", x, mu, log_sigma)
    return kernel(*args, axis=-1)


defvjp_with_reference(
    gaussian_log_density, ops.gaussian_log_density.reference, cpu.gaussian_log_density_gradients
)


@primitive
def reparametrize(mu, log_sigma, epsilon):
    """:func:`pylearn_vae.ops.reparametrize` in one launch."""
    kernel, args = _kernel("reparametrize", mu, log_sigma, epsilon)
    return kernel(*args)


defvjp_with_reference(reparametrize, ops.reparametrize.reference, cpu.reparametrize_gradients)


@primitive
def diagonal_gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p):
    """:func:`pylearn_vae.ops.diagonal_gaussian_kl` in one launch."""
    kernel, args = _kernel("diagonal_gaussian_kl", mu_q, log_sigma_q, mu_p, log_sigma_p)
    return kernel(*args)


def _kl_gradients(argnums, ans, args):
    def vjp(g):  # the four gradients in one launch
        kernel, fused = _kernel("diagonal_gaussian_kl_grad", *args, g)
        grads = kernel(*fused)
        return tuple(unbroadcast(grads[i], args[i].shape) for i in argnums)

    return vjp


defvjp_with_reference(diagonal_gaussian_kl, ops.diagonal_gaussian_kl.reference, _kl_gradients)


def momentum_update(value, velocity, grad, eta, mu, nesterov=False):
    """:func:`pylearn_vae.ops.momentum_update` in one launch: ``(new value, new velocity)``."""
    xp = get_array_module(value)
    dtype = value.dtype
    kernel = kernels.get("nesterov_momentum" if nesterov else "momentum", xp)
    return kernel(
        value,
        velocity,
        grad.astype(dtype, copy=False),
        xp.asarray(eta, dtype=dtype),
        xp.asarray(mu, dtype=dtype),
    )


#: What :mod:`pylearn_vae.accel` registers for the GPU, by op name.
IMPLEMENTATIONS = {
    "affine": cpu.affine,
    "dense_relu": cpu.dense_relu,
    "bernoulli_log_likelihood": bernoulli_log_likelihood,
    "gaussian_log_density": gaussian_log_density,
    "reparametrize": reparametrize,
    "diagonal_gaussian_kl": diagonal_gaussian_kl,
    "momentum_update": momentum_update,
}
