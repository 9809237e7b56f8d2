"""The VAE's training criteria (``pylearn2/costs/vae.py``)."""

from collections import OrderedDict
from numbers import Integral

from pylearn_vae import primitives as P
from pylearn_vae.costs.cost import Cost, DefaultDataSpecsMixin

__all__ = ["ImportanceSamplingCriterion", "VAECriterion"]


class _SampledCriterion(DefaultDataSpecsMixin, Cost):
    """Minus the batch mean of a per-example estimate of log p(x) from ``num_samples`` draws.

    Subclasses say which estimate in :meth:`_estimate`; both criteria are unsupervised
    and stochastic (the estimate draws noise).

    Parameters
    ----------
    num_samples : int
        Samples of z per example, at least 1.
    """

    supervised = False

    def __init__(self, num_samples):
        if (
            isinstance(num_samples, bool)
            or not isinstance(num_samples, Integral)
            or num_samples < 1
        ):
            raise ValueError(
                f"{type(self).__name__}: num_samples must be an integer >= 1, got {num_samples!r}"
            )
        self.num_samples = int(num_samples)

    def _estimate(self, model, data):
        """The estimate of log p(x), shape ``(batch,)``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _estimate")

    def expr(self, model, data, **kwargs):
        self.get_data_specs(model)[0].validate(data)
        return -P.mean(self._estimate(model, data))

    def is_stochastic(self):
        return True


class VAECriterion(_SampledCriterion):
    """Minus the variational lower bound of Kingma and Welling, averaged over the batch.

    Parameters
    ----------
    num_samples : int
        Samples of z per example in the expectation term.
    """

    def _estimate(self, model, data):
        return model.log_likelihood_lower_bound(data, self.num_samples)

    def get_monitoring_channels(self, model, data, **kwargs):
        """``kl_divergence_term`` and ``expectation_term`` (minus E_q log p(x|z)).

        They come from one lower-bound call with its own noise, so, as in the original,
        the ``objective`` channel is not exactly their sum.
        """
        self.get_data_specs(model)[0].validate(data)
        kl, expectation = model.log_likelihood_lower_bound(
            data, self.num_samples, return_individual_terms=True
        )
        return OrderedDict(
            [("kl_divergence_term", kl.mean()), ("expectation_term", -expectation.mean())]
        )


class ImportanceSamplingCriterion(_SampledCriterion):
    """Minus the importance-sampling estimate of log p(x), averaged over the batch.

    Parameters
    ----------
    num_samples : int
        Importance samples per example.
    """

    def _estimate(self, model, data):
        return model.log_likelihood_approximation(data, self.num_samples)
