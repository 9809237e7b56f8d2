"""The VAE's training criteria (``pylearn2/costs/vae.py``)."""

import math
from collections import OrderedDict
from numbers import Integral, Real

import autograd.numpy as anp

from pylearn_vae import ops
from pylearn_vae.costs.cost import Cost, DefaultDataSpecsMixin
from pylearn_vae.utils.validation import check_nonnegative_int

__all__ = ["ImportanceSamplingCriterion", "VAECriterion"]


class _SampledCriterion(DefaultDataSpecsMixin, Cost):
    """Minus the batch mean of a per-example estimate of log p(x) from ``num_samples`` draws.

    Subclasses say which estimate in :meth:`_estimate` (or write :meth:`expr` themselves,
    as :class:`VAECriterion` does); both criteria are unsupervised
    and stochastic (the estimate draws noise).

    Parameters
    ----------
    num_samples : int
        Samples of z per example, at least 1.
    """

    supervised = False

    def __init__(self, num_samples):
        integer = isinstance(num_samples, Integral) and not isinstance(num_samples, bool)
        if not integer or num_samples < 1:
            raise ValueError(
                f"{type(self).__name__}: num_samples must be an integer >= 1, got {num_samples!r}"
            )
        self.num_samples = int(num_samples)

    def _estimate(self, model, data, encoding=None):
        """The estimate of log p(x), shape ``(batch,)``, from ``encoding`` if given."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _estimate")

    def expr(self, model, data, encoding=None, **kwargs):
        """Minus the batch mean of the estimate; ``encoding``: a pass of ``data`` to use
        (the monitor's, see ``VAE.get_monitoring_shared``)."""
        self.get_data_specs(model)[0].validate(data)
        return -ops.mean(self._estimate(model, data, encoding))

    def is_stochastic(self):
        return True


class VAECriterion(_SampledCriterion):
    """Minus the variational lower bound of Kingma and Welling, averaged over the batch.

    ``-(E_q[log p(x|z)] - w KL(q(z|x) || p(z)))``, with ``w = 1`` unless KL warm-up is
    on. Two options the original lacked (both off by default, which is the original):

    - *KL warm-up* (Sønderby et al., 2016): the KL weight ``w`` rises linearly from 0
      to 1 over the first ``kl_warmup_epochs`` epochs, ``w = min(1, e / N)`` where ``e``
      counts the epochs the model's monitor has seen (0 during the first epoch);
    - *free bits* (Kingma et al., 2016): the KL of each latent unit, averaged over the
      batch, counts as at least ``free_bits`` nats, ``sum_j max(free_bits,
      mean_x KL_j)``, so a unit below that floor gets no gradient pushing it to the
      prior. It needs a :class:`~pylearn_vae.models.vae.kl.KLIntegrator` with a
      per-unit KL.

    With either option on, the ``objective`` channel is the weighted / floored
    criterion; ``kl_divergence_term`` and ``expectation_term`` stay the true terms of
    the bound, and the channels ``kl_weight`` and (with free bits) ``free_bits_kl_term``
    show the option at work.

    Parameters
    ----------
    num_samples : int
        Samples of z per example in the expectation term.
    kl_warmup_epochs : int
        Epochs of the linear KL warm-up; 0 (default) for none.
    free_bits : float
        Nats per latent unit below which its KL is not penalised; 0 (default) for none.
    """

    def __init__(self, num_samples, kl_warmup_epochs=0, free_bits=0.0):
        super().__init__(num_samples)
        if isinstance(free_bits, bool) or not isinstance(free_bits, Real) or not (
            math.isfinite(free_bits) and free_bits >= 0
        ):
            raise ValueError(
                f"VAECriterion: free_bits must be a number of nats >= 0 (0 for none), "
                f"got {free_bits!r}"
            )
        self.kl_warmup_epochs = check_nonnegative_int(
            "VAECriterion", "kl_warmup_epochs", kl_warmup_epochs
        )
        self.free_bits = float(free_bits)

    def kl_weight(self, model):
        """The KL term's weight now: ``min(1, epochs seen / kl_warmup_epochs)``, or 1."""
        if self.kl_warmup_epochs == 0:
            return 1.0
        monitor = getattr(model, "monitor", None)
        epochs = 0 if monitor is None else monitor.get_epochs_seen()
        return min(1.0, epochs / self.kl_warmup_epochs)

    def _free_bits_kl(self, model, phi):
        """``sum_j max(free_bits, mean over the batch of KL_j)``, a scalar."""
        per_unit = model.per_component_kl_divergence_term(phi, model.get_prior_theta())
        return ops.sum(anp.maximum(ops.mean(per_unit, axis=0), self.free_bits))

    def _terms(self, model, data, encoding):
        """``(encoding, kl, expectation)``: the batch's pass (``encoding`` if given) and
        its lower bound's two terms, each ``(batch,)``."""
        self.get_data_specs(model)[0].validate(data)
        if self.free_bits and model.kl_integrator is None:
            raise ValueError(
                f"VAECriterion: free_bits={self.free_bits} needs the KL of each latent unit, "
                f"but no KLIntegrator is known for ({type(model.prior).__name__}, "
                f"{type(model.posterior).__name__}); set free_bits to 0 or give the VAE a "
                "kl_integrator"
            )
        if encoding is None:
            encoding = model.encode_and_decode(data, self.num_samples)
        encoding = encoding.first(self.num_samples)
        kl, expectation = model.log_likelihood_lower_bound(
            data, self.num_samples, return_individual_terms=True, encoding=encoding
        )
        return encoding, kl, expectation

    def _objective(self, model, encoding, kl, expectation):
        """Minus the batch mean of the bound, its KL weighted and floored as asked."""
        if self.kl_warmup_epochs == 0 and self.free_bits == 0:
            return -ops.mean(expectation - kl)
        kl_term = self._free_bits_kl(model, encoding.phi) if self.free_bits else ops.mean(kl)
        return -(ops.mean(expectation) - self.kl_weight(model) * kl_term)

    def _channels(self, model, encoding, kl, expectation):
        channels = OrderedDict(
            [("kl_divergence_term", kl.mean()), ("expectation_term", -expectation.mean())]
        )
        if self.kl_warmup_epochs or self.free_bits:
            channels["kl_weight"] = self.kl_weight(model)
        if self.free_bits:
            channels["free_bits_kl_term"] = self._free_bits_kl(model, encoding.phi)
        return channels

    def expr(self, model, data, encoding=None, **kwargs):
        return self._objective(model, *self._terms(model, data, encoding))

    def get_monitoring_channels(self, model, data, encoding=None, **kwargs):
        """``kl_divergence_term`` and ``expectation_term`` (minus E_q log p(x|z)).

        With warm-up or free bits on, ``kl_weight`` and ``free_bits_kl_term`` (the
        floored KL) are added. The monitor asks for them with the objective, in
        :meth:`get_monitoring_values`: one lower bound on one pass gives all, so the
        objective is exactly their sum (in Pylearn2 each drew its own noise:
        ``docs/quirks.md#quirk-33``).
        """
        return self._channels(model, *self._terms(model, data, encoding))

    def get_monitoring_values(self, model, data, shared=None, channel_args=None):
        """``objective`` and the channels of :meth:`get_monitoring_channels`, from one
        lower bound of the batch's pass (``shared["encoding"]`` when the monitor gives it)."""
        terms = self._terms(model, data, (shared or {}).get("encoding"))
        values = OrderedDict([("objective", self._objective(model, *terms))])
        values.update(self._channels(model, *terms))
        return values


class ImportanceSamplingCriterion(_SampledCriterion):
    """Minus the importance-sampling estimate of log p(x), averaged over the batch.

    Parameters
    ----------
    num_samples : int
        Importance samples per example.
    """

    def _estimate(self, model, data, encoding=None):
        return model.log_likelihood_approximation(data, self.num_samples, encoding=encoding)
