"""The tutorial VAE and its training step in JAX, compiled with ``jax.jit``.

A peer of ``benchmarks/torch_vae.py`` for ``benchmarks/bench_vae.py``: the same model,
criterion and update as ``yaml_examples/vae_mnist10k.yaml``, written the way a JAX user
would, as pure functions of a parameter dict:

- encoder ``x (784) -> h = relu(x W_e + b_e) (200) -> mu, log_sigma`` (two linear heads);
- ``z = mu + exp(log_sigma) * epsilon``;
- decoder ``z (200) -> relu (200) -> relu (200) -> logits (784)``;
- ``log p(x|z)`` Bernoulli from logits, ``KL(q(z|x) || p(z))`` analytic to a learnable
  diagonal Gaussian prior ``N(prior_mu, exp(prior_log_sigma)^2)``;
- loss ``-mean(ELBO)``; classic momentum: ``v = mu v - lr g; p = p + v``.

The whole step (loss, gradient, momentum update) is one ``jax.jit``-compiled function
taking and returning the parameters and velocities (their buffers donated), and the
importance-sampled log-likelihood is another. The noise comes from ``jax.random`` with a
key carried in the object's state. Everything is float32 (x64 is switched off on import).

JAX is a benchmark-only dependency (``pip install '.[bench]'``); nothing in
``pylearn_vae`` or ``tests`` imports this module unless JAX is installed.
"""

import functools
import math

import jax
import jax.numpy as jnp

from pylearn_vae.testing.vae import TUTORIAL_PARAM_NAMES as PARAM_NAMES

jax.config.update("jax_enable_x64", False)

__all__ = ["PARAM_NAMES", "JaxVAE"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# -- the model, as pure functions of the parameter dict ----------------------------------
def encode(p, x):
    """``(mu, log_sigma)`` of q(z|x), each ``(batch, 200)``."""
    h = jax.nn.relu(x @ p["posterior_h_e_1_W"] + p["posterior_h_e_1_b"])
    mu = h @ p["posterior_mu_W"] + p["posterior_mu_b"]
    log_sigma = h @ p["posterior_log_sigma_W"] + p["posterior_log_sigma_b"]
    return mu, log_sigma


def decode(p, z):
    """Bernoulli logits ``(..., 784)`` of p(x|z) for ``z`` of shape ``(..., 200)``."""
    h = jax.nn.relu(z @ p["conditional_h_d_1_W"] + p["conditional_h_d_1_b"])
    h = jax.nn.relu(h @ p["conditional_h_d_2_W"] + p["conditional_h_d_2_b"])
    return h @ p["conditional_mu_W"] + p["conditional_mu_b"]


def bernoulli_log_likelihood(x, logits):
    """``sum_d log p(x_d | logits_d) = sum_d x_d l_d - softplus(l_d)``, over the last axis."""
    return (x * logits - jax.nn.softplus(logits)).sum(-1)


def gaussian_log_density(z, mu, log_sigma):
    """``sum_d log N(z_d; mu_d, exp(log_sigma_d)^2)``, over the last axis."""
    standardized = (z - mu) * jnp.exp(-log_sigma)
    return (-_HALF_LOG_2PI - log_sigma - 0.5 * standardized * standardized).sum(-1)


def kl_divergence(p, mu, log_sigma):
    """``KL(q(z|x) || p(z))`` per example, ``(batch,)``."""
    mu_p, log_sigma_p = p["prior_mu"], p["prior_log_sigma"]
    inv_var_p = jnp.exp(-2.0 * log_sigma_p)
    kl = log_sigma_p - log_sigma + 0.5 * (jnp.exp(2.0 * log_sigma) + (mu - mu_p) ** 2) * inv_var_p
    return (kl - 0.5).sum(-1)


def loss(p, x, epsilon):
    """``-mean(ELBO)`` with the sample ``z = mu + sigma * epsilon`` per example."""
    mu, log_sigma = encode(p, x)
    z = mu + jnp.exp(log_sigma) * epsilon
    expectation = bernoulli_log_likelihood(x, decode(p, z))
    return -(expectation - kl_divergence(p, mu, log_sigma)).mean()


def _momentum_step(params, velocities, x, epsilon, momentum, learning_rate):
    value, grads = jax.value_and_grad(loss)(params, x, epsilon)
    velocities = jax.tree.map(lambda v, g: momentum * v - learning_rate * g, velocities, grads)
    params = jax.tree.map(lambda w, v: w + v, params, velocities)
    return params, velocities, value


@functools.partial(jax.jit, static_argnames=("momentum", "learning_rate"), donate_argnums=(0, 1))
def step_with_noise(params, velocities, x, epsilon, momentum, learning_rate):
    """One momentum step on the given noise: ``(params, velocities, loss)``."""
    return _momentum_step(params, velocities, x, epsilon, momentum, learning_rate)


@functools.partial(jax.jit, static_argnames=("momentum", "learning_rate"), donate_argnums=(0, 1))
def step(params, velocities, key, x, momentum, learning_rate):
    """One momentum step drawing its noise from ``key``: ``(params, velocities, loss)``."""
    epsilon = jax.random.normal(key, (x.shape[0], params["posterior_mu_b"].shape[0]), x.dtype)
    return _momentum_step(params, velocities, x, epsilon, momentum, learning_rate)


@functools.partial(jax.jit, static_argnames=("k",))
def log_likelihood(params, key, x, k):
    """Importance-sampled ``log p(x)`` with ``k`` samples of q(z|x), ``(batch,)``."""
    mu, log_sigma = encode(params, x)
    epsilon = jax.random.normal(key, (k,) + mu.shape, mu.dtype)
    z = mu + jnp.exp(log_sigma) * epsilon  # (k, batch, 200)
    log_weights = (
        gaussian_log_density(z, params["prior_mu"], params["prior_log_sigma"])
        + bernoulli_log_likelihood(x, decode(params, z))
        - gaussian_log_density(z, mu, log_sigma)
    )
    return jax.scipy.special.logsumexp(log_weights, axis=0) - math.log(k)


class JaxVAE:
    """The parameters, velocities and random key, with the jitted step and IS likelihood.

    Parameters
    ----------
    values : dict {name: array}
        Initial values under the names of :data:`PARAM_NAMES`; weights are ``(in, out)``.
    momentum : float
        Pylearn2's ``mu``.
    learning_rate : float
    seed : int
        Seed of the ``jax.random`` key carried from call to call.
    """

    def __init__(self, values, momentum=0.05, learning_rate=1e-2, seed=0):
        self.params = {n: jnp.array(values[n], dtype=jnp.float32) for n in PARAM_NAMES}
        self.velocities = {n: jnp.zeros_like(p) for n, p in self.params.items()}
        self.momentum = float(momentum)
        self.learning_rate = float(learning_rate)
        self.key = jax.random.key(seed)

    def _next_key(self):
        self.key, key = jax.random.split(self.key)
        return key

    def step(self, x, epsilon=None):
        """One step on the batch ``x`` ``(batch, 784)``; waits for it and returns the loss.

        Waiting (as a training loop reading the loss does) keeps the times comparable with
        the synchronous frameworks.
        """
        rule = {"momentum": self.momentum, "learning_rate": self.learning_rate}
        if epsilon is None:
            out = step(self.params, self.velocities, self._next_key(), x, **rule)
        else:
            out = step_with_noise(self.params, self.velocities, x, epsilon, **rule)
        self.params, self.velocities, value = out
        return value.block_until_ready()

    def log_likelihood(self, x, k):
        """Importance-sampled ``log p(x)`` with ``k`` samples, ``(batch,)``, computed."""
        return log_likelihood(self.params, self._next_key(), x, k).block_until_ready()
