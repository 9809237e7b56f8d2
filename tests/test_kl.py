"""KL integrators: the closed form (against quadrature and Monte Carlo, TFP-style), the
self-filling registry, nearest-match lookup and the Monte Carlo fallback.

Integrators defined here register themselves in ``kl._REGISTRY``; every entry a test
adds is removed again (the ``registry`` fixture, and ``_forget_module_integrators``
for the classes defined at module level).
"""

import autograd.numpy as anp
import numpy
import pytest
from scipy import integrate, stats

from pylearn_vae import backend, ops
from pylearn_vae.costs.vae import VAECriterion
from pylearn_vae.models.mlp import MLP, RectifiedLinear
from pylearn_vae.models.vae import kl
from pylearn_vae.models.vae.conditional import DiagonalGaussian
from pylearn_vae.models.vae.kl import (
    DiagonalGaussianPriorPosteriorKL,
    KLIntegrator,
    find_integrator_for,
)
from pylearn_vae.models.vae.prior import DiagonalGaussianPrior, Prior
from pylearn_vae.testing.vae import binary_batch, host, make_vae


# -- a user's prior and integrator, as they would write them in their own module ----------
class StandardNormalPrior(Prior):
    """A fixed N(0, I) prior: no parameters."""

    def initialize_parameters(self, nhid):
        self.nhid = nhid
        self._params = []

    def get_theta(self):
        return ()

    def sample_from_p_z(self, num_samples, **kwargs):
        return self.noise.normal((num_samples, self.nhid))

    def log_p_z(self, z):
        zeros = backend.asarray(numpy.zeros(self.nhid))
        return ops.gaussian_log_density(z, zeros, zeros)


class StandardNormalKL(KLIntegrator):
    """KL(N(mu, sigma^2) || N(0, 1)), per unit ``(sigma^2 + mu^2 - 1) / 2 - log sigma``."""

    prior_class = StandardNormalPrior
    posterior_class = DiagonalGaussian

    def per_component_kl_divergence(self, phi, theta, prior, posterior):
        self._validate_prior_posterior(prior, posterior)
        mu, log_sigma = phi
        return 0.5 * (anp.exp(2 * log_sigma) + mu * mu - 1) - log_sigma

    def kl_divergence(self, phi, theta, prior, posterior):
        return ops.sum(self.per_component_kl_divergence(phi, theta, prior, posterior), axis=1)


class LaplacePrior(Prior):
    """A fixed Laplace(0, 1) prior, for which no integrator is registered."""

    def initialize_parameters(self, nhid):
        self.nhid = nhid
        self._params = []

    def get_theta(self):
        return ()

    def sample_from_p_z(self, num_samples, **kwargs):
        u = self.noise.uniform((num_samples, self.nhid)) - 0.5
        return -numpy.sign(u) * numpy.log1p(-2 * numpy.abs(u))

    def log_p_z(self, z):
        return -anp.sum(anp.log(2.0) + anp.abs(z), axis=-1)


class ShiftedPrior(DiagonalGaussianPrior):
    """A user's subclass of the Gaussian prior, with nothing registered for it."""


@pytest.fixture(scope="module", autouse=True)
def _forget_module_integrators():
    yield
    for pair, integrator in list(kl._REGISTRY.items()):
        if integrator.__module__ == __name__:
            del kl._REGISTRY[pair]


@pytest.fixture
def registry():
    """Restore the registry after a test that defines integrators in its body."""
    saved = dict(kl._REGISTRY)
    yield kl._REGISTRY
    kl._REGISTRY.clear()
    kl._REGISTRY.update(saved)


def gaussian_parameters(batch=4, nhid=3, seed=0):
    rng = numpy.random.RandomState(seed)
    phi = (rng.normal(size=(batch, nhid)), rng.uniform(-1, 0.5, size=(batch, nhid)))
    theta = (rng.normal(size=nhid), rng.uniform(-0.5, 0.5, size=nhid))
    return phi, theta


def analytic_kl(phi, theta, per_component=False):
    vae = make_vae(nhid=phi[0].shape[1])
    integrator = DiagonalGaussianPriorPosteriorKL()
    to_device = [tuple(backend.asarray(a, dtype="float64") for a in t) for t in (phi, theta)]
    method = integrator.per_component_kl_divergence if per_component else integrator.kl_divergence
    return host(method(*to_device, prior=vae.prior, posterior=vae.posterior))


# -- the closed form, three ways ---------------------------------------------------------------
def test_gaussian_kl_matches_quadrature():
    phi, theta = gaussian_parameters()
    per_component = analytic_kl(phi, theta, per_component=True)
    for b, d in numpy.ndindex(per_component.shape):
        q = stats.norm(phi[0][b, d], numpy.exp(phi[1][b, d]))
        p = stats.norm(theta[0][d], numpy.exp(theta[1][d]))
        value, _ = integrate.quad(
            lambda z, q=q, p=p: q.pdf(z) * (q.logpdf(z) - p.logpdf(z)), -30, 30, points=[q.mean()]
        )
        assert per_component[b, d] == pytest.approx(value, rel=1e-6, abs=1e-9)


def test_gaussian_kl_matches_monte_carlo():
    phi, theta = gaussian_parameters(seed=1)
    n = 200_000
    rng = numpy.random.RandomState(2)
    mu_q, sigma_q = phi[0], numpy.exp(phi[1])
    z = mu_q + sigma_q * rng.standard_normal((n,) + mu_q.shape)
    log_ratio = (
        stats.norm.logpdf(z, mu_q, sigma_q) - stats.norm.logpdf(z, theta[0], numpy.exp(theta[1]))
    ).sum(axis=-1)
    estimate, standard_error = log_ratio.mean(axis=0), log_ratio.std(axis=0) / numpy.sqrt(n)
    assert numpy.all(numpy.abs(analytic_kl(phi, theta) - estimate) < 4 * standard_error)


def test_gaussian_kl_shapes_and_zero_at_equality():
    phi, theta = gaussian_parameters(batch=5, nhid=2)
    assert analytic_kl(phi, theta).shape == (5,)
    assert analytic_kl(phi, theta, per_component=True).shape == (5, 2)
    assert numpy.all(analytic_kl(phi, theta) > 0)
    same = (numpy.tile(theta[0], (5, 1)), numpy.tile(theta[1], (5, 1)))
    numpy.testing.assert_allclose(analytic_kl(same, theta), 0, atol=1e-12)


def test_vae_kl_is_the_sum_of_the_per_component_kl():
    vae = make_vae()
    phi = vae.encode_phi(binary_batch())
    theta = vae.get_prior_theta()
    per_component = host(vae.per_component_kl_divergence_term(phi, theta))
    assert per_component.shape == (4, vae.nhid)
    numpy.testing.assert_allclose(
        host(vae.kl_divergence_term(phi, theta)), per_component.sum(axis=1), rtol=1e-6
    )


def test_integrator_validates_its_prior_and_posterior():
    vae = make_vae()
    phi, theta = vae.encode_phi(binary_batch()), vae.get_prior_theta()
    integrator = DiagonalGaussianPriorPosteriorKL()
    with pytest.raises(ValueError, match="DiagonalGaussianPrior.*got StandardNormalPrior"):
        integrator.kl_divergence(phi, theta, StandardNormalPrior(), vae.posterior)
    with pytest.raises(ValueError, match="DiagonalGaussian, got BernoulliVector"):
        integrator.kl_divergence(phi, theta, vae.prior, vae.conditional)


# -- the registry ---------------------------------------------------------------------------
def test_a_user_integrator_is_found_and_used():
    vae = make_vae(prior=StandardNormalPrior())
    assert isinstance(vae.kl_integrator, StandardNormalKL)
    assert [p.name for p in vae.get_params()][-1] == "conditional_mu_b"  # no prior params
    # Same as the Gaussian integrator with a N(0, 1) prior.
    reference = make_vae()
    phi = tuple(backend.asarray(a) for a in gaussian_parameters()[0])
    numpy.testing.assert_allclose(
        host(vae.kl_divergence_term(phi, vae.get_prior_theta())),
        host(reference.kl_divergence_term(phi, reference.get_prior_theta())),
        rtol=1e-5,
    )
    grads, _ = VAECriterion(num_samples=2).get_gradients(vae, binary_batch())
    assert list(grads) == vae.get_params()
    assert all(numpy.all(numpy.isfinite(host(g))) for g in grads.values())


def test_nearest_match_through_the_class_hierarchy(registry):
    vae = make_vae(prior=ShiftedPrior())
    assert type(vae.kl_integrator) is DiagonalGaussianPriorPosteriorKL

    class ShiftedPriorKL(DiagonalGaussianPriorPosteriorKL):
        prior_class = ShiftedPrior

    assert type(find_integrator_for(vae.prior, vae.posterior)) is ShiftedPriorKL
    assert type(make_vae(prior=ShiftedPrior()).kl_integrator) is ShiftedPriorKL
    assert type(find_integrator_for(DiagonalGaussianPrior(), vae.posterior)) is (
        DiagonalGaussianPriorPosteriorKL
    )


def test_nearest_match_on_the_posterior_side(registry):
    class MyGaussian(DiagonalGaussian):
        pass

    class MyGaussianKL(DiagonalGaussianPriorPosteriorKL):
        posterior_class = MyGaussian

    encoder = MLP(layers=[RectifiedLinear(dim=4, layer_name="h", irange=0.1)])
    posterior = MyGaussian(mlp=encoder, name="posterior")
    vae = make_vae(posterior=posterior)
    assert type(vae.kl_integrator) is MyGaussianKL


def test_a_second_integrator_for_a_registered_pair_is_refused(registry):
    with pytest.raises(TypeError, match="two KL integrators.*DiagonalGaussianPriorPosteriorKL"):

        class AnotherGaussianKL(KLIntegrator):
            prior_class = DiagonalGaussianPrior
            posterior_class = DiagonalGaussian

    assert registry[(DiagonalGaussianPrior, DiagonalGaussian)] is DiagonalGaussianPriorPosteriorKL


def test_same_class_name_in_another_module_is_refused(registry):
    namespace = {
        "prior_class": StandardNormalPrior,
        "posterior_class": DiagonalGaussian,
        "__module__": "someone_elses_module",
        "__qualname__": StandardNormalKL.__qualname__,
    }
    with pytest.raises(TypeError, match="someone_elses_module"):
        type("StandardNormalKL", (KLIntegrator,), namespace)
    assert registry[(StandardNormalPrior, DiagonalGaussian)] is StandardNormalKL


def test_abstract_integrators_are_not_registered(registry):
    before = dict(registry)

    class AbstractKL(KLIntegrator):
        pass

    assert registry == before
    with pytest.raises(NotImplementedError):
        AbstractKL().kl_divergence(None, None, None, None)


# -- no integrator: Monte Carlo, with one warning ---------------------------------------------
def test_unmatched_pair_warns_once_and_trains_with_the_monte_carlo_kl():
    vae = make_vae(nvis=6, nhid=2, prior=LaplacePrior())
    assert vae.kl_integrator is None
    X = backend.asarray(numpy.random.RandomState(3).uniform(size=(40, 6)) < 0.85)
    cost = VAECriterion(num_samples=1)
    with pytest.warns(UserWarning, match="no KLIntegrator.*Monte Carlo") as record:
        cost.expr(vae, X)
        cost.expr(vae, X)
    assert len(record) == 1
    with pytest.raises(NotImplementedError, match="LaplacePrior"):
        vae.per_component_kl_divergence_term(vae.encode_phi(X), ())

    def mean_cost():
        vae.set_noise_seed(0)
        return float(VAECriterion(num_samples=50).expr(vae, X))

    before = mean_cost()
    for _ in range(30):
        grads, _ = cost.get_gradients(vae, X)
        for p, g in grads.items():
            p.set_value(p.get_value() - 0.1 * host(g))
    assert mean_cost() < before - 0.5
