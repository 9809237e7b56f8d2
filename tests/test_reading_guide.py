"""docs/reading.md points at functions that exist and compute what it says they do."""

import inspect
import pathlib
import re

import numpy as np

from pylearn_vae import ops
from pylearn_vae.costs import vae as costs
from pylearn_vae.costs.cost import Cost
from pylearn_vae.models import mlp
from pylearn_vae.models.vae import VAE, conditional, kl, prior
from pylearn_vae.testing.vae import make_vae

REPO = pathlib.Path(__file__).resolve().parent.parent
GUIDE = (REPO / "docs" / "reading.md").read_text()
CLASSES = {
    cls.__name__: cls
    for module in (conditional, kl, prior, mlp, costs)
    for cls in vars(module).values()
    if inspect.isclass(cls)
}
CLASSES["VAE"] = VAE
CLASSES["Cost"] = Cost


def test_every_path_it_names_exists():
    paths = set(re.findall(r"`((?:pylearn_vae|tests|docs|bin)/[\w/.]+)`", GUIDE))
    assert len(paths) > 10
    for path in paths:
        assert (REPO / path).exists(), f"docs/reading.md names {path}, which does not exist"


def test_every_op_it_names_is_an_op():
    names = set(re.findall(r"`ops\.(\w+)`", GUIDE))
    assert {"bernoulli_log_likelihood", "diagonal_gaussian_kl", "reparametrize"} <= names
    for name in names:
        assert callable(getattr(ops, name, None)), f"docs/reading.md names ops.{name}"


def test_every_method_it_names_exists():
    methods = set(re.findall(r"`(\w+)\.(\w+)`", GUIDE)) - {("backend", "RandomStreams")}
    checked = 0
    for owner, name in methods:
        if owner in ("ops", "backend"):
            continue
        cls = CLASSES.get(owner)
        assert cls is not None, f"docs/reading.md names {owner}.{name}: no class {owner}"
        assert hasattr(cls, name), f"docs/reading.md names {owner}.{name}, which is missing"
        checked += 1
    assert checked > 10


def test_the_lower_bound_is_the_expectation_minus_the_kl_it_describes():
    vae = make_vae()
    X = (np.random.RandomState(0).rand(4, vae.nvis) > 0.5).astype("float64")
    vae.set_noise_seed(1)
    bound = vae.log_likelihood_lower_bound(X, 3)
    vae.set_noise_seed(1)
    epsilon, phi, z, theta = vae.encode_and_decode(X, 3)
    expectation = ops.bernoulli_log_likelihood(X, theta[0]).mean(axis=0)
    (mu_q, log_sigma_q), (mu_p, log_sigma_p) = phi, vae.get_prior_theta()
    divergence = ops.diagonal_gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p).sum(axis=1)
    np.testing.assert_allclose(bound, expectation - divergence, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(z, mu_q + np.exp(log_sigma_q) * epsilon, rtol=1e-6)
