"""Priors p(z) on the latent vector (``pylearn2/models/vae/prior.py``)."""

import numpy

from pylearn_vae import ops
from pylearn_vae.models.model import Param
from pylearn_vae.models.vae.component import VAEComponent

__all__ = ["DiagonalGaussianPrior", "Prior"]


class Prior(VAEComponent):
    """Base class of priors: sampling and log-density of ``z``.

    Subclasses implement :meth:`initialize_parameters`, :meth:`sample_from_p_z` and
    :meth:`log_p_z`. Their parameters (``get_params``) are the ``theta`` handed to a
    :class:`~pylearn_vae.models.vae.kl.KLIntegrator`.
    """

    def initialize_parameters(self, nhid):
        """Create the parameters for a ``nhid``-dimensional latent space."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement initialize_parameters"
        )

    def get_theta(self):
        """The current (possibly traced) values of the prior's parameters, as a tuple."""
        return tuple(p.value for p in self.get_params())

    def sample_from_p_z(self, num_samples, **kwargs):
        """Draw ``num_samples`` latent vectors, shape ``(num_samples, nhid)``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement sample_from_p_z")

    def log_p_z(self, z):
        """Log-density of ``z`` of shape ``(..., nhid)``; returns shape ``(...)``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_p_z")

    def monitoring_channels_from_prior_params(self):
        return {}


class DiagonalGaussianPrior(Prior):
    """``p(z) = N(z; prior_mu, diag(exp(prior_log_sigma))^2)``, both learnable, init 0."""

    def initialize_parameters(self, nhid):
        self.nhid = int(nhid)
        self.prior_mu = Param(numpy.zeros(self.nhid), name="prior_mu")
        self.log_prior_sigma = Param(numpy.zeros(self.nhid), name="prior_log_sigma")
        self._params = [self.prior_mu, self.log_prior_sigma]

    def sample_from_p_z(self, num_samples, **kwargs):
        """Draw ``(num_samples, nhid)`` latent vectors (extra keywords are ignored)."""
        epsilon = self.noise.normal((int(num_samples), self.nhid))
        return ops.reparametrize(self.prior_mu.value, self.log_prior_sigma.value, epsilon)

    def log_p_z(self, z):
        return ops.gaussian_log_density(z, self.prior_mu.value, self.log_prior_sigma.value)
