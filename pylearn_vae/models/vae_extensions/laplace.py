"""A Laplace prior, a Laplace posterior, and the closed-form KL between them.

Built the way docs/extending.md teaches a user to extend the VAE: a :class:`Prior`,
a :class:`Conditional` with the reparametrization trick, and a :class:`KLIntegrator`
subclass that registers itself for the pair when its class statement runs, so
:func:`~pylearn_vae.models.vae.kl.find_integrator_for` finds it with no
``kl_integrator:`` in the YAML.

A Laplace with location ``m`` and scale ``b = exp(log_b)`` has density
``exp(-|z - m| / b) / (2 b)`` per unit; its variance is ``2 b^2``.
"""

import math

import autograd.numpy as anp
import numpy

from pylearn_vae import backend, ops
from pylearn_vae.models.model import Param
from pylearn_vae.models.vae.conditional import LocationScale
from pylearn_vae.models.vae.kl import KLIntegrator
from pylearn_vae.models.vae.prior import Prior

__all__ = [
    "Laplace",
    "LaplaceKL",
    "LaplacePrior",
    "laplace_kl",
    "laplace_log_density",
    "laplace_noise",
]

LOG_2 = math.log(2.0)


def laplace_log_density(z, loc, log_scale):
    """``sum_d [-log 2 - log_b - |z - m| / b]`` over the last axis.

    Parameters
    ----------
    z, loc, log_scale : arrays broadcastable to a common shape (..., dim)

    Returns
    -------
    array, shape (...)
    """
    return ops.sum(-LOG_2 - log_scale - anp.abs(z - loc) * anp.exp(-log_scale), axis=-1)


def laplace_kl(loc_q, log_scale_q, loc_p, log_scale_p):
    """``KL(Laplace(m_q, b_q) || Laplace(m_p, b_p))`` per unit (elementwise).

    ``log(b_p / b_q) + |m_q - m_p| / b_p + (b_q / b_p) exp(-|m_q - m_p| / b_q) - 1``.
    """
    distance = anp.abs(loc_q - loc_p)
    return (
        log_scale_p
        - log_scale_q
        + distance * anp.exp(-log_scale_p)
        + anp.exp(log_scale_q - log_scale_p - distance * anp.exp(-log_scale_q))
        - 1.0
    )


def laplace_noise(noise, shape):
    """Standard Laplace noise of ``shape``, the difference of two standard exponentials
    ``log(1 - u1) - log(1 - u2)`` of uniform draws on ``[0, 1)`` (so every log is finite),
    drawn from a component's ``noise`` stream (any device)."""
    u = noise.uniform((2, *tuple(shape)))
    xp = backend.get_array_module(u)
    xp.negative(u, out=u)
    xp.log1p(u, out=u)
    return u[0] - u[1]


class LaplacePrior(Prior):
    """``p(z) = prod_j Laplace(z_j; prior_loc_j, exp(prior_log_scale_j))``, both learnable,
    initialised to location 0 and scale ``1 / sqrt(2)`` (unit variance)."""

    def initialize_parameters(self, nhid):
        self.nhid = int(nhid)
        self.prior_loc = Param(numpy.zeros(self.nhid), name="prior_loc")
        self.log_prior_scale = Param(
            numpy.full(self.nhid, -0.5 * LOG_2), name="prior_log_scale"
        )
        self._params = [self.prior_loc, self.log_prior_scale]

    def sample_from_p_z(self, num_samples, **kwargs):
        """Draw ``(num_samples, nhid)`` latent vectors (extra keywords are ignored)."""
        epsilon = laplace_noise(self.noise, (int(num_samples), self.nhid))
        return self.prior_loc.value + anp.exp(self.log_prior_scale.value) * epsilon

    def log_p_z(self, z):
        return laplace_log_density(z, self.prior_loc.value, self.log_prior_scale.value)


class Laplace(LocationScale):
    """A posterior of independent Laplace units; parameters ``(loc, log_scale)``.

    A location-scale family like the Gaussian, with whom it shares the output layers
    (``mu`` and ``log_sigma``, here the location and the log *scale*), the channels
    (``<name>_sigma_*`` hold the scale ``b``) and the sampling
    ``z = loc + exp(log_scale) * epsilon``, with standard Laplace noise ``epsilon``.
    """

    def sample_from_epsilon(self, shape):
        """Standard Laplace noise of ``shape``, floatX."""
        return laplace_noise(self.noise, shape)

    def log_conditional(self, samples, conditional_params):
        """Log-density of ``samples`` (``(batch, d)`` or ``(S, batch, d)``), summed over d."""
        loc, log_scale = conditional_params
        return laplace_log_density(samples, loc, log_scale)


class LaplaceKL(KLIntegrator):
    """The closed-form KL between a :class:`Laplace` posterior and a :class:`LaplacePrior`."""

    prior_class = LaplacePrior
    posterior_class = Laplace

    def per_component_kl_divergence(self, phi, theta, prior, posterior):
        self._validate_prior_posterior(prior, posterior)
        (loc_q, log_scale_q), (loc_p, log_scale_p) = phi, theta
        return laplace_kl(loc_q, log_scale_q, loc_p, log_scale_p)
