"""The VAE's maths against independent closed forms, Monte Carlo and finite differences.

Densities are checked against ``scipy.stats``; the two criteria against each other
(lower bound <= importance-sampled log-likelihood <= 0, equality at one sample on the
same noise, monotone in the number of samples); gradients of both criteria against
central finite differences in float64, with the noise fixed by re-seeding the streams.
"""

import numpy
import pytest
from scipy import special, stats

from pylearn_vae import backend
from pylearn_vae.costs.vae import ImportanceSamplingCriterion, VAECriterion
from pylearn_vae.testing.vae import binary_batch, host, make_vae


def set_prior(vae, seed=0):
    rng = numpy.random.RandomState(seed)
    vae.prior.prior_mu.set_value(rng.normal(size=vae.nhid))
    vae.prior.log_prior_sigma.set_value(rng.uniform(-0.5, 0.5, size=vae.nhid))


def randomize(vae, scale=1.0, seed=0):
    """Every parameter (biases and prior included) drawn from N(0, scale^2)."""
    rng = numpy.random.RandomState(seed)
    for p in vae.get_params():
        p.set_value(rng.normal(scale=scale, size=p.shape))


# -- log-densities against scipy.stats ------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 4), (3, 5, 4)])
def test_bernoulli_log_conditional_matches_scipy(shape):
    vae = make_vae(nvis=4)
    rng = numpy.random.RandomState(0)
    x = (rng.uniform(size=shape) < 0.5).astype("float32")
    logits = rng.normal(scale=3.0, size=shape[-2:]).astype("float32")  # broadcast over S
    got = host(vae.conditional.log_conditional(backend.asarray(x), (backend.asarray(logits),)))
    expected = stats.bernoulli.logpmf(x, special.expit(logits.astype(float))).sum(axis=-1)
    assert got.shape == shape[:-1]
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 4), (3, 5, 4)])
def test_diagonal_gaussian_log_conditional_matches_scipy(shape):
    vae = make_vae(nvis=4, conditional="gaussian")
    rng = numpy.random.RandomState(1)
    x = rng.normal(size=shape)
    mu, log_sigma = rng.normal(size=shape[-2:]), rng.uniform(-1, 1, size=shape[-2:])
    got = host(vae.conditional.log_conditional(*map(backend.asarray, (x, (mu, log_sigma)))))
    expected = stats.norm.logpdf(x, mu, numpy.exp(log_sigma)).sum(axis=-1)
    assert got.shape == shape[:-1]
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 3), (2, 5, 3)])
def test_prior_log_density_matches_scipy(shape):
    vae = make_vae(nhid=3)
    set_prior(vae)
    z = numpy.random.RandomState(2).normal(size=shape)
    got = host(vae.log_p_z(backend.asarray(z)))
    mu, log_sigma = (host(t) for t in vae.get_prior_theta())
    expected = stats.norm.logpdf(z, mu, numpy.exp(log_sigma)).sum(axis=-1)
    assert got.shape == shape[:-1]
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_prior_samples_follow_the_prior():
    vae = make_vae(nhid=3)
    set_prior(vae)
    z = host(vae.sample_from_p_z(40000))
    mu, log_sigma = (host(t) for t in vae.get_prior_theta())
    sigma = numpy.exp(log_sigma)
    assert z.shape == (40000, 3)
    assert numpy.all(numpy.abs(z.mean(axis=0) - mu) < 5 * sigma / numpy.sqrt(40000))
    numpy.testing.assert_allclose(z.std(axis=0), sigma, rtol=0.03)


def test_posterior_samples_use_the_reparametrization():
    vae = make_vae()
    phi = vae.encode_phi(binary_batch(4))
    epsilon = vae.sample_from_epsilon((7, 4, vae.nhid))
    z = host(vae.sample_from_q_z_given_x(epsilon, phi))
    expected = host(phi[0])[None] + numpy.exp(host(phi[1]))[None] * host(epsilon)
    assert z.shape == (7, 4, vae.nhid)
    numpy.testing.assert_allclose(z, expected, rtol=1e-6)


# -- the criteria ---------------------------------------------------------------------------
def sensitive_vae(**kwargs):
    """A VAE whose decoder depends strongly on z, so q(z|x) is far from p(z|x)."""
    vae = make_vae(nvis=10, nhid=2, hidden=8, **kwargs)
    randomize(vae, scale=0.3, seed=1)
    return vae


def test_importance_sampling_with_one_sample_is_the_lower_bound_on_the_same_noise():
    vae = sensitive_vae()
    set_prior(vae)
    X = binary_batch(6, nvis=10)
    vae.set_noise_seed(5)
    lower_bound = host(vae.log_likelihood_lower_bound(X, 1, approximate_kl=True))
    vae.set_noise_seed(5)
    approximation = host(vae.log_likelihood_approximation(X, 1))
    numpy.testing.assert_allclose(approximation, lower_bound, rtol=1e-5, atol=1e-5)
    vae.set_noise_seed(6)  # another noise gives another value: the check is not vacuous
    assert not numpy.allclose(host(vae.log_likelihood_approximation(X, 1)), lower_bound)


def test_lower_bound_below_importance_sampling_below_zero():
    vae = sensitive_vae()
    X = binary_batch(50, nvis=10)
    lower_bound = host(vae.log_likelihood_lower_bound(X, 200))
    approximation = host(vae.log_likelihood_approximation(X, 200))
    assert numpy.all(approximation < 0)
    gap = approximation - lower_bound
    assert gap.mean() > 5 * gap.std() / numpy.sqrt(gap.size)


def test_importance_sampling_estimate_increases_with_the_number_of_samples():
    vae = sensitive_vae()
    X = binary_batch(200, nvis=10)
    means = [host(vae.log_likelihood_approximation(X, k)).mean() for k in (1, 10, 100)]
    assert means[0] < means[1] < means[2] < 0


def test_monte_carlo_kl_agrees_with_the_analytic_kl():
    vae = sensitive_vae()
    set_prior(vae)
    X = binary_batch(5, nvis=10)
    phi = vae.encode_phi(X)
    analytic = host(vae.kl_divergence_term(phi, vae.get_prior_theta()))
    epsilon = vae.sample_from_epsilon((20000, 5, vae.nhid))
    z = vae.sample_from_q_z_given_x(epsilon, phi)
    log_ratio = host(vae.log_q_z_given_x(z, phi) - vae.log_p_z(z))
    monte_carlo = host(vae.kl_divergence_term(phi, None, approximate=True, epsilon=epsilon))
    numpy.testing.assert_allclose(monte_carlo, log_ratio.mean(axis=0), rtol=1e-5)
    standard_error = log_ratio.std(axis=0) / numpy.sqrt(20000)
    assert numpy.all(numpy.abs(monte_carlo - analytic) < 5 * standard_error)
    # and through the lower bound, averaged over the batch
    kl_mc, _ = vae.log_likelihood_lower_bound(
        X, 2000, approximate_kl=True, return_individual_terms=True
    )
    kl, _ = vae.log_likelihood_lower_bound(X, 1, return_individual_terms=True)
    numpy.testing.assert_allclose(host(kl), analytic, rtol=1e-5)
    assert abs(host(kl_mc).mean() - analytic.mean()) < 0.05 * analytic.mean() + 0.01


def test_monte_carlo_kl_needs_epsilon():
    vae = make_vae()
    with pytest.raises(ValueError, match="epsilon"):
        vae.kl_divergence_term(vae.encode_phi(binary_batch()), None, approximate=True)


def test_lower_bound_is_expectation_minus_kl():
    vae = make_vae()
    X = binary_batch(4)
    vae.set_noise_seed(3)
    kl, expectation = vae.log_likelihood_lower_bound(X, 5, return_individual_terms=True)
    vae.set_noise_seed(3)
    lower_bound = vae.log_likelihood_lower_bound(X, 5)
    numpy.testing.assert_allclose(host(lower_bound), host(expectation) - host(kl), rtol=1e-6)
    # the expectation by hand, on the same noise
    vae.set_noise_seed(3)
    epsilon = vae.sample_from_epsilon((5, 4, vae.nhid))
    phi = vae.encode_phi(X)
    z = host(vae.sample_from_q_z_given_x(epsilon, phi))
    logits = numpy.stack([host(vae.decode_theta(backend.asarray(zs))[0]) for zs in z])
    by_hand = stats.bernoulli.logpmf(host(X)[None], special.expit(logits)).sum(-1).mean(0)
    numpy.testing.assert_allclose(host(expectation), by_hand, rtol=1e-4)


# -- gradients against finite differences -------------------------------------------------------
def finite_difference_check(cost, vae, X, seed=11, h=1e-6):
    vae.set_noise_seed(seed)
    value, grads, _ = cost.get_value_and_gradients(vae, X)
    assert list(grads) == vae.get_params()
    for param, grad in grads.items():
        assert grad.shape == param.shape and grad.dtype == numpy.float64, param.name
        original = param.get_value()
        numeric = numpy.zeros(original.shape)
        for index in numpy.ndindex(original.shape):
            values = []
            for step in (h, -h):
                shifted = original.copy()
                shifted[index] += step
                param.set_value(shifted)
                vae.set_noise_seed(seed)
                values.append(float(cost.expr(vae, X)))
            numeric[index] = (values[0] - values[1]) / (2 * h)
        param.set_value(original)
        numpy.testing.assert_allclose(
            host(grad), numeric, rtol=1e-5, atol=1e-7, err_msg=param.name
        )
        assert numpy.abs(numeric).max() > 0, f"{param.name} has a zero gradient"
    return value


@pytest.mark.parametrize("conditional", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("cost_class", [VAECriterion, ImportanceSamplingCriterion])
def test_gradients_match_finite_differences(float64, cost_class, conditional):
    vae = make_vae(nvis=4, nhid=2, hidden=3, conditional=conditional)
    randomize(vae, scale=0.4)  # no bias at 0, so no ReLU sits on its kink
    assert {p.dtype for p in vae.get_params()} == {numpy.dtype("float64")}
    if conditional == "bernoulli":
        X = binary_batch(3, nvis=4)
    else:
        X = backend.asarray(numpy.random.RandomState(4).normal(size=(3, 4)))
    value = finite_difference_check(cost_class(num_samples=3), vae, X)
    assert value.dtype == numpy.float64
