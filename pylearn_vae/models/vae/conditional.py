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


import autograd.numpy as anp

from pylearn_vae import backend, ops
from pylearn_vae.models.mlp import MLP, CompositeLayer, Linear
from pylearn_vae.models.vae.component import VAEComponent
from pylearn_vae.space import CompositeSpace, VectorSpace

__all__ = [
    "BernoulliVector",
    "Conditional",
    "DiagonalGaussian",
    "LocationScale",
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
