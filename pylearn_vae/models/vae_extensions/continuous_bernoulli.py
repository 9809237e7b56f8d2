"""The continuous Bernoulli, a density for data in [0, 1] (Loaiza-Ganem & Cunningham, 2019).

A :class:`ContinuousBernoulli` conditional p(x|z) for grey levels, where a Bernoulli
likelihood of values between 0 and 1 is not a density. It builds on
:class:`~pylearn_vae.models.vae.conditional.BernoulliVector` (same logits, same output
layer) and adds the log-normalizer ``log C``; its mean and samples come from the
closed forms below.
"""

import math

import autograd.numpy as anp

from pylearn_vae import backend, ops
from pylearn_vae.models.vae.conditional import BernoulliVector

__all__ = [
    "ContinuousBernoulli",
    "continuous_bernoulli_inverse_cdf",
    "continuous_bernoulli_log_normalizer",
    "continuous_bernoulli_mean",
]

#: Below this |logit|, the continuous Bernoulli's normalizer and mean use their Taylor
#: series around lambda = 1/2 (logit 0), where the closed forms are 0 / 0. The series
#: below are accurate to 1e-12 there; above it the closed forms lose < 1e-6 relative.
CB_TAYLOR_THRESHOLD = 0.2


def _split_at_zero(logits):
    """``(small, safe, near)``: 1 where ``|logits|`` is below the threshold, else 0; the
    logits with those entries replaced by the threshold (so a closed form never sees
    0 / 0); and the logits with the others replaced by 0 (so a series never overflows at
    huge logits). Each branch thus has finite values and gradients where the mask
    discards it."""
    # Selections by a 0/1 mask rather than ``where``: autograd's VJP of ``where`` builds
    # its zeros with NumPy, off the device.
    small = (anp.abs(logits) < CB_TAYLOR_THRESHOLD).astype(logits.dtype)
    return small, logits + (CB_TAYLOR_THRESHOLD - logits) * small, logits * small


def _select(small, series, closed):
    # Both are finite everywhere (see _split_at_zero), so the mask never meets inf * 0.
    return series * small + closed * (1.0 - small)


def continuous_bernoulli_log_normalizer(logits):
    """``log C(lambda)`` of the continuous Bernoulli, ``lambda = sigmoid(logits)``.

    ``C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda)`` (Loaiza-Ganem &
    Cunningham, 2019) is, in terms of the logit ``s``, ``s / tanh(s / 2)``; at ``s = 0``
    it is 2. Near 0 the closed form is 0 / 0, so ``|s| < CB_TAYLOR_THRESHOLD`` uses
    ``log 2 + y^2/3 - 7 y^4/90 + 62 y^6/2835`` with ``y = s / 2``. Differentiable by
    autograd everywhere.

    Parameters
    ----------
    logits : array, any shape

    Returns
    -------
    array, the shape of ``logits``
    """
    small, safe, near = _split_at_zero(logits)
    closed = anp.log(anp.abs(safe)) - anp.log(anp.abs(ops.tanh(0.5 * safe)))
    y2 = (0.5 * near) ** 2
    series = math.log(2.0) + y2 * (1.0 / 3.0 + y2 * (-7.0 / 90.0 + y2 * (62.0 / 2835.0)))
    return _select(small, series, closed)


def continuous_bernoulli_mean(logits):
    """``E[x]`` of the continuous Bernoulli with ``lambda = sigmoid(logits)``.

    ``lambda / (2 lambda - 1) + 1 / (2 artanh(1 - 2 lambda))``, which is
    ``sigmoid(s) / tanh(s / 2) - 1 / s``; near ``s = 0`` its Taylor series
    ``1/2 + s/12 - s^3/720 + s^5/30240``.
    """
    small, safe, near = _split_at_zero(logits)
    closed = ops.sigmoid(safe) / ops.tanh(0.5 * safe) - 1.0 / safe
    s2 = near * near
    series = 0.5 + near * (1.0 / 12.0 + s2 * (-1.0 / 720.0 + s2 / 30240.0))
    return _select(small, series, closed)


def continuous_bernoulli_inverse_cdf(u, logits):
    """The continuous Bernoulli's quantile at ``u`` in [0, 1] (not differentiated).

    ``F^-1(u) = log(1 + u (e^s - 1)) / s``, written for ``s > 0`` as
    ``1 + log(u + (1 - u) e^-s) / s`` so that nothing overflows, and for ``s < 0``
    through the symmetry ``F^-1(u; s) = 1 - F^-1(1 - u; -s)``; ``u`` itself near
    ``s = 0``.
    """
    xp = backend.get_array_module(u, logits)
    small = xp.abs(logits) < 1e-4
    t = xp.where(small, 1.0, xp.abs(logits))
    v = xp.where(logits > 0, u, 1 - u)
    tiny = xp.finfo(u.dtype).tiny  # keeps the log finite at v = 0 and e^-t = 0
    y = 1 + xp.log(xp.maximum(v + (1 - v) * xp.exp(-t), tiny)) / t
    x = xp.where(small, u, xp.where(logits > 0, y, 1 - y))
    return xp.clip(x, 0, 1).astype(u.dtype, copy=False)


class ContinuousBernoulli(BernoulliVector):
    """Continuous Bernoulli units for data in [0, 1] (Loaiza-Ganem & Cunningham, 2019).

    ``p(x | lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x)`` on ``x`` in [0, 1],
    a proper density where a Bernoulli likelihood of grey levels is not. The
    parameters are the logits ``S`` (``lambda = sigmoid(S)``), so it builds on
    :class:`BernoulliVector` (same output layer):
    ``log p(x | S) = sum_d [x S - softplus(S) + log C(S)]``. Its mean is not
    ``lambda`` (see :func:`continuous_bernoulli_mean`); samples invert the CDF.
    """

    def _sample_from_uniform(self, u, S):
        """Samples in [0, 1] by the inverse CDF at ``u``, floatX."""
        return continuous_bernoulli_inverse_cdf(u, S)

    def conditional_expectation(self, conditional_params):
        return continuous_bernoulli_mean(conditional_params[0])

    def log_conditional(self, samples, conditional_params):
        """Log-density of ``samples`` in [0, 1] (``(batch, d)`` or ``(S, batch, d)``), summed."""
        (S,) = conditional_params
        return ops.bernoulli_log_likelihood(samples, S) + ops.sum(
            continuous_bernoulli_log_normalizer(S), axis=-1
        )
