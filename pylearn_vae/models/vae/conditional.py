"""Conditional distributions p(x|z) and q(z|x) (``pylearn2/models/vae/conditional.py``).

A :class:`Conditional` maps its input to the parameters of a distribution through a
*nested* MLP. When the VAE calls :meth:`Conditional.initialize_parameters`, the
conditional knows its input space and the dimension of what it models, so it appends
its default output layer (unless ``output_layer_required`` is False), completes the
MLP, and checks the MLP's output space against the one it needs.

Fixed on purpose, compared with the original: log-densities accept ``(batch, dim)``
as well as ``(num_samples, batch, dim)`` samples; re-initialising does not prefix
parameter names twice nor append a second output layer; a DiagonalGaussian drawn
without epsilon needs no ``num_samples``.
"""

import math

import autograd.numpy as anp

from pylearn_vae import backend, ops
from pylearn_vae.models.mlp import MLP, CompositeLayer, Linear
from pylearn_vae.models.vae.component import VAEComponent
from pylearn_vae.space import CompositeSpace, VectorSpace

__all__ = [
    "BernoulliVector",
    "Conditional",
    "ContinuousBernoulli",
    "DiagonalGaussian",
    "LocationScale",
    "continuous_bernoulli_log_normalizer",
    "continuous_bernoulli_mean",
]


class Conditional(VAEComponent):
    """Base class of conditional distributions parametrized by an MLP.

    Parameters
    ----------
    mlp : MLP
        A nested MLP (built without ``nvis`` or ``input_space``) mapping the input to
        the last hidden representation (or, without an output layer, to the
        distribution's parameters).
    name : str
        Prefix of the parameter names and monitoring channels (``'posterior'``,
        ``'conditional'``).
    output_layer_required : bool
        Append :meth:`_get_default_output_layer` to the MLP (default). Set False to
        give the output layer yourself; its output space is then validated.
    """

    def __init__(self, mlp, name, output_layer_required=True):
        super().__init__()
        if not isinstance(mlp, MLP) or not mlp.nested:
            raise ValueError(
                f"Conditional {name!r} needs a nested MLP, one built without nvis or "
                "input_space: the VAE sets its input space when it initializes parameters"
            )
        self.mlp = mlp
        self.name = name
        self.output_layer_required = output_layer_required
        self._default_output_layer = None

    # -- building ---------------------------------------------------------------
    def _get_default_output_layer(self):
        """The layer appended to the MLP when ``output_layer_required``."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement _get_default_output_layer"
        )

    def _get_required_mlp_output_space(self):
        """The output space the MLP must have (the distribution's parameters)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement _get_required_mlp_output_space"
        )

    def _validate_mlp(self):
        expected = self._get_required_mlp_output_space()
        got = self.mlp.get_output_space()
        if got != expected:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the MLP's output space is {got}, but "
                f"the distribution's parameters need {expected}; fix the MLP's last layer "
                "or set output_layer_required to True"
            )

    def initialize_parameters(self, input_space, ndim):
        """Complete the nested MLP for ``input_space`` and ``ndim``-dimensional output.

        Weights are drawn from the VAE's generator; parameter names get the prefix
        ``<name>_``.
        """
        self.input_space = input_space
        self.ndim = int(ndim)
        if self.output_layer_required and self._default_output_layer is None:
            self._default_output_layer = self._get_default_output_layer()
            self.mlp.add_layers([self._default_output_layer])
        self.mlp.set_mlp(self)
        self.mlp.set_input_space(self.input_space)
        self._validate_mlp()
        self._params = self.mlp.get_params()
        prefix = f"{self.name}_"
        renamed = getattr(self, "_renamed", set())
        for p in self._params:
            if id(p) not in renamed:
                p.name = prefix + p.name
                renamed.add(id(p))
        self._renamed = renamed

    # -- Model API --------------------------------------------------------------
    def get_weights(self):
        return self.mlp.get_weights()

    def get_lr_scalers(self):
        return self.mlp.get_lr_scalers()

    def _modify_updates(self, updates):
        self.mlp.modify_updates(updates)

    def monitoring_channels_from_conditional_params(self, conditional_params):
        """``{name: scalar}`` channels computed from the distribution's parameters."""
        return {}

    # -- the distribution ------------------------------------------------------
    def encode_conditional_params(self, X):
        """The distribution's parameters for input ``X``, always a tuple."""
        out = self.mlp.fprop(X)
        return out if isinstance(out, tuple) else (out,)

    def conditional_expectation(self, conditional_params):
        raise NotImplementedError

    def sample_from_conditional(self, conditional_params, epsilon=None, num_samples=None):
        raise NotImplementedError

    def sample_from_epsilon(self, shape):
        raise NotImplementedError(
            f"{type(self).__name__} does not support the reparametrization trick"
        )

    def log_conditional(self, samples, conditional_params):
        raise NotImplementedError


class BernoulliVector(Conditional):
    """Independent Bernoulli units; the parameters are the pre-sigmoid logits ``S``.

    ``log p(x | S) = sum_d [x log sigmoid(S) + (1 - x) log sigmoid(-S)]``.
    """

    def _get_default_output_layer(self):
        return Linear(dim=self.ndim, layer_name="mu", irange=0.01)

    def _get_required_mlp_output_space(self):
        return VectorSpace(dim=self.ndim)

    def sample_from_conditional(self, conditional_params, epsilon=None, num_samples=None):
        """Binary samples ``U(0, 1) < sigmoid(S)``, shape ``(num_samples, ndim)``, floatX."""
        if epsilon is not None:
            raise ValueError(
                f"{type(self).__name__} is not able to sample using the reparametrization "
                "trick: call it without epsilon"
            )
        if num_samples is None:
            raise ValueError(f"{type(self).__name__} needs num_samples to sample")
        (S,) = conditional_params
        return self._sample_from_uniform(self.noise.uniform((int(num_samples), self.ndim)), S)

    def _sample_from_uniform(self, u, S):
        """Samples of logits ``S`` from uniform noise ``u`` of the same shape."""
        return (u < ops.sigmoid(S)).astype(backend.floatX())

    def conditional_expectation(self, conditional_params):
        return ops.sigmoid(conditional_params[0])

    def log_conditional(self, samples, conditional_params):
        """Log-likelihood of ``samples`` (``(batch, d)`` or ``(S, batch, d)``), summed over d."""
        return ops.bernoulli_log_likelihood(samples, conditional_params[0])


class LocationScale(Conditional):
    """Independent units of a location-scale family; parameters ``(mu, log_sigma)``.

    ``z = mu + exp(log_sigma) * epsilon`` with noise ``epsilon`` of the family's
    standard member: what :class:`DiagonalGaussian` and
    :class:`~pylearn_vae.models.vae.laplace.Laplace` share. A subclass gives the noise
    (:meth:`sample_from_epsilon`) and the log-density (:meth:`log_conditional`); it is
    abstract, so :func:`~pylearn_vae.models.vae.kl.find_integrator_for` never matches a
    Laplace posterior to the Gaussian KL.
    """

    def _get_default_output_layer(self):
        return CompositeLayer(
            layer_name="conditional",
            layers=[
                Linear(dim=self.ndim, layer_name="mu", irange=0.01),
                Linear(dim=self.ndim, layer_name="log_sigma", irange=0.01),
            ],
        )

    def _get_required_mlp_output_space(self):
        return CompositeSpace([VectorSpace(dim=self.ndim), VectorSpace(dim=self.ndim)])

    def monitoring_channels_from_conditional_params(self, conditional_params):
        """``<name>_sigma_{min,max,mean,std}`` of the scale ``exp(log_sigma)``, all entries."""
        sigma = anp.exp(conditional_params[1])
        return {
            f"{self.name}_sigma_min": sigma.min(),
            f"{self.name}_sigma_max": sigma.max(),
            f"{self.name}_sigma_mean": sigma.mean(),
            f"{self.name}_sigma_std": sigma.std(),
        }

    def sample_from_conditional(self, conditional_params, epsilon=None, num_samples=None):
        """``mu + exp(log_sigma) * epsilon``; epsilon is drawn when not given.

        Parameters
        ----------
        conditional_params : (mu, log_sigma), each (batch, ndim)
        epsilon : array, shape (batch, ndim) or (num_samples, batch, ndim), optional
        num_samples : int, optional
            Checked against ``mu``'s batch when epsilon is drawn here.
        """
        mu, log_sigma = conditional_params
        if epsilon is None:
            if num_samples is not None and int(num_samples) != mu.shape[0]:
                raise ValueError(
                    f"{type(self).__name__}: num_samples={num_samples} but the parameters "
                    f"hold {mu.shape[0]} rows; pass epsilon for several samples per row"
                )
            epsilon = self.sample_from_epsilon(mu.shape)
        return ops.reparametrize(mu, log_sigma, epsilon)

    def conditional_expectation(self, conditional_params):
        return conditional_params[0]


class DiagonalGaussian(LocationScale):
    """A Gaussian with diagonal covariance; the parameters are ``(mu, log_sigma)``."""

    def sample_from_epsilon(self, shape):
        """Standard normal noise of ``shape``, floatX."""
        return self.noise.normal(tuple(shape))

    def log_conditional(self, samples, conditional_params):
        """Log-density of ``samples`` (``(batch, d)`` or ``(S, batch, d)``), summed over d."""
        mu, log_sigma = conditional_params
        return ops.gaussian_log_density(samples, mu, log_sigma)


# -- the continuous Bernoulli ------------------------------------------------------------
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
