"""The tutorial VAE and its training step written plainly in PyTorch eager mode.

The baseline of ``benchmarks/bench_vae.py``: what a user would write instead of our
framework. Same model, criterion and update as ``yaml_examples/vae_mnist10k.yaml``:

- encoder ``x (784) -> h = relu(x W_e + b_e) (200) -> mu, log_sigma`` (two linear heads);
- ``z = mu + exp(log_sigma) * epsilon``;
- decoder ``z (200) -> relu (200) -> relu (200) -> logits (784)``;
- ``log p(x|z)`` Bernoulli from logits, ``KL(q(z|x) || p(z))`` analytic to a learnable
  diagonal Gaussian prior ``N(prior_mu, exp(prior_log_sigma)^2)``;
- loss ``-mean(ELBO)``; classic momentum as Pylearn2's ``Momentum``:
  ``v = mu v - lr g; p = p + v``.

PyTorch is a benchmark-only dependency (``pip install '.[bench]'``); nothing in
``pylearn_vae`` or ``tests`` imports this module.
"""

import functools
import math

import torch
import torch.nn.functional as F

from pylearn_vae.testing.vae import TUTORIAL_PARAM_NAMES as PARAM_NAMES

__all__ = ["PARAM_NAMES", "CompiledTorchVAE", "TorchVAE"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class TorchVAE:
    """The VAE's parameters as leaf tensors, with the step and the IS log-likelihood.

    Parameters
    ----------
    values : dict {name: array}
        Initial values under the names of :data:`PARAM_NAMES` (e.g. copied from our
        model, so both start from the same point); weights are ``(in, out)``.
    device : str or torch.device
    momentum : float
        Pylearn2's ``mu``.
    learning_rate : float
    """

    def __init__(self, values, device="cpu", momentum=0.05, learning_rate=1e-2):
        self.device = torch.device(device)
        self.params = {
            name: torch.tensor(values[name], dtype=torch.float32, device=self.device)
            .clone()
            .requires_grad_(True)
            for name in PARAM_NAMES
        }
        self.velocities = {name: torch.zeros_like(p) for name, p in self.params.items()}
        self.momentum = float(momentum)
        self.learning_rate = float(learning_rate)

    # -- the model ------------------------------------------------------------------
    def encode(self, x):
        """``(mu, log_sigma)`` of q(z|x), each ``(batch, 200)``."""
        p = self.params
        h = F.relu(x @ p["posterior_h_e_1_W"] + p["posterior_h_e_1_b"])
        mu = h @ p["posterior_mu_W"] + p["posterior_mu_b"]
        log_sigma = h @ p["posterior_log_sigma_W"] + p["posterior_log_sigma_b"]
        return mu, log_sigma

    def decode(self, z):
        """Bernoulli logits ``(..., 784)`` of p(x|z) for ``z`` of shape ``(..., 200)``."""
        p = self.params
        h = F.relu(z @ p["conditional_h_d_1_W"] + p["conditional_h_d_1_b"])
        h = F.relu(h @ p["conditional_h_d_2_W"] + p["conditional_h_d_2_b"])
        return h @ p["conditional_mu_W"] + p["conditional_mu_b"]

    @staticmethod
    def bernoulli_log_likelihood(x, logits):
        """``sum_d log p(x_d | logits_d)``, over the last axis."""
        return -F.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none"
        ).sum(-1)

    @staticmethod
    def gaussian_log_density(z, mu, log_sigma):
        """``sum_d log N(z_d; mu_d, exp(log_sigma_d)^2)``, over the last axis."""
        standardized = (z - mu) * torch.exp(-log_sigma)
        return (-_HALF_LOG_2PI - log_sigma - 0.5 * standardized * standardized).sum(-1)

    def kl_divergence(self, mu, log_sigma):
        """``KL(q(z|x) || p(z))`` per example, ``(batch,)``."""
        mu_p, log_sigma_p = self.params["prior_mu"], self.params["prior_log_sigma"]
        inv_var_p = torch.exp(-2.0 * log_sigma_p)
        kl = (
            log_sigma_p
            - log_sigma
            + 0.5 * (torch.exp(2.0 * log_sigma) + (mu - mu_p) ** 2) * inv_var_p
            - 0.5
        )
        return kl.sum(-1)

    def elbo_terms(self, x, epsilon=None):
        """``(expectation, kl)`` per example, ``(batch,)`` each, with one sample of z."""
        mu, log_sigma = self.encode(x)
        if epsilon is None:
            epsilon = torch.randn_like(mu)
        z = mu + torch.exp(log_sigma) * epsilon
        return self.bernoulli_log_likelihood(x, self.decode(z)), self.kl_divergence(mu, log_sigma)

    def loss(self, x, epsilon=None):
        """``-mean(ELBO)`` with one sample of z per example; ``x`` is ``(batch, 784)``."""
        expectation, kl = self.elbo_terms(x, epsilon)
        return -(expectation - kl).mean()

    @torch.no_grad()
    def monitor(self, x):
        """The monitor's three means on ``x``: ``(objective, kl, expectation)`` tensors."""
        expectation, kl = self.elbo_terms(x)
        return -(expectation - kl).mean(), kl.mean(), expectation.mean()

    # -- training and evaluation ----------------------------------------------------
    def step(self, x, epsilon=None):
        """One SGD step with classic momentum on the batch ``x``; returns the loss tensor."""
        loss = self.loss(x, epsilon)
        params = list(self.params.values())
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, v, g in zip(params, self.velocities.values(), grads, strict=True):
                v.mul_(self.momentum).sub_(g, alpha=self.learning_rate)
                p.add_(v)
        return loss.detach()

    @torch.no_grad()
    def log_likelihood(self, x, k):
        """Importance-sampled ``log p(x)`` with ``k`` samples of q(z|x), ``(batch,)``."""
        mu, log_sigma = self.encode(x)
        epsilon = torch.randn((k,) + tuple(mu.shape), device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(log_sigma) * epsilon  # (k, batch, 200)
        logits = self.decode(z)  # (k, batch, 784)
        prior = self.params["prior_mu"], self.params["prior_log_sigma"]
        log_weights = (
            self.gaussian_log_density(z, *prior)
            + self.bernoulli_log_likelihood(x, logits)
            - self.gaussian_log_density(z, mu, log_sigma)
        )
        return torch.logsumexp(log_weights, dim=0) - math.log(k)


class CompiledTorchVAE(TorchVAE):
    """:class:`TorchVAE` with its loss and its log-likelihood compiled by ``torch.compile``.

    The loss is compiled (TorchInductor, the default backend); its backward is compiled
    with it by AOTAutograd when :meth:`step` differentiates it. The momentum update is
    :class:`TorchVAE`'s. The noise of a step is drawn outside the compiled loss, so the
    step with and without an explicit ``epsilon`` runs the same compiled graph; the first
    call of each compiles (the benchmark's warm-up).
    """

    def __init__(self, values, device="cpu", momentum=0.05, learning_rate=1e-2):
        super().__init__(values, device, momentum, learning_rate)
        self._loss = torch.compile(functools.partial(TorchVAE.loss, self), dynamic=False)
        self._log_likelihood = torch.compile(
            functools.partial(TorchVAE.log_likelihood, self), dynamic=False
        )

    def loss(self, x, epsilon=None):
        if epsilon is None:
            shape = (x.shape[0], self.params["posterior_mu_b"].shape[0])
            epsilon = torch.randn(shape, device=x.device, dtype=x.dtype)
        return self._loss(x, epsilon)

    def log_likelihood(self, x, k):
        return self._log_likelihood(x, k)
