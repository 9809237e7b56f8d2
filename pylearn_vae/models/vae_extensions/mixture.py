"""Mixture priors: a learned mixture of Gaussians, and the VampPrior.

Neither has a closed-form KL divergence to a Gaussian posterior, so no
:class:`~pylearn_vae.models.vae.kl.KLIntegrator` is registered for them and the VAE
estimates its KL term by Monte Carlo (``log q(z|x) - log p(z)`` at the posterior's
samples), warning once that it does. Both priors only implement ``log_p_z`` and
``sample_from_p_z``; the maths is in the two pure functions below.

Shapes: ``z`` is ``(..., nhid)``; a mixture of ``K`` diagonal Gaussians has ``log_weights``
``(K,)`` and means / log standard deviations ``(K, nhid)``.
"""

import math

import autograd.numpy as anp
import numpy

from pylearn_vae import backend, ops
from pylearn_vae.models.model import Param
from pylearn_vae.models.vae.prior import Prior
from pylearn_vae.ops import LOG_2PI
from pylearn_vae.utils.validation import check_positive_int

__all__ = [
    "MixtureOfGaussiansPrior",
    "VampPrior",
    "mixture_log_density",
    "sample_mixture",
]


def mixture_log_density(z, log_weights, mu, log_sigma):
    """``log sum_k w_k N(z; mu_k, diag(exp(log_sigma_k))^2)``.

    Each component's quadratic form is expanded,
    ``sum_d (z_d - mu_kd)^2 / sigma_kd^2 = z^2 . p_k - 2 z . (mu_k p_k) + mu_k^2 . p_k``
    with ``p_k = sigma_k^-2``, so the ``(..., K)`` log-densities come from one matrix
    product instead of a ``(..., K, nhid)`` array.

    Parameters
    ----------
    z : array, shape (..., nhid)
    log_weights : array, shape (K,), or a scalar
        Log mixture weights (they must sum to 1 in probability).
    mu, log_sigma : arrays, shape (K, nhid)

    Returns
    -------
    array, shape (...)
    """
    nhid = z.shape[-1]
    flat = z.reshape((-1, nhid))
    precision = anp.exp(-2.0 * log_sigma)  # (K, nhid)
    weighted_mu = mu * precision
    constant = log_weights - 0.5 * (
        nhid * LOG_2PI + ops.sum(2.0 * log_sigma + mu * weighted_mu, axis=1)
    )
    features = anp.concatenate([flat * flat, flat], axis=1)  # (N, 2 nhid)
    W = anp.concatenate([-0.5 * precision.T, weighted_mu.T], axis=0)  # (2 nhid, K)
    per_component = ops.affine(features, W, constant)  # (N, K)
    return ops.logsumexp(per_component, axis=-1).reshape(z.shape[:-1])


def sample_mixture(noise, num_samples, weights, mu, log_sigma):
    """Draw ``num_samples`` vectors from a diagonal Gaussian mixture.

    A component is chosen for each draw by inverting the cumulative weights at a
    uniform draw, then ``mu_k + exp(log_sigma_k) * epsilon``.

    Parameters
    ----------
    noise : pylearn_vae.backend.RandomStreams
        The component's noise stream (uniform and normal draws on the current device).
    num_samples : int
    weights : array, shape (K,)
        Mixture weights, summing to 1.
    mu, log_sigma : arrays, shape (K, nhid)

    Returns
    -------
    array, shape (num_samples, nhid)
    """
    xp = backend.get_array_module(mu)
    num_samples = int(num_samples)
    u = noise.uniform((num_samples, 1))
    cumulative = xp.cumsum(weights)
    k = (u > cumulative[None, :-1]).sum(axis=1)  # index of the first cumulative weight >= u
    epsilon = noise.normal((num_samples, mu.shape[1]))
    return ops.reparametrize(mu[k], log_sigma[k], epsilon)


def _log_softmax(logits):
    return logits - ops.logsumexp(logits, axis=0)


class MixtureOfGaussiansPrior(Prior):
    """``p(z) = sum_k w_k N(z; mu_k, diag(sigma_k)^2)``, every part learnable.

    The weights are ``softmax(logits)``. The means start at distinct random points
    (standard normal draws from the VAE's generator times ``init_spread``), the
    standard deviations at 1 and the weights equal, so the components can separate.

    Parameters
    ----------
    num_components : int
        K, the number of Gaussians.
    init_spread : float
        Standard deviation of the initial means (default 1).

    Attributes (after ``initialize_parameters``)
    --------------------------------------------
    mixture_mu, mixture_log_sigma : Param, shape (K, nhid)
        Named ``prior_mixture_mu`` and ``prior_mixture_log_sigma``.
    mixture_logits : Param, shape (K,)
        Named ``prior_mixture_logits``.
    """

    def __init__(self, num_components=10, init_spread=1.0):
        super().__init__()
        self.num_components = check_positive_int(
            "MixtureOfGaussiansPrior", "num_components", num_components
        )
        if not (isinstance(init_spread, (int, float)) and math.isfinite(init_spread)
                and init_spread >= 0):
            raise ValueError(
                f"MixtureOfGaussiansPrior: init_spread must be a number >= 0, got {init_spread!r}"
            )
        self.init_spread = float(init_spread)

    def initialize_parameters(self, nhid):
        self.nhid = int(nhid)
        K = self.num_components
        mu = self.init_spread * self.rng.randn(K, self.nhid)
        self.mixture_mu = Param(mu, name="prior_mixture_mu")
        self.mixture_log_sigma = Param(numpy.zeros((K, self.nhid)), name="prior_mixture_log_sigma")
        self.mixture_logits = Param(numpy.zeros(K), name="prior_mixture_logits")
        self._params = [self.mixture_mu, self.mixture_log_sigma, self.mixture_logits]

    def log_weights(self):
        """``log softmax(logits)``, shape ``(K,)``."""
        return _log_softmax(self.mixture_logits.value)

    def log_p_z(self, z):
        return mixture_log_density(
            z, self.log_weights(), self.mixture_mu.value, self.mixture_log_sigma.value
        )

    def sample_from_p_z(self, num_samples, **kwargs):
        """Draw ``(num_samples, nhid)`` latent vectors (extra keywords are ignored)."""
        xp = backend.get_array_module(self.mixture_logits.value)
        return sample_mixture(
            self.noise,
            num_samples,
            xp.exp(self.log_weights()),
            self.mixture_mu.value,
            self.mixture_log_sigma.value,
        )

    def monitoring_channels_from_prior_params(self):
        """``prior_mixture_weight_{min,max}``: whether components are dying out."""
        weights = anp.exp(self.log_weights())
        return {
            "prior_mixture_weight_min": weights.min(),
            "prior_mixture_weight_max": weights.max(),
        }


class VampPrior(Prior):
    """The VampPrior (Tomczak & Welling, 2018): ``p(z) = 1/K sum_k q(z | u_k)``.

    The prior is the VAE's own approximate posterior, averaged over ``K`` learned
    *pseudo-inputs* ``u_k`` in the data space. The prior reaches the posterior through
    :meth:`get_vae`, so the encoder's weights are shared (and trained by both terms of
    the bound). The pseudo-inputs are ``clip(a_k, 0, 1)`` (the paper's hard tanh) of a
    parameter ``a`` of shape ``(K, nvis)``, started at ``init_mean`` plus Gaussian noise
    of standard deviation ``init_std``, as in the paper. The posterior must be a
    diagonal Gaussian (``encode_phi`` returns ``(mu, log_sigma)``).

    Parameters
    ----------
    num_pseudo_inputs : int
        K (the paper uses 500 for MNIST).
    init_mean, init_std : float
        The pseudo-inputs' initial values.
    """

    def __init__(self, num_pseudo_inputs=100, init_mean=0.05, init_std=0.01):
        super().__init__()
        self.num_pseudo_inputs = check_positive_int(
            "VampPrior", "num_pseudo_inputs", num_pseudo_inputs
        )
        self.init_mean = float(init_mean)
        self.init_std = float(init_std)

    def initialize_parameters(self, nhid):
        vae = self.get_vae()
        if vae is None:
            raise RuntimeError("VampPrior needs its VAE (set_vae) before initialize_parameters")
        self.nhid = int(nhid)
        a = self.init_mean + self.init_std * self.rng.randn(self.num_pseudo_inputs, vae.nvis)
        self.pseudo_inputs = Param(a, name="prior_pseudo_inputs")
        self._params = [self.pseudo_inputs]

    def pseudo_input_values(self):
        """``clip(a, 0, 1)``, shape ``(K, nvis)``: the pseudo-inputs in the data's range."""
        return anp.clip(self.pseudo_inputs.value, 0.0, 1.0)

    def components(self):
        """The posterior's ``(mu, log_sigma)`` at the pseudo-inputs, each ``(K, nhid)``."""
        phi = self.get_vae().encode_phi(self.pseudo_input_values())
        if len(phi) != 2:
            raise ValueError(
                f"VampPrior needs a posterior with (mu, log_sigma) parameters; "
                f"{type(self.get_vae().posterior).__name__} gives {len(phi)}"
            )
        return phi

    def log_p_z(self, z):
        mu, log_sigma = self.components()
        log_weights = -math.log(self.num_pseudo_inputs)
        return mixture_log_density(z, log_weights, mu, log_sigma)

    def sample_from_p_z(self, num_samples, **kwargs):
        """Draw ``(num_samples, nhid)`` latent vectors (extra keywords are ignored)."""
        mu, log_sigma = self.components()
        xp = backend.get_array_module(mu)
        weights = xp.full(self.num_pseudo_inputs, 1.0 / self.num_pseudo_inputs, dtype=mu.dtype)
        return sample_mixture(self.noise, num_samples, weights, mu, log_sigma)
