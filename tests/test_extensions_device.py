"""The extensions on the 'gpu' device (the NumPy-backed CuPy stand-in of
tests/fake_cupy.py): same numbers as the CPU on the same noise, arrays kept on the
device from the parameters to the gradients -- the device seam holds for them too."""

import warnings

import numpy as np
import pytest
from fake_cupy import FakeGPUArray
from test_gpu_emulated import FixedNoise, assert_same_on_the_device

from pylearn_vae import backend
from pylearn_vae.costs.vae import ImportanceSamplingCriterion, VAECriterion
from pylearn_vae.models.mlp import MLP, RectifiedLinear
from pylearn_vae.models.vae import VAE
from pylearn_vae.models.vae.conditional import DiagonalGaussian
from pylearn_vae.models.vae.prior import DiagonalGaussianPrior
from pylearn_vae.models.vae_extensions.continuous_bernoulli import ContinuousBernoulli
from pylearn_vae.models.vae_extensions.laplace import Laplace, LaplacePrior
from pylearn_vae.models.vae_extensions.mixture import MixtureOfGaussiansPrior, VampPrior
from pylearn_vae.testing.vae import make_vae


def _mlp(name):
    return MLP(layers=[RectifiedLinear(dim=5, layer_name=name, irange=0.3)])


BUILDERS = {
    "mixture": lambda: make_vae(prior=MixtureOfGaussiansPrior(3)),
    "vamp": lambda: make_vae(prior=VampPrior(3, init_mean=0.5, init_std=0.1)),
    "laplace": lambda: make_vae(prior=LaplacePrior(),
                                posterior=Laplace(mlp=_mlp("h_e_1"), name="posterior")),
    "continuous_bernoulli": lambda: VAE(
        nvis=6, nhid=3, prior=DiagonalGaussianPrior(),
        conditional=ContinuousBernoulli(mlp=_mlp("h_d_1"), name="conditional"),
        posterior=DiagonalGaussian(mlp=_mlp("h_e_1"), name="posterior"),
    ),
}


def _run(device, name, X):
    backend.set_device(device)
    vae = BUILDERS[name]()
    for seed, part in enumerate((vae.prior, vae.conditional, vae.posterior)):
        part.noise = FixedNoise(seed)
    X = backend.asarray(X)
    out = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no KLIntegrator", category=UserWarning)
        for cost in (VAECriterion(num_samples=2), ImportanceSamplingCriterion(num_samples=2)):
            value, grads, _ = cost.get_value_and_gradients(vae, X)
            out[type(cost).__name__] = (value, grads)
    samples = vae.sample(4)[0]
    return vae, out, samples


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_extension_criteria_and_gradients_match_the_cpu_on_the_device(fake_gpu, name):  # noqa: F811
    X = np.random.RandomState(5).uniform(size=(7, 6))
    if name != "continuous_bernoulli":
        X = (X < 0.5) * 1.0
    _, on_cpu, _ = _run("cpu", name, X)
    vae, on_gpu, samples = _run("gpu", name, X)
    assert type(samples) is FakeGPUArray
    assert_same_on_the_device(vae, on_gpu, on_cpu, rtol=1e-10, grad_rtol=1e-8)
