"""The VAE's training criteria (``pylearn2/costs/vae.py``)."""

from collections import OrderedDict
from numbers import Integral

from pylearn_vae import primitives as P
from pylearn_vae.costs.cost import Cost, DefaultDataSpecsMixin

__all__ = ["ImportanceSamplingCriterion", "VAECriterion"]


def _check_num_samples(cls, num_samples):
    if isinstance(num_samples, bool) or not isinstance(num_samples, Integral) or num_samples < 1:
        raise ValueError(
            f"{cls.__name__}: num_samples must be an integer >= 1, got {num_samples!r}"
        )
    return int(num_samples)


class VAECriterion(DefaultDataSpecsMixin, Cost):
    """Minus the variational lower bound of Kingma and Welling, averaged over the batch.

    Parameters
    ----------
    num_samples : int
        Samples of z per example in the expectation term.
    """

    supervised = False

    def __init__(self, num_samples):
        self.num_samples = _check_num_samples(type(self), num_samples)

    def expr(self, model, data, **kwargs):
        self.get_data_specs(model)[0].validate(data)
        return -P.mean(model.log_likelihood_lower_bound(data, self.num_samples))

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

    def is_stochastic(self):
        return True


class ImportanceSamplingCriterion(DefaultDataSpecsMixin, Cost):
    """Minus the importance-sampling estimate of log p(x), averaged over the batch.

    Parameters
    ----------
    num_samples : int
        Importance samples per example.
    """

    supervised = False

    def __init__(self, num_samples):
        self.num_samples = _check_num_samples(type(self), num_samples)

    def expr(self, model, data, **kwargs):
        self.get_data_specs(model)[0].validate(data)
        return -P.mean(model.log_likelihood_approximation(data, self.num_samples))

    def is_stochastic(self):
        return True
