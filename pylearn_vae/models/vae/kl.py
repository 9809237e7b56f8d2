"""Analytic KL divergences between a prior and a posterior (``pylearn2/models/vae/kl.py``).

A :class:`KLIntegrator` subclass names one ``prior_class`` and one ``posterior_class``
and computes ``KL(q(z|x) || p(z))`` for them in closed form. Subclasses register
themselves when their class statement runs, so an integrator defined in any module
(a user's own included) is found by :func:`find_integrator_for`, which picks the
registered pair nearest to the actual classes through their class hierarchies. Two
integrators for the same pair is an error. (The original scanned this module with
``inspect`` and could find nothing else.)
"""

from pylearn_vae import ops
from pylearn_vae.models.vae.conditional import Conditional, DiagonalGaussian
from pylearn_vae.models.vae.prior import DiagonalGaussianPrior, Prior

__all__ = [
    "DiagonalGaussianPriorPosteriorKL",
    "ImpossiblePosterior",
    "ImpossiblePrior",
    "KLIntegrator",
    "find_integrator_for",
    "registered_integrators",
]


class ImpossiblePrior(Prior):
    """A placeholder prior class that no prior is an instance of."""


class ImpossiblePosterior(Conditional):
    """A placeholder posterior class that no posterior is an instance of."""


_REGISTRY = {}


def registered_integrators():
    """``{(prior_class, posterior_class): KLIntegrator subclass}``, a copy."""
    return dict(_REGISTRY)


def _qualified_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


class KLIntegrator:
    """Base class of analytic KL integrators.

    Subclasses set the class attributes ``prior_class`` and ``posterior_class`` and
    implement :meth:`per_component_kl_divergence` where the KL splits over latent units
    (:meth:`kl_divergence` sums it), else :meth:`kl_divergence`.
    """

    prior_class = ImpossiblePrior
    posterior_class = ImpossiblePosterior

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        pair = (cls.prior_class, cls.posterior_class)
        if pair == (ImpossiblePrior, ImpossiblePosterior) or None in pair:
            return  # an abstract intermediate class
        other = _REGISTRY.get(pair)
        # The same class defined again (a module reloaded) replaces itself; any other
        # class, even one of the same name in another module, is a second integrator.
        if other is not None and _qualified_name(other) != _qualified_name(cls):
            raise TypeError(
                f"two KL integrators for ({pair[0].__name__}, {pair[1].__name__}): "
                f"{_qualified_name(other)} and {_qualified_name(cls)}"
            )
        _REGISTRY[pair] = cls

    def kl_divergence(self, phi, theta, prior, posterior):
        """``KL(q(z|x) || p(z))`` per example: by default the sum over the latent units of
        :meth:`per_component_kl_divergence`.

        Parameters
        ----------
        phi : tuple of arrays
            The posterior's parameters, each ``(batch, nhid)``.
        theta : tuple of arrays
            The prior's parameters.
        prior : Prior
        posterior : Conditional

        Returns
        -------
        array, shape (batch,)
        """
        return ops.sum(self.per_component_kl_divergence(phi, theta, prior, posterior), axis=1)

    def per_component_kl_divergence(self, phi, theta, prior, posterior):
        """The KL of each latent unit, shape ``(batch, nhid)``."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement per_component_kl_divergence"
        )

    def _validate_prior_posterior(self, prior, posterior):
        cls = type(self).__name__
        if self.prior_class is None or self.posterior_class is None:
            raise NotImplementedError(f"{cls} does not define prior_class and posterior_class")
        if not isinstance(prior, self.prior_class):
            raise ValueError(
                f"{cls} expects a prior of class {self.prior_class.__name__}, "
                f"got {type(prior).__name__}"
            )
        if not isinstance(posterior, self.posterior_class):
            raise ValueError(
                f"{cls} expects a posterior of class {self.posterior_class.__name__}, "
                f"got {type(posterior).__name__}"
            )


class DiagonalGaussianPriorPosteriorKL(KLIntegrator):
    """KL between a diagonal Gaussian posterior and a diagonal Gaussian prior.

    Per unit, with ``(mu_q, log_sigma_q) = phi`` and ``(mu_p, log_sigma_p) = theta``:
    ``log_sigma_p - log_sigma_q + (exp(2 log_sigma_q) + (mu_q - mu_p)^2)
    / (2 exp(2 log_sigma_p)) - 1/2``.
    """

    prior_class = DiagonalGaussianPrior
    posterior_class = DiagonalGaussian

    def per_component_kl_divergence(self, phi, theta, prior, posterior):
        self._validate_prior_posterior(prior, posterior)
        (mu_q, log_sigma_q), (mu_p, log_sigma_p) = phi, theta
        return ops.diagonal_gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p)


def find_integrator_for(prior, posterior):
    """An instance of the registered KLIntegrator nearest to ``(prior, posterior)``.

    Each registered ``(prior_class, posterior_class)`` pair that the two objects are
    instances of is scored by how far up each class hierarchy it sits; the nearest
    wins (ties go to the nearer prior class). Returns None when no pair matches.
    """
    prior_mro, posterior_mro = type(prior).__mro__, type(posterior).__mro__
    best, best_score = None, None
    for (prior_class, posterior_class), integrator in _REGISTRY.items():
        if prior_class in prior_mro and posterior_class in posterior_mro:
            i, j = prior_mro.index(prior_class), posterior_mro.index(posterior_class)
            score = (i + j, i)
            if best_score is None or score < best_score:
                best, best_score = integrator, score
    return None if best is None else best()
