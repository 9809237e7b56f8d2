"""The extensions' maths: mixture priors, the VampPrior, the continuous Bernoulli, the
Laplace pair and its KL, against scipy, quadrature, Monte Carlo and finite differences.
"""

import warnings

import autograd
import numpy
import pytest
from scipy import integrate, special, stats

from pylearn_vae import backend
from pylearn_vae.costs.vae import ImportanceSamplingCriterion, VAECriterion
from pylearn_vae.models.mlp import MLP, RectifiedLinear
from pylearn_vae.models.model import bind
from pylearn_vae.models.vae import VAE
from pylearn_vae.models.vae.conditional import DiagonalGaussian
from pylearn_vae.models.vae.kl import DiagonalGaussianPriorPosteriorKL, find_integrator_for
from pylearn_vae.models.vae.prior import DiagonalGaussianPrior
from pylearn_vae.models.vae_extensions.continuous_bernoulli import (
    CB_TAYLOR_THRESHOLD,
    ContinuousBernoulli,
    continuous_bernoulli_inverse_cdf,
    continuous_bernoulli_log_normalizer,
    continuous_bernoulli_mean,
)
from pylearn_vae.models.vae_extensions.laplace import (
    Laplace,
    LaplaceKL,
    LaplacePrior,
    laplace_kl,
    laplace_log_density,
)
from pylearn_vae.models.vae_extensions.mixture import (
    MixtureOfGaussiansPrior,
    VampPrior,
    mixture_log_density,
    sample_mixture,
)
from pylearn_vae.testing.vae import binary_batch, host, make_vae


def encoder(hidden=5):
    return MLP(layers=[RectifiedLinear(dim=hidden, layer_name="h_e_1", irange=0.3)])


def randomize(params, scale=0.5, seed=0):
    rng = numpy.random.RandomState(seed)
    for p in params:
        p.set_value(rng.normal(scale=scale, size=p.shape))


def numeric_gradient(f, x, h=1e-6):
    """Central finite differences of the scalar ``f`` at the float64 array ``x``."""
    out = numpy.zeros_like(x)
    for index in numpy.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        out[index] = (f(up) - f(down)) / (2 * h)
    return out


def param_gradients_match(vae, objective, seed=3):
    """Autograd's gradient of ``objective(vae)`` w.r.t. every parameter vs. finite
    differences (float64, the noise re-seeded for each evaluation)."""
    params = vae.get_params()

    def value_of(values):
        with bind(params, values):
            vae.set_noise_seed(seed)
            return objective(vae)

    values = [p.get_value() for p in params]
    grads = autograd.grad(value_of)(values)
    for i, p in enumerate(params):

        def shifted(x, i=i):
            return float(value_of(values[:i] + [x] + values[i + 1 :]))

        numeric = numeric_gradient(shifted, values[i])
        numpy.testing.assert_allclose(grads[i], numeric, rtol=1e-5, atol=1e-7, err_msg=p.name)
    return {p.name: g for p, g in zip(params, grads, strict=True)}


# -- the mixture of Gaussians ---------------------------------------------------------------
def mog_vae(K=3, nhid=2, seed=0, **kwargs):
    vae = make_vae(nvis=4, nhid=nhid, hidden=3, prior=MixtureOfGaussiansPrior(K), **kwargs)
    rng = numpy.random.RandomState(seed)
    prior = vae.prior
    prior.mixture_mu.set_value(rng.normal(scale=2.0, size=(K, nhid)))
    prior.mixture_log_sigma.set_value(rng.uniform(-0.7, 0.3, size=(K, nhid)))
    prior.mixture_logits.set_value(rng.normal(size=K))
    return vae


def mog_parameters(prior):
    weights = special.softmax(host(prior.mixture_logits.value))
    return weights, host(prior.mixture_mu.value), numpy.exp(host(prior.mixture_log_sigma.value))


def test_mixture_density_matches_scipy():
    vae = mog_vae()
    weights, mu, sigma = mog_parameters(vae.prior)
    z = numpy.random.RandomState(1).normal(scale=2.0, size=(4, 5, 2))
    by_hand = sum(
        w * stats.multivariate_normal(m, numpy.diag(s**2)).pdf(z)
        for w, m, s in zip(weights, mu, sigma, strict=True)
    )
    got = host(vae.prior.log_p_z(backend.asarray(z)))
    assert got.shape == (4, 5)
    numpy.testing.assert_allclose(got, numpy.log(by_hand), rtol=1e-4)


def test_mixture_log_density_is_the_log_of_the_weighted_gaussian_densities(float64):
    rng = numpy.random.RandomState(3)
    z, mu, log_sigma = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    log_weights = numpy.log(special.softmax(rng.normal(size=5)))
    by_hand = special.logsumexp(
        stats.norm(mu, numpy.exp(log_sigma)).logpdf(z[..., None, :]).sum(axis=-1) + log_weights,
        axis=-1,
    )
    numpy.testing.assert_allclose(mixture_log_density(z, log_weights, mu, log_sigma), by_hand,
                                  rtol=1e-12)
    args = [z, log_weights, mu, log_sigma]
    for i in range(4):
        def f(x, i=i):
            return mixture_log_density(*args[:i], x, *args[i + 1:]).sum()
        numpy.testing.assert_allclose(autograd.grad(f)(args[i]), numeric_gradient(f, args[i]),
                                      rtol=1e-6, atol=1e-8)


def test_mixture_density_integrates_to_one_in_one_dimension(float64):
    vae = mog_vae(nhid=1)
    total, _ = integrate.quad(
        lambda t: float(numpy.exp(host(vae.prior.log_p_z(numpy.array([[t]])))[0])), -30, 30
    )
    assert total == pytest.approx(1.0, abs=1e-8)


def test_mixture_samples_have_the_mixture_moments():
    vae = mog_vae()
    weights, mu, sigma = mog_parameters(vae.prior)
    z = host(vae.prior.sample_from_p_z(200_000))
    assert z.shape == (200_000, 2)
    mean = weights @ mu
    variance = weights @ (sigma**2 + mu**2) - mean**2
    numpy.testing.assert_allclose(z.mean(axis=0), mean, atol=0.03)
    numpy.testing.assert_allclose(z.var(axis=0), variance, rtol=0.03)


def test_sample_mixture_picks_components_by_weight():
    noise = backend.RandomStreams(5)
    mu = backend.asarray([[-100.0], [0.0], [100.0]])
    weights = backend.asarray([0.2, 0.5, 0.3])
    z = host(sample_mixture(noise, 100_000, weights, mu, backend.asarray(numpy.zeros((3, 1)))))
    counts = numpy.array([(z < -50).mean(), (abs(z) < 50).mean(), (z > 50).mean()])
    numpy.testing.assert_allclose(counts, [0.2, 0.5, 0.3], atol=0.01)


def test_mixture_prior_has_no_integrator_and_the_vae_falls_back_to_monte_carlo():
    vae = mog_vae()
    assert find_integrator_for(vae.prior, vae.posterior) is None and vae.kl_integrator is None
    X = binary_batch(6, nvis=4)
    phi = vae.encode_phi(X)
    epsilon = vae.sample_from_epsilon((3, 6, 2))
    with pytest.warns(UserWarning, match="estimated by Monte Carlo"):
        kl = host(vae.kl_divergence_term(phi, vae.get_prior_theta(), epsilon=epsilon))
    z = vae.sample_from_q_z_given_x(epsilon=epsilon, phi=phi)
    by_hand = host(vae.log_q_z_given_x(z, phi) - vae.log_p_z(z)).mean(axis=0)
    numpy.testing.assert_allclose(kl, by_hand, rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once only
        vae.kl_divergence_term(phi, vae.get_prior_theta(), epsilon=epsilon)


def test_mixture_monte_carlo_kl_is_unbiased(float64):
    """Many samples of log q - log p converge to the KL computed by quadrature."""
    vae = mog_vae(nhid=1)
    X = binary_batch(2, nvis=4)
    phi = vae.encode_phi(X)
    with pytest.warns(UserWarning):
        kl = host(vae.kl_divergence_term(phi, vae.get_prior_theta(),
                                         epsilon=vae.sample_from_epsilon((200_000, 2, 1))))
    mu, log_sigma = (host(a)[:, 0] for a in phi)
    for i in range(2):
        q = stats.norm(mu[i], numpy.exp(log_sigma[i]))

        def integrand(t, q=q):
            log_p = host(vae.prior.log_p_z(numpy.array([[t]])))[0]
            return q.pdf(t) * (q.logpdf(t) - log_p)

        exact, _ = integrate.quad(integrand, -30, 30)
        assert kl[i] == pytest.approx(exact, abs=0.01)


def test_mixture_gradients_match_finite_differences(float64):
    vae = mog_vae(K=2, nhid=2, learn_prior=True)
    randomize(vae.get_params()[:-3], scale=0.4)
    X = binary_batch(3, nvis=4)
    with pytest.warns(UserWarning):
        grads = param_gradients_match(vae, lambda v: VAECriterion(2).expr(v, X))
    assert numpy.abs(grads["prior_mixture_logits"]).max() > 0


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_mixture_rejects_a_bad_number_of_components(bad):
    with pytest.raises(ValueError, match="num_components"):
        MixtureOfGaussiansPrior(bad)


# -- the VampPrior -------------------------------------------------------------------------
def vamp_vae(K=3, **kwargs):
    vae = make_vae(nvis=4, nhid=2, hidden=3, prior=VampPrior(K, init_mean=0.5, init_std=0.1),
                   **kwargs)
    return vae


def test_vamp_density_is_the_mean_posterior_at_the_pseudo_inputs():
    vae = vamp_vae()
    u = numpy.clip(host(vae.prior.pseudo_inputs.value), 0, 1)
    assert u.shape == (3, 4) and 0 < u.min() and u.max() < 1
    mu, log_sigma = (host(a) for a in vae.encode_phi(backend.asarray(u)))
    z = numpy.random.RandomState(2).normal(size=(5, 6, 2))
    by_hand = numpy.mean(
        [stats.norm(mu[k], numpy.exp(log_sigma[k])).pdf(z).prod(axis=-1) for k in range(3)],
        axis=0,
    )
    numpy.testing.assert_allclose(
        host(vae.prior.log_p_z(backend.asarray(z))), numpy.log(by_hand), rtol=1e-4
    )


def test_vamp_reaches_the_encoder_through_get_vae(float64):
    """The prior's density changes with the encoder's weights, and the criterion's
    gradients through both (and through the pseudo-inputs) match finite differences."""
    vae = vamp_vae()
    assert vae.prior.get_vae() is vae
    z = backend.asarray(numpy.random.RandomState(2).normal(size=(4, 2)))
    before = host(vae.prior.log_p_z(z))
    W = vae.posterior.get_params()[0]
    W.set_value(W.get_value() * 2)
    assert not numpy.allclose(before, host(vae.prior.log_p_z(z)))
    randomize(vae.get_params()[:-1], scale=0.4)  # no bias at 0, so no ReLU sits on its kink
    X = binary_batch(3, nvis=4)
    for cost in (VAECriterion(2), ImportanceSamplingCriterion(2)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the Monte Carlo KL's warning
            grads = param_gradients_match(vae, lambda v, cost=cost: cost.expr(v, X))
        assert numpy.abs(grads["prior_pseudo_inputs"]).max() > 0


def test_vamp_samples_follow_the_mixture_of_posteriors():
    vae = vamp_vae()
    u = numpy.clip(host(vae.prior.pseudo_inputs.value), 0, 1)
    mu, log_sigma = (host(a) for a in vae.encode_phi(backend.asarray(u)))
    z = host(vae.prior.sample_from_p_z(200_000))
    mean = mu.mean(axis=0)
    variance = (numpy.exp(2 * log_sigma) + mu**2).mean(axis=0) - mean**2
    numpy.testing.assert_allclose(z.mean(axis=0), mean, atol=0.01)
    numpy.testing.assert_allclose(z.var(axis=0), variance, rtol=0.02)


def test_vamp_needs_a_gaussian_posterior_with_two_parameters():
    vae = vamp_vae()
    vae.prior.get_vae().encode_phi = lambda X: (X,)
    with pytest.raises(ValueError, match="mu, log_sigma"):
        vae.prior.log_p_z(backend.asarray(numpy.zeros((1, 2))))


# -- the continuous Bernoulli --------------------------------------------------------------
LOGITS = numpy.array(
    [-12.0, -3.0, -0.5, -0.2001, -0.1999, -1e-3, -1e-8, 0.0, 1e-8, 1e-3, 0.1999, 0.2001, 0.5,
     3.0, 12.0]
)


def cb_by_quadrature(s):
    lam = special.expit(s)

    def unnormalized(x):
        return lam**x * (1 - lam) ** (1 - x)

    Z = integrate.quad(unnormalized, 0, 1, epsabs=1e-14, epsrel=1e-13)[0]
    m1 = integrate.quad(lambda x: x * unnormalized(x), 0, 1, epsabs=1e-14, epsrel=1e-13)[0]
    m2 = integrate.quad(lambda x: x * x * unnormalized(x), 0, 1, epsabs=1e-14, epsrel=1e-13)[0]
    return -numpy.log(Z), m1 / Z, m2 / Z - (m1 / Z) ** 2


def test_continuous_bernoulli_normalizer_and_mean_match_quadrature():
    exact = numpy.array([cb_by_quadrature(s)[:2] for s in LOGITS])
    numpy.testing.assert_allclose(continuous_bernoulli_log_normalizer(LOGITS), exact[:, 0],
                                  rtol=1e-10, atol=1e-11)
    numpy.testing.assert_allclose(continuous_bernoulli_mean(LOGITS), exact[:, 1],
                                  rtol=1e-10, atol=1e-11)
    assert continuous_bernoulli_log_normalizer(numpy.zeros(1))[0] == pytest.approx(numpy.log(2))


def test_continuous_bernoulli_is_stable_in_float32_near_one_half():
    s = numpy.linspace(-2 * CB_TAYLOR_THRESHOLD, 2 * CB_TAYLOR_THRESHOLD, 4001)
    exact = continuous_bernoulli_log_normalizer(s)
    got = continuous_bernoulli_log_normalizer(s.astype(numpy.float32))
    assert got.dtype == numpy.float32 and numpy.isfinite(got).all()
    numpy.testing.assert_allclose(got, exact, atol=3e-7)
    grad = autograd.elementwise_grad(continuous_bernoulli_log_normalizer)(s)
    assert numpy.isfinite(grad).all()
    # d/ds log C = 1/s - 1/sinh(s), 0 at s = 0.
    nonzero = numpy.abs(s) > 1e-3
    numpy.testing.assert_allclose(
        grad[nonzero], 1 / s[nonzero] - 1 / numpy.sinh(s[nonzero]), rtol=1e-6, atol=1e-12
    )
    numpy.testing.assert_allclose(grad[~nonzero], s[~nonzero] / 6, atol=1e-9)


def test_continuous_bernoulli_is_finite_at_huge_logits():
    """Data with exact 0s and 1s drive the logits far out (the likelihood grows like
    log |s|); neither branch of ``where`` may overflow there, forward or backward."""
    s = numpy.array([-1e30, -1e7, -50.0, 0.0, 1e-3, 1e7, 1e30], dtype=numpy.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = continuous_bernoulli_log_normalizer(s)
        grad = autograd.elementwise_grad(continuous_bernoulli_log_normalizer)(s)
        mean = continuous_bernoulli_mean(s[1:-1])
        mean_grad = autograd.elementwise_grad(continuous_bernoulli_mean)(s[1:-1])
    far = [0, 1, 5, 6]  # log C(s) -> log |s| as |s| grows
    numpy.testing.assert_allclose(value[far], numpy.log(numpy.abs(s[far].astype(float))),
                                  rtol=1e-6)
    assert value[3] == pytest.approx(numpy.log(2))
    assert numpy.isfinite(grad).all() and numpy.isfinite(mean_grad).all()
    numpy.testing.assert_allclose(mean, [1e-7, 0.02, 0.5, 0.5 + 1e-3 / 12, 1 - 1e-7],
                                  atol=1e-6)


def test_continuous_bernoulli_gradients_match_finite_differences():
    for f in (continuous_bernoulli_log_normalizer, continuous_bernoulli_mean):
        grad = autograd.elementwise_grad(f)(LOGITS)
        numeric = numpy.array([(f(numpy.array([s + 1e-6])) - f(numpy.array([s - 1e-6])))[0]
                               / 2e-6 for s in LOGITS])
        numpy.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def cb_vae():
    decoder = MLP(layers=[RectifiedLinear(dim=3, layer_name="h_d_1", irange=0.3)])
    return VAE(
        nvis=4, nhid=2, prior=DiagonalGaussianPrior(),
        conditional=ContinuousBernoulli(mlp=decoder, name="conditional"),
        posterior=DiagonalGaussian(mlp=encoder(3), name="posterior"),
    )


@pytest.mark.parametrize("s", [-4.0, -0.05, 0.0, 1e-5, 2.5])
def test_continuous_bernoulli_density_integrates_to_one(s):
    conditional = cb_vae().conditional

    def density(x):
        return float(numpy.exp(host(conditional.log_conditional(
            numpy.array([[x]]), (numpy.array([[s]]),)))[0]))

    assert integrate.quad(density, 0, 1, epsabs=1e-12)[0] == pytest.approx(1.0, abs=1e-7)


def test_continuous_bernoulli_log_conditional_sums_the_units():
    conditional = cb_vae().conditional
    rng = numpy.random.RandomState(0)
    x, S = rng.uniform(size=(2, 3, 4)), rng.normal(scale=3, size=(2, 3, 4))
    lam = special.expit(S)
    by_hand = (x * numpy.log(lam) + (1 - x) * numpy.log1p(-lam)
               + continuous_bernoulli_log_normalizer(S)).sum(axis=-1)
    numpy.testing.assert_allclose(host(conditional.log_conditional(x, (S,))), by_hand,
                                  rtol=1e-10)


def test_continuous_bernoulli_samples_have_the_moments():
    vae = cb_vae()
    logits = numpy.array([[-4.0, -0.05, 0.0, 2.5]], dtype=backend.floatX())
    x = host(vae.conditional.sample_from_conditional(
        (numpy.repeat(logits, 100_000, 0),), num_samples=100_000))
    assert x.shape == (100_000, 4) and 0 <= x.min() and x.max() <= 1
    moments = numpy.array([cb_by_quadrature(s)[1:] for s in logits[0].astype(float)])
    numpy.testing.assert_allclose(x.mean(axis=0), moments[:, 0], atol=0.003)
    numpy.testing.assert_allclose(x.var(axis=0), moments[:, 1], rtol=0.02)
    numpy.testing.assert_allclose(host(vae.means_from_theta((logits,)))[0], moments[:, 0],
                                  rtol=1e-5)
    # The inverse CDF of extreme logits stays in [0, 1] with no overflow.
    u = numpy.linspace(0, 1, 11)
    for s in (-500.0, 500.0):
        q = continuous_bernoulli_inverse_cdf(u, numpy.full(11, s))
        assert numpy.isfinite(q).all() and 0 <= q.min() and q.max() <= 1
    with pytest.raises(ValueError, match="reparametrization"):
        vae.conditional.sample_from_conditional((logits,), epsilon=logits)


def test_continuous_bernoulli_vae_gradients_match_finite_differences(float64):
    vae = cb_vae()
    randomize(vae.get_params(), scale=0.4)
    X = numpy.random.RandomState(1).uniform(size=(3, 4))
    param_gradients_match(vae, lambda v: VAECriterion(2).expr(v, X))


# -- the Laplace pair and its KL -------------------------------------------------------------
def laplace_vae(**kwargs):
    posterior = Laplace(mlp=encoder(3), name="posterior")
    return make_vae(nvis=4, nhid=2, hidden=3, prior=LaplacePrior(), posterior=posterior,
                    **kwargs)


def test_laplace_log_density_matches_scipy():
    rng = numpy.random.RandomState(0)
    z, loc, log_scale = rng.normal(size=(3, 5, 4))
    by_hand = stats.laplace(loc, numpy.exp(log_scale)).logpdf(z).sum(axis=-1)
    numpy.testing.assert_allclose(laplace_log_density(z, loc, log_scale), by_hand, rtol=1e-12)


def test_laplace_noise_and_samples_have_the_laplace_moments():
    vae = laplace_vae()
    epsilon = vae.sample_from_epsilon((200_000, 3))
    assert epsilon.dtype == numpy.dtype(backend.floatX())
    epsilon = host(epsilon)
    numpy.testing.assert_allclose(epsilon.mean(axis=0), 0, atol=0.01)
    numpy.testing.assert_allclose(epsilon.var(axis=0), 2, rtol=0.02)
    assert stats.kstest(epsilon[:20_000, 0], stats.laplace.cdf).pvalue > 1e-3
    vae.prior.prior_loc.set_value([1.0, -2.0])
    vae.prior.log_prior_scale.set_value(numpy.log([0.5, 2.0]))
    z = host(vae.prior.sample_from_p_z(200_000))
    numpy.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.03)
    numpy.testing.assert_allclose(z.var(axis=0), [0.5, 8.0], rtol=0.03)


def test_laplace_kl_matches_quadrature_and_monte_carlo():
    rng = numpy.random.RandomState(1)
    loc_q, log_scale_q, loc_p, log_scale_p = rng.normal(scale=0.8, size=(4, 6))
    kl = laplace_kl(loc_q, log_scale_q, loc_p, log_scale_p)
    for i in range(6):
        q = stats.laplace(loc_q[i], numpy.exp(log_scale_q[i]))
        p = stats.laplace(loc_p[i], numpy.exp(log_scale_p[i]))
        low, high = sorted([loc_q[i], loc_p[i]])
        width = 80 * numpy.exp(log_scale_q[i])  # q's mass beyond is exp(-80)
        exact = sum(
            integrate.quad(lambda t, q=q, p=p: q.pdf(t) * (q.logpdf(t) - p.logpdf(t)),
                           a, b, epsabs=1e-13, epsrel=1e-12)[0]
            for a, b in [(low - width, low), (low, high), (high, high + width)]
        )
        assert kl[i] == pytest.approx(exact, rel=1e-12, abs=1e-14)
    numpy.testing.assert_allclose(laplace_kl(loc_q, log_scale_q, loc_q, log_scale_q), 0,
                                  atol=1e-15)
    # The VAE's analytic KL against its own Monte Carlo estimate.
    vae = laplace_vae()
    randomize(vae.get_params(), scale=0.5)
    X = binary_batch(4, nvis=4)
    phi, theta = vae.encode_phi(X), vae.get_prior_theta()
    analytic = host(vae.kl_divergence_term(phi, theta))
    monte_carlo = host(vae.kl_divergence_term(
        phi, theta, approximate=True, epsilon=vae.sample_from_epsilon((100_000, 4, 2))))
    numpy.testing.assert_allclose(analytic, monte_carlo, atol=0.02)
    numpy.testing.assert_allclose(
        analytic, host(vae.per_component_kl_divergence_term(phi, theta)).sum(axis=1), rtol=1e-6
    )


def test_laplace_kl_is_registered_and_found_for_its_pair_only():
    vae = laplace_vae()
    assert isinstance(vae.kl_integrator, LaplaceKL)
    assert isinstance(find_integrator_for(LaplacePrior(), vae.posterior), LaplaceKL)
    # Neither Laplace class is handed a Gaussian integrator, nor the other way round.
    assert find_integrator_for(DiagonalGaussianPrior(), vae.posterior) is None
    gaussian = DiagonalGaussian(mlp=encoder(), name="posterior")
    assert find_integrator_for(LaplacePrior(), gaussian) is None
    assert isinstance(find_integrator_for(DiagonalGaussianPrior(), gaussian),
                      DiagonalGaussianPriorPosteriorKL)
    with pytest.raises(ValueError, match="expects a prior of class LaplacePrior"):
        LaplaceKL().kl_divergence(None, None, DiagonalGaussianPrior(), vae.posterior)


def test_laplace_gradients_match_finite_differences(float64):
    vae = laplace_vae()
    randomize(vae.get_params(), scale=0.4)
    X = binary_batch(3, nvis=4)
    param_gradients_match(vae, lambda v: VAECriterion(2).expr(v, X))
    rng = numpy.random.RandomState(2)
    args = list(rng.normal(size=(4, 5)))
    for i in range(4):
        def f(x, i=i):
            return laplace_kl(*args[:i], x, *args[i + 1:]).sum()
        numpy.testing.assert_allclose(autograd.grad(f)(args[i]), numeric_gradient(f, args[i]),
                                      rtol=1e-6, atol=1e-9)


def test_the_old_paths_of_the_moved_extensions_still_load(tmp_path):
    from pylearn_vae.config import yaml_parse
    from pylearn_vae.utils import serial

    assert yaml_parse.load("!import pylearn_vae.models.vae.laplace.Laplace") is Laplace
    old = "pylearn_vae.models.vae.conditional.ContinuousBernoulli"
    assert yaml_parse.load(f"!import {old}") is ContinuousBernoulli
    for module, name, cls in [
        ("pylearn_vae.models.vae.laplace", "LaplacePrior", LaplacePrior),
        ("pylearn_vae.models.vae.conditional", "ContinuousBernoulli", ContinuousBernoulli),
    ]:
        path = tmp_path / f"{name}.pkl"
        # a protocol-4 pickle of the class object, as an earlier release wrote it
        path.write_bytes(
            b"\x80\x04\x8c" + bytes([len(module)]) + module.encode()
            + b"\x8c" + bytes([len(name)]) + name.encode() + b"\x93."
        )
        assert serial.load(str(path)) is cls
        assert serial.load(str(path), trusted=True) is cls
