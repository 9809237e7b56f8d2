"""The variational autoencoder (``pylearn2/models/vae/__init__.py``).

A :class:`VAE` holds three parts -- a :class:`~.prior.Prior` p(z), a
:class:`~.conditional.Conditional` p(x|z) and a :class:`~.conditional.Conditional`
q(z|x), the approximate posterior -- and computes, from them, the variational lower
bound on log p(x) and an importance-sampling estimate of log p(x).

Shapes: ``X`` is ``(batch, nvis)``; the posterior's parameters ``phi = (mu,
log_sigma)`` are each ``(batch, nhid)``; noise ``epsilon`` and latent samples ``z``
are ``(num_samples, batch, nhid)``. Decoding flattens ``z`` to ``(num_samples *
batch, nhid)`` and reshapes the conditional's parameters back to ``(num_samples,
batch, nvis)``.

Everything here is plain array code on the formulas of :mod:`pylearn_vae.ops`, so
autograd differentiates it and it runs on NumPy and CuPy alike.
"""

import warnings
from collections import OrderedDict, namedtuple

from pylearn_vae import backend, ops
from pylearn_vae.models.model import Model
from pylearn_vae.models.vae.conditional import Conditional
from pylearn_vae.models.vae.kl import find_integrator_for
from pylearn_vae.models.vae.prior import Prior
from pylearn_vae.space import VectorSpace
from pylearn_vae.utils.iteration import joined_rows
from pylearn_vae.utils.rng import make_np_rng
from pylearn_vae.utils.validation import (
    check_fits_in_memory,
    check_positive_int,
    reject_ignored_option,
)

__all__ = ["VAE", "Encoding", "default_seed"]

default_seed = 2043

#: Largest ``num_samples * rows * max(nvis, nhid)`` of one monitoring pass (16 MiB of
#: float32): up to that size the monitor's batches are encoded together, as one batch.
MONITORING_PASS_ELEMENTS = 1 << 22


class Encoding(namedtuple("Encoding", "epsilon phi z theta")):
    """One encode/decode pass of a batch ``X`` (:meth:`VAE.encode_and_decode`).

    Attributes
    ----------
    epsilon : array, shape (num_samples, batch, nhid)
        The noise.
    phi : tuple of (batch, nhid) arrays
        The posterior's parameters.
    z : array, shape (num_samples, batch, nhid)
        The latent samples.
    theta : tuple of (num_samples, batch, nvis) arrays
        The conditional's parameters at each ``z``.
    """

    __slots__ = ()

    def first(self, num_samples):
        """The pass restricted to its first ``num_samples`` samples."""
        if num_samples > self.epsilon.shape[0]:
            raise ValueError(
                f"the encoding holds {self.epsilon.shape[0]} samples, {num_samples} were asked"
            )
        if num_samples == self.epsilon.shape[0]:
            return self
        n = num_samples
        return Encoding(self.epsilon[:n], self.phi, self.z[:n], tuple(t[:n] for t in self.theta))

    def rows(self, start, stop):
        """The pass of the rows ``start:stop`` of the batch."""
        rows = slice(start, stop)
        phi, theta = tuple(p[rows] for p in self.phi), tuple(t[:, rows] for t in self.theta)
        return Encoding(self.epsilon[:, rows], phi, self.z[:, rows], theta)


class VAE(Model):
    """A variational autoencoder.

    Parameters
    ----------
    nvis : int
        Dimension of x.
    prior : Prior
    conditional : Conditional
        p(x|z).
    posterior : Conditional
        q(z|x).
    nhid : int
        Dimension of z.
    learn_prior : bool
        Train the prior's parameters too (default True).
    kl_integrator : KLIntegrator, optional
        Found with :func:`~pylearn_vae.models.vae.kl.find_integrator_for` when None;
        without one the KL term is estimated by Monte Carlo (with a warning).
    batch_size : None
        Must stay None: Pylearn2 stores it and nothing reads it (the VAE has no
        ``force_batch_size``); the batch size is the training algorithm's ``batch_size``.
    seed : int, optional
        Seed of the generator the weights and the noise seeds are drawn from
        (default 2043).
    """

    def __init__(self, nvis, prior, conditional, posterior, nhid, learn_prior=True,
                 kl_integrator=None, batch_size=None, seed=None):
        super().__init__()
        for arg, value, cls in [
            ("prior", prior, Prior),
            ("conditional", conditional, Conditional),
            ("posterior", posterior, Conditional),
        ]:
            if not isinstance(value, cls):
                raise TypeError(f"VAE {arg} must be a {cls.__name__}, got {value!r}")
        reject_ignored_option(
            "VAE", "batch_size", batch_size, None,
            "is read by nothing (the VAE has no force_batch_size); give batch_size to the "
            "training algorithm (SGD)",
        )
        self.nvis = check_positive_int("VAE", "nvis", nvis)
        self.nhid = check_positive_int("VAE", "nhid", nhid)
        check_fits_in_memory(  # the output biases and the prior, before the weights
            "VAE", f"nvis ({self.nvis}) or nhid ({self.nhid})",
            8 * (2 * self.nvis + 4 * self.nhid), "its output biases and prior",
        )
        self.prior = prior
        self.conditional = conditional
        self.posterior = posterior
        self.learn_prior = learn_prior
        self.batch_size = batch_size
        self.seed = seed
        self.rng = make_np_rng(seed, default_seed, ["uniform", "randint", "randn"])

        self.prior.set_vae(self)
        self.conditional.set_vae(self)
        self.posterior.set_vae(self)
        self.monitoring_noise = None  # made from the posterior's seed when first used

        self.input_space = VectorSpace(dim=self.nvis)
        self.input_source = "features"
        self.latent_space = VectorSpace(dim=self.nhid)

        self.prior.initialize_parameters(nhid=self.nhid)
        self.conditional.initialize_parameters(input_space=self.latent_space, ndim=self.nvis)
        self.posterior.initialize_parameters(input_space=self.input_space, ndim=self.nhid)

        self._params = self.get_posterior_params() + self.get_conditional_params()
        if self.learn_prior:
            self._params += self.get_prior_params()
        names = set()
        for p in self._params:
            if p.name in names:
                raise Exception(f"no two parameters must share the same name: {p.name}")
            names.add(p.name)

        self.kl_integrator = (
            find_integrator_for(self.prior, self.posterior)
            if kl_integrator is None
            else kl_integrator
        )
        self._warned_monte_carlo_kl = False

    # -- Model API --------------------------------------------------------------
    def get_monitoring_data_specs(self):
        return (self.get_input_space(), self.get_input_source())

    def get_monitoring_channels(self, data, encoding=None):
        """``reconstruction_mse`` and the components' channels on a batch ``data``.

        Computed from the first sample of ``encoding`` (an :class:`Encoding` of
        ``data``, as :meth:`get_monitoring_shared` gives the monitor), or of a new
        one-sample pass.
        """
        self.get_monitoring_data_specs()[0].validate(data)
        X = data
        encoding = self.encode_and_decode(X, 1) if encoding is None else encoding.first(1)
        theta = tuple(t[0] for t in encoding.theta)
        diff = X - self.means_from_theta(theta)
        rval = OrderedDict([("reconstruction_mse", (diff * diff).mean())])
        for channels in (
            self.posterior.monitoring_channels_from_conditional_params(encoding.phi),
            self.conditional.monitoring_channels_from_conditional_params(theta),
            self.prior.monitoring_channels_from_prior_params(),
        ):
            for key, value in channels.items():
                if key in rval:
                    raise KeyError(f"key collision in monitoring channels: {key}")
                rval[key] = value
        return rval

    def get_monitoring_shared(self, batches, costs):
        """One :class:`Encoding` per monitored batch, handed by the monitor to the costs'
        ``expr`` and channels and to :meth:`get_monitoring_channels` as ``encoding=``.

        So a batch is encoded and decoded once, and ``objective`` is exactly
        ``kl_divergence_term + expectation_term`` (``docs/quirks.md#quirk-33``). It holds
        the largest ``num_samples`` of ``costs``, drawn from the monitoring stream
        (:meth:`_monitoring_noise`). Batches small enough (:data:`MONITORING_PASS_ELEMENTS`)
        are encoded together, as one batch, and each gets its rows.

        Parameters
        ----------
        batches : list of arrays, each (rows_i, nvis)
        costs : list of Cost

        Returns
        -------
        list of dict, ``{"encoding": Encoding}`` for each batch
        """
        num_samples = max([int(getattr(c, "num_samples", 1)) for c in costs] + [1])
        rows = sum(X.shape[0] for X in batches)
        together = num_samples * rows * max(self.nvis, self.nhid) <= MONITORING_PASS_ELEMENTS
        encodings = []
        for group in [batches] if together else [[X] for X in batches]:
            X = joined_rows(group)
            epsilon = self._monitoring_epsilon(X, num_samples)
            encoding = self.encode_and_decode(X, num_samples, epsilon)
            start = 0
            for batch in group:
                encodings.append(encoding.rows(start, start + batch.shape[0]))
                start += batch.shape[0]
        return [{"encoding": e} for e in encodings]

    def get_lr_scalers(self):
        scalers = OrderedDict()
        for part in (self.prior, self.conditional, self.posterior):
            scalers.update(part.get_lr_scalers())
        return scalers

    def _modify_updates(self, updates):
        for part in (self.prior, self.conditional, self.posterior):
            part.modify_updates(updates)

    def get_weights(self):
        """The encoder's first-layer weights, ``(nvis, hidden)``."""
        return self.posterior.get_weights()

    def get_conditional_weights(self):
        return self.conditional.get_weights()

    def get_prior_params(self):
        return self.prior.get_params()

    def get_conditional_params(self):
        return self.conditional.get_params()

    def get_posterior_params(self):
        return self.posterior.get_params()

    def set_noise_seed(self, seed):
        """Give the posterior, conditional and prior fresh noise streams.

        They are seeded ``seed``, ``seed + 1`` and ``seed + 2``, so the same seed makes
        every stochastic method repeat its numbers (scripts, tests, debugging).
        """
        for offset, part in enumerate((self.posterior, self.conditional, self.prior)):
            part.noise = backend.RandomStreams(seed + offset)
        self.monitoring_noise = backend.RandomStreams(seed + 3)

    def _monitoring_noise(self):
        """The stream the monitor's passes draw from, never the training noise: what a
        run trains does not depend on what is monitored (Pylearn2's compiled monitoring
        functions had random states of their own). Seeded from the posterior's stream."""
        if getattr(self, "monitoring_noise", None) is None:  # a model pickled before it
            self.monitoring_noise = backend.RandomStreams((self.posterior.noise.seed + 3) % 2**30)
        return self.monitoring_noise

    def _monitoring_epsilon(self, X, num_samples):
        """The posterior's noise for a monitoring pass of ``X``, from the monitoring stream."""
        training_noise = self.posterior.noise
        self.posterior.noise = self._monitoring_noise()
        try:
            return self.sample_from_epsilon((num_samples, X.shape[0], self.nhid))
        finally:
            self.posterior.noise = training_noise

    # -- sampling ---------------------------------------------------------------
    def sample(self, num_samples, return_sample_means=True, **kwargs):
        """Draw ``num_samples`` examples from the model.

        Returns
        -------
        samples : array, shape (num_samples, nvis)
        means : array, shape (num_samples, nvis)
            The conditional expectations E[x|z]; returned with the samples when
            ``return_sample_means`` (the default).
        """
        check_positive_int("VAE.sample", "num_samples", num_samples)
        z = self.sample_from_p_z(num_samples=num_samples, **kwargs)
        theta = self.decode_theta(z)
        X = self.sample_from_p_x_given_z(num_samples=num_samples, theta=theta)
        return (X, self.means_from_theta(theta)) if return_sample_means else X

    def reconstruct(self, X, noisy_encoding=False, return_sample_means=True):
        """Encode ``X`` and decode it again.

        With ``noisy_encoding`` z is drawn from q(z|x); otherwise z is its mean (no noise
        is drawn, unlike the original which drew and zeroed it).

        Returns
        -------
        reconstructions : array, shape (batch, nvis)
        means : array, shape (batch, nvis), when ``return_sample_means``
        """
        phi = self.encode_phi(X)
        if noisy_encoding:
            z = self.sample_from_q_z_given_x(
                epsilon=self.sample_from_epsilon((X.shape[0], self.nhid)), phi=phi
            )
        else:
            z = self.posterior.conditional_expectation(phi)
        theta = self.decode_theta(z)
        reconstructed = self.sample_from_p_x_given_z(num_samples=X.shape[0], theta=theta)
        return (
            (reconstructed, self.means_from_theta(theta)) if return_sample_means else reconstructed
        )

    # -- the two criteria ----------------------------------------------------------
    def encode_and_decode(self, X, num_samples, epsilon=None):
        """Encode ``X``, draw ``num_samples`` latent samples per example, decode them: what
        both criteria start from (and a criterion of one's own may).

        Parameters
        ----------
        X : array, shape (batch, nvis)
        num_samples : int
        epsilon : array, shape (num_samples, batch, nhid), optional
            The noise; drawn from the posterior's stream when not given.

        Returns
        -------
        Encoding, ``(epsilon, phi, z, theta)``
        """
        check_positive_int("VAE", "num_samples", num_samples)
        batch = X.shape[0]
        if epsilon is None:
            epsilon = self.sample_from_epsilon((num_samples, batch, self.nhid))
        phi = self.encode_phi(X)
        z = self.sample_from_q_z_given_x(epsilon=epsilon, phi=phi)
        flat_theta = self.decode_theta(z.reshape((num_samples * batch, self.nhid)))
        theta = tuple(t.reshape((num_samples, batch, t.shape[-1])) for t in flat_theta)
        return Encoding(epsilon, phi, z, theta)

    def _encoding(self, X, num_samples, encoding):
        """``encoding``'s first ``num_samples`` samples, or a new pass of ``X``."""
        n = num_samples
        return self.encode_and_decode(X, n) if encoding is None else encoding.first(n)

    def log_likelihood_lower_bound(
        self, X, num_samples, approximate_kl=False, return_individual_terms=False, encoding=None
    ):
        """The variational lower bound on log p(x), per example.

        ``E_q[log p(x|z)] - KL(q(z|x) || p(z))``, the expectation estimated with
        ``num_samples`` reparametrized samples; the KL is analytic unless
        ``approximate_kl`` (then Monte Carlo on the same noise).

        Parameters
        ----------
        encoding : Encoding, optional
            A pass of ``X`` to compute from (its first ``num_samples`` samples) instead
            of a new one.

        Returns
        -------
        array, shape (batch,)
            Or ``(kl, expectation)``, each (batch,), with ``return_individual_terms``.
        """
        epsilon, phi, z, theta = self._encoding(X, num_samples, encoding)
        expectation = ops.mean(self.expectation_term(X, theta), axis=0)
        kl = self.kl_divergence_term(
            phi=phi, theta=self.get_prior_theta(), approximate=approximate_kl, epsilon=epsilon
        )
        if return_individual_terms:
            return kl, expectation
        return expectation - kl

    def log_likelihood_approximation(self, X, num_samples, encoding=None):
        """Importance-sampling estimate of log p(x) with q(z|x) as proposal, per example.

        ``log (1/S) sum_s p(x|z_s) p(z_s) / q(z_s|x)``, computed as a log-mean-exp.

        Parameters
        ----------
        encoding : Encoding, optional
            As in :meth:`log_likelihood_lower_bound`.

        Returns
        -------
        array, shape (batch,)
        """
        _, phi, z, theta = self._encoding(X, num_samples, encoding)
        log_weights = (
            self.log_p_z(z) + self.log_p_x_given_z(X, theta) - self.log_q_z_given_x(z, phi)
        )
        return ops.log_mean_exp(log_weights, axis=0)

    # -- delegation to the components ----------------------------------------------
    def encode_phi(self, X):
        """The posterior's parameters for ``X``, a tuple of ``(batch, nhid)`` arrays."""
        return self.posterior.encode_conditional_params(X)

    def decode_theta(self, z):
        """The conditional's parameters for 2-D ``z``, a tuple of ``(batch, nvis)`` arrays."""
        return self.conditional.encode_conditional_params(z)

    def get_prior_theta(self):
        """The prior's parameter values (whether learned or not), as a tuple."""
        return self.prior.get_theta()

    def means_from_theta(self, theta):
        return self.conditional.conditional_expectation(theta)

    def expectation_term(self, X, theta):
        """log p(X|z) for the conditional parameters ``theta``; shape of theta less d."""
        return self.conditional.log_conditional(X, theta)

    def kl_divergence_term(self, phi, theta, approximate=False, epsilon=None):
        """KL(q(z|x) || p(z)) per example, shape ``(batch,)``."""
        if self.kl_integrator is None:
            if not self._warned_monte_carlo_kl:
                warnings.warn(
                    f"no KLIntegrator for ({type(self.prior).__name__}, "
                    f"{type(self.posterior).__name__}): the KL term is estimated by Monte "
                    "Carlo instead",
                    stacklevel=2,
                )
                self._warned_monte_carlo_kl = True
            return self._approximate_kl_divergence_term(phi=phi, epsilon=epsilon)
        if approximate:
            return self._approximate_kl_divergence_term(phi=phi, epsilon=epsilon)
        return self.kl_integrator.kl_divergence(
            phi=phi, theta=theta, prior=self.prior, posterior=self.posterior
        )

    def _approximate_kl_divergence_term(self, phi, epsilon):
        """Monte Carlo KL: the mean over samples of log q(z|x) - log p(z)."""
        if epsilon is None:
            raise ValueError("the Monte Carlo KL needs epsilon (the noise z is drawn with)")
        z = self.sample_from_q_z_given_x(epsilon=epsilon, phi=phi)
        log_ratio = self.log_q_z_given_x(z, phi) - self.log_p_z(z)
        return ops.mean(log_ratio, axis=0) if epsilon.ndim == 3 else log_ratio

    def per_component_kl_divergence_term(self, phi, theta):
        """The KL of each latent unit, shape ``(batch, nhid)``."""
        if self.kl_integrator is None:
            raise NotImplementedError(
                "the per-component KL needs an analytic KLIntegrator, and none was found for "
                f"({type(self.prior).__name__}, {type(self.posterior).__name__})"
            )
        return self.kl_integrator.per_component_kl_divergence(
            phi=phi, theta=theta, prior=self.prior, posterior=self.posterior
        )

    def sample_from_p_x_given_z(self, num_samples, theta):
        return self.conditional.sample_from_conditional(
            conditional_params=theta, num_samples=num_samples
        )

    def sample_from_p_z(self, num_samples, **kwargs):
        return self.prior.sample_from_p_z(num_samples, **kwargs)

    def sample_from_q_z_given_x(self, epsilon, phi):
        return self.posterior.sample_from_conditional(conditional_params=phi, epsilon=epsilon)

    def sample_from_epsilon(self, shape):
        return self.posterior.sample_from_epsilon(shape)

    def log_p_z(self, z):
        return self.prior.log_p_z(z)

    def log_p_x_given_z(self, X, theta):
        return self.conditional.log_conditional(X, theta)

    def log_q_z_given_x(self, z, phi):
        return self.posterior.log_conditional(z, phi)
