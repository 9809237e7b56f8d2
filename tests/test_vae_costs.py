"""The VAE's training criteria (``pylearn2/costs/vae.py``)."""

import os

import numpy
import pytest

from pylearn_vae import backend
from pylearn_vae.costs.vae import ImportanceSamplingCriterion, VAECriterion
from pylearn_vae.space import VectorSpace
from pylearn_vae.testing.vae import binary_batch, host, make_tutorial_vae, make_vae

CRITERIA = [VAECriterion, ImportanceSamplingCriterion]
MNIST = os.path.join(os.path.dirname(__file__), os.pardir, "data", "mnist10k.npz")


@pytest.mark.parametrize("cost_class", CRITERIA)
@pytest.mark.parametrize("num_samples", [0, -1, 1.5, True, "2", None])
def test_bad_num_samples_is_refused(cost_class, num_samples):
    with pytest.raises(ValueError, match=f"{cost_class.__name__}: num_samples"):
        cost_class(num_samples=num_samples)


@pytest.mark.parametrize("cost_class", CRITERIA)
def test_num_samples_is_stored_as_int(cost_class):
    cost = cost_class(num_samples=numpy.int64(3))
    assert cost.num_samples == 3 and type(cost.num_samples) is int
    assert cost.supervised is False and cost.is_stochastic() is True


@pytest.mark.parametrize("cost_class", CRITERIA)
def test_data_specs_and_validation(cost_class):
    vae = make_vae(nvis=6)
    cost = cost_class(num_samples=2)
    assert cost.get_data_specs(vae) == (VectorSpace(dim=6), "features")
    with pytest.raises(ValueError):
        cost.expr(vae, binary_batch(4, nvis=5))


def test_vae_criterion_is_minus_the_mean_lower_bound():
    vae = make_vae()
    X = binary_batch(5)
    vae.set_noise_seed(1)
    value = host(VAECriterion(num_samples=4).expr(vae, X))
    vae.set_noise_seed(1)
    lower_bound = host(vae.log_likelihood_lower_bound(X, 4))
    assert value.shape == ()
    assert value == pytest.approx(-lower_bound.mean(), rel=1e-6)


def test_importance_sampling_criterion_is_minus_the_mean_estimate():
    vae = make_vae()
    X = binary_batch(5)
    vae.set_noise_seed(1)
    value = host(ImportanceSamplingCriterion(num_samples=4).expr(vae, X))
    vae.set_noise_seed(1)
    estimate = host(vae.log_likelihood_approximation(X, 4))
    assert value == pytest.approx(-estimate.mean(), rel=1e-6)


def test_vae_criterion_channels():
    vae = make_vae()
    X = binary_batch(5)
    cost = VAECriterion(num_samples=3)
    vae.set_noise_seed(2)
    channels = cost.get_monitoring_channels(vae, X)
    assert list(channels) == ["kl_divergence_term", "expectation_term"]
    # The KL is analytic, so noise-free; the expectation term is minus E_q log p(x|z).
    kl = host(vae.kl_divergence_term(vae.encode_phi(X), vae.get_prior_theta()))
    assert host(channels["kl_divergence_term"]) == pytest.approx(kl.mean(), rel=1e-5)
    vae.set_noise_seed(2)
    _, expectation = vae.log_likelihood_lower_bound(X, 3, return_individual_terms=True)
    assert host(channels["expectation_term"]) == pytest.approx(-host(expectation).mean(), 1e-5)
    assert host(channels["expectation_term"]) > 0
    vae.set_noise_seed(2)
    assert host(channels["expectation_term"]) + host(channels["kl_divergence_term"]) == (
        pytest.approx(host(cost.expr(vae, X)), rel=1e-5)
    )
    with pytest.raises(ValueError):
        cost.get_monitoring_channels(vae, binary_batch(4, nvis=5))


def test_importance_sampling_criterion_has_no_channels():
    vae = make_vae()
    assert dict(ImportanceSamplingCriterion(2).get_monitoring_channels(vae, binary_batch())) == {}


@pytest.fixture(scope="module")
def mnist_batch():
    return numpy.load(MNIST)["train"][:200].astype("float32")


@pytest.mark.parametrize("cost_class", CRITERIA)
def test_tutorial_model_on_mnist_is_float32_with_finite_gradients(cost_class, mnist_batch):
    vae = make_tutorial_vae()
    X = backend.asarray(mnist_batch)
    assert X.dtype == numpy.float32 and X.shape == (200, 784)
    value, grads, updates = cost_class(num_samples=1).get_value_and_gradients(vae, X)
    assert value.dtype == numpy.float32
    # An untrained decoder gives sigmoid(~0) = 1/2 for every pixel: 784 log 2 nats.
    assert float(value) == pytest.approx(784 * numpy.log(2), rel=0.05)
    assert list(grads) == vae.get_params() and dict(updates) == {}
    for param, grad in grads.items():
        assert grad.dtype == numpy.float32 and grad.shape == param.shape, param.name
        assert numpy.all(numpy.isfinite(host(grad))), param.name
    assert numpy.abs(host(grads[vae.get_params()[-3]])).max() > 0  # conditional_mu_b


def test_a_few_sgd_steps_reduce_the_cost_on_mnist(mnist_batch):
    vae = make_vae(nvis=784, nhid=5, hidden=20, irange=0.05)
    X = backend.asarray(mnist_batch[:50])
    cost = VAECriterion(num_samples=1)
    vae.set_noise_seed(0)
    before = float(cost.expr(vae, X))
    for _ in range(20):
        grads, _ = cost.get_gradients(vae, X)
        for p, g in grads.items():
            p.set_value(p.get_value() - 0.01 * g)
    vae.set_noise_seed(0)
    after = float(cost.expr(vae, X))
    assert after < before - 15, (before, after)
