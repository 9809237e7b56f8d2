"""Small VAEs and batches for tests, and the tutorial model's parameter names.

Used by the test modules and by ``benchmarks/`` (the PyTorch twin names its tensors
after :data:`TUTORIAL_PARAM_NAMES`).
"""

import numpy

from pylearn_vae import backend
from pylearn_vae.models.mlp import MLP, RectifiedLinear
from pylearn_vae.models.vae import VAE
from pylearn_vae.models.vae.conditional import BernoulliVector, DiagonalGaussian
from pylearn_vae.models.vae.prior import DiagonalGaussianPrior

__all__ = ["TUTORIAL_PARAM_NAMES", "binary_batch", "host", "make_tutorial_vae", "make_vae"]

#: The tutorial VAE's parameter names, in the order of ``VAE.get_params()``.
TUTORIAL_PARAM_NAMES = (
    "posterior_h_e_1_W",
    "posterior_h_e_1_b",
    "posterior_log_sigma_W",
    "posterior_log_sigma_b",
    "posterior_mu_W",
    "posterior_mu_b",
    "conditional_h_d_1_W",
    "conditional_h_d_1_b",
    "conditional_h_d_2_W",
    "conditional_h_d_2_b",
    "conditional_mu_W",
    "conditional_mu_b",
    "prior_mu",
    "prior_log_sigma",
)


def make_vae(
    nvis=6,
    nhid=3,
    hidden=5,
    conditional="bernoulli",
    prior=None,
    posterior=None,
    irange=0.3,
    **kwargs,
):
    """A small VAE: one ReLU layer of ``hidden`` units in the encoder and in the decoder.

    Parameters
    ----------
    nvis, nhid, hidden : int
        Visible, latent and hidden sizes.
    conditional : {'bernoulli', 'gaussian'}
        ``BernoulliVector`` or ``DiagonalGaussian`` for ``p(x | z)``.
    prior, posterior : optional
        Replace the default ``DiagonalGaussianPrior`` / ``DiagonalGaussian`` posterior.
    irange : float
        Weights drawn uniformly from ``[-irange, irange]``.
    **kwargs
        Passed to :class:`VAE` (``seed``, ``learn_prior``, ...).
    """
    decoder = MLP(layers=[RectifiedLinear(dim=hidden, layer_name="h_d_1", irange=irange)])
    conditional_cls = BernoulliVector if conditional == "bernoulli" else DiagonalGaussian
    if posterior is None:
        encoder = MLP(layers=[RectifiedLinear(dim=hidden, layer_name="h_e_1", irange=irange)])
        posterior = DiagonalGaussian(mlp=encoder, name="posterior")
    return VAE(
        nvis=nvis,
        prior=DiagonalGaussianPrior() if prior is None else prior,
        conditional=conditional_cls(mlp=decoder, name="conditional"),
        posterior=posterior,
        nhid=nhid,
        **kwargs,
    )


def make_tutorial_vae(learn_prior=True):
    """The tutorial's architecture: 784-200-200 encoder/decoder, nhid 200."""
    encoder = MLP(layers=[RectifiedLinear(dim=200, layer_name="h_e_1", irange=0.001)])
    decoder = MLP(
        layers=[
            RectifiedLinear(dim=200, layer_name="h_d_1", irange=0.001),
            RectifiedLinear(dim=200, layer_name="h_d_2", irange=0.001),
        ]
    )
    return VAE(
        nvis=784,
        prior=DiagonalGaussianPrior(),
        conditional=BernoulliVector(mlp=decoder, name="conditional"),
        posterior=DiagonalGaussian(mlp=encoder, name="posterior"),
        nhid=200,
        learn_prior=learn_prior,
    )


def host(a):
    """A float64 NumPy copy of ``a``, wherever it lives."""
    return numpy.asarray(backend.to_host(a), dtype=float)


def binary_batch(batch=4, nvis=6, seed=0):
    """A ``(batch, nvis)`` floatX batch of 0s and 1s on the current device."""
    rng = numpy.random.RandomState(seed)
    return backend.asarray(rng.uniform(size=(batch, nvis)) < 0.5)
