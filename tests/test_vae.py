"""The VAE model: construction, parameters, sampling and the behaviours of Pylearn2's
``pylearn2/models/tests/test_vae.py``.

Its small models come from :mod:`pylearn_vae.testing.vae`.
"""

import numpy
import pytest

from pylearn_vae import backend
from pylearn_vae.models.mlp import (
    MLP,
    CompositeLayer,
    ConvRectifiedLinear,
    Linear,
    RectifiedLinear,
    SpaceConverter,
    Tanh,
)
from pylearn_vae.models.vae import VAE
from pylearn_vae.models.vae.conditional import BernoulliVector, DiagonalGaussian
from pylearn_vae.models.vae.kl import DiagonalGaussianPriorPosteriorKL
from pylearn_vae.models.vae.prior import DiagonalGaussianPrior
from pylearn_vae.space import CompositeSpace, Conv2DSpace, VectorSpace
from pylearn_vae.testing.vae import (
    TUTORIAL_PARAM_NAMES,
    binary_batch,
    make_tutorial_vae,
    make_vae,
)


# -- construction errors -----------------------------------------------------------------
def test_non_nested_mlp_is_refused():
    mlp = MLP(nvis=3, layers=[Linear(dim=2, layer_name="h", irange=0.1)])
    with pytest.raises(ValueError, match="nested"):
        DiagonalGaussian(mlp=mlp, name="posterior")
    with pytest.raises(ValueError, match="nested"):
        BernoulliVector(mlp=mlp, name="conditional")


def test_bad_custom_output_layer_names_both_spaces():
    encoder = MLP(layers=[Linear(dim=7, layer_name="h_e_1", irange=0.1)])
    posterior = DiagonalGaussian(mlp=encoder, name="posterior", output_layer_required=False)
    with pytest.raises(ValueError) as info:
        make_vae(nhid=3, posterior=posterior)
    message = str(info.value)
    assert str(VectorSpace(dim=7)) in message
    assert str(CompositeSpace([VectorSpace(dim=3), VectorSpace(dim=3)])) in message


def test_good_custom_output_layer_bounds_log_sigma():
    nhid = 3
    encoder = MLP(
        layers=[
            RectifiedLinear(dim=5, layer_name="h_e_1", irange=0.3),
            CompositeLayer(
                layer_name="phi",
                layers=[
                    Linear(dim=nhid, layer_name="mu", irange=0.5),
                    Tanh(dim=nhid, layer_name="log_sigma", irange=0.5),
                ],
            ),
        ]
    )
    posterior = DiagonalGaussian(mlp=encoder, name="posterior", output_layer_required=False)
    vae = make_vae(nhid=nhid, posterior=posterior)
    X = backend.asarray(numpy.random.RandomState(1).uniform(-50, 50, size=(10, 6)))
    mu, log_sigma = vae.encode_phi(X)
    assert mu.shape == log_sigma.shape == (10, nhid)
    assert numpy.all(numpy.abs(log_sigma) <= 1.0)
    assert numpy.abs(log_sigma).max() > 0.9  # large inputs do saturate the tanh
    assert vae.log_likelihood_lower_bound(binary_batch(10), num_samples=2).shape == (10,)


def test_set_vae_twice_raises():
    vae = make_vae()
    for component in (vae.prior, vae.conditional, vae.posterior):
        with pytest.raises(RuntimeError, match="already belongs"):
            component.set_vae(vae)
        assert component.get_vae() is vae


def test_components_refused_in_the_wrong_slot():
    prior = DiagonalGaussianPrior()
    with pytest.raises(TypeError, match="conditional"):
        VAE(nvis=4, prior=prior, conditional=prior, posterior=prior, nhid=2)


# -- Bernoulli conditional ----------------------------------------------------------------
def test_bernoulli_refuses_the_reparametrization_trick():
    vae = make_vae()
    theta = vae.decode_theta(backend.asarray(numpy.zeros((4, 3))))
    with pytest.raises(ValueError, match="reparametrization"):
        vae.conditional.sample_from_conditional(theta, epsilon=backend.asarray(numpy.zeros(6)))
    with pytest.raises(ValueError, match="num_samples"):
        vae.conditional.sample_from_conditional(theta)
    with pytest.raises(NotImplementedError, match="reparametrization"):
        vae.conditional.sample_from_epsilon((2, 6))


def test_bernoulli_samples_are_binary_with_the_right_frequency():
    vae = make_vae(nvis=6)
    logits = backend.asarray(numpy.array([[-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]]))
    samples = vae.conditional.sample_from_conditional((logits,), num_samples=20000)
    assert samples.shape == (20000, 6)
    assert set(numpy.unique(samples)) <= {0.0, 1.0}
    expected = 1 / (1 + numpy.exp(-numpy.asarray(logits[0], dtype=float)))
    se = numpy.sqrt(expected * (1 - expected) / 20000)
    assert numpy.all(numpy.abs(samples.mean(axis=0) - expected) < 5 * se)


# -- the two criteria --------------------------------------------------------------------
@pytest.mark.parametrize("num_samples", [1, 10])
def test_criteria_shapes(num_samples):
    vae = make_vae()
    X = binary_batch(4)
    lower_bound = vae.log_likelihood_lower_bound(X, num_samples=num_samples)
    approximation = vae.log_likelihood_approximation(X, num_samples=num_samples)
    assert lower_bound.shape == approximation.shape == (4,)
    assert numpy.all(numpy.isfinite(lower_bound)) and numpy.all(numpy.isfinite(approximation))
    kl, expectation = vae.log_likelihood_lower_bound(
        X, num_samples=num_samples, return_individual_terms=True
    )
    assert kl.shape == expectation.shape == (4,)
    assert numpy.all(kl >= 0)


def test_convolutional_encoder_computes_both_criteria():
    encoder = MLP(
        layers=[
            SpaceConverter(
                layer_name="conv2d_converter",
                output_space=Conv2DSpace(shape=[4, 4], num_channels=1),
            ),
            ConvRectifiedLinear(
                output_channels=2,
                kernel_shape=[2, 2],
                pool_shape=[1, 1],
                pool_stride=[1, 1],
                irange=0.01,
                layer_name="conv",
            ),
        ]
    )
    posterior = DiagonalGaussian(mlp=encoder, name="posterior")
    vae = make_vae(nvis=16, posterior=posterior)
    X = binary_batch(5, nvis=16)
    assert vae.log_likelihood_lower_bound(X, num_samples=2).shape == (5,)
    assert vae.log_likelihood_approximation(X, num_samples=2).shape == (5,)
    assert numpy.all(numpy.isfinite(vae.log_likelihood_approximation(X, num_samples=2)))


def test_automatic_integrator_is_the_gaussian_one():
    assert isinstance(make_vae().kl_integrator, DiagonalGaussianPriorPosteriorKL)


# -- parameters ---------------------------------------------------------------------------
def test_tutorial_parameter_names_and_order():
    vae = make_tutorial_vae()
    assert [p.name for p in vae.get_params()] == list(TUTORIAL_PARAM_NAMES)
    assert [p.name for p in vae.get_prior_params()] == ["prior_mu", "prior_log_sigma"]
    assert {p.dtype for p in vae.get_params()} == {numpy.dtype("float32")}


def test_tutorial_weights_are_drawn_in_the_original_order():
    vae = make_tutorial_vae()
    rng = numpy.random.RandomState(2043)
    seeds = [rng.randint(2**30) for _ in range(3)]
    assert [vae.prior.noise.seed, vae.conditional.noise.seed, vae.posterior.noise.seed] == seeds

    def linear(n_in, n_out, irange):
        values = rng.uniform(-irange, irange, (n_in, n_out))
        return values * (rng.uniform(0.0, 1.0, (n_in, n_out)) < 1.0)

    expected = {
        "conditional_h_d_1_W": linear(200, 200, 0.001),
        "conditional_h_d_2_W": linear(200, 200, 0.001),
        "conditional_mu_W": linear(200, 784, 0.01),
        "posterior_h_e_1_W": linear(784, 200, 0.001),
        "posterior_mu_W": linear(200, 200, 0.01),
        "posterior_log_sigma_W": linear(200, 200, 0.01),
    }
    params = {p.name: p.get_value() for p in vae.get_params()}
    for name, value in expected.items():
        numpy.testing.assert_array_equal(params[name], value.astype("float32"), err_msg=name)
    for name, value in params.items():
        if name.endswith("_b") or name.startswith("prior_"):
            assert not value.any(), name
    numpy.testing.assert_array_equal(vae.get_weights(), params["posterior_h_e_1_W"])
    numpy.testing.assert_array_equal(vae.get_conditional_weights(), params["conditional_h_d_1_W"])


def test_seed_changes_the_weights():
    a, b, c = make_vae(seed=1), make_vae(seed=1), make_vae(seed=2)
    for pa, pb in zip(a.get_params(), b.get_params(), strict=True):
        numpy.testing.assert_array_equal(pa.get_value(), pb.get_value())
    assert not numpy.array_equal(a.get_params()[0].get_value(), c.get_params()[0].get_value())


def test_learn_prior_false_keeps_prior_params_out():
    vae = make_vae(learn_prior=False)
    names = [p.name for p in vae.get_params()]
    assert "prior_mu" not in names and "prior_log_sigma" not in names
    assert len(vae.get_prior_theta()) == 2  # still used by the KL
    assert [p.name for p in make_vae().get_params()][-2:] == ["prior_mu", "prior_log_sigma"]


def test_duplicate_parameter_name_raises():
    # Two conditionals with the same name and layer names give the same parameter names.
    decoder = MLP(layers=[RectifiedLinear(dim=4, layer_name="h", irange=0.1)])
    encoder = MLP(layers=[RectifiedLinear(dim=4, layer_name="h", irange=0.1)])
    with pytest.raises(Exception, match="no two parameters must share the same name: same_h_W"):
        VAE(
            nvis=5,
            prior=DiagonalGaussianPrior(),
            conditional=BernoulliVector(mlp=decoder, name="same"),
            posterior=DiagonalGaussian(mlp=encoder, name="same"),
            nhid=2,
        )


def test_user_layer_named_mu_in_diagonal_gaussian_is_a_duplicate():
    # The default output is a CompositeLayer named 'conditional' holding 'mu': the MLP's
    # top-level names differ, the parameter names do not.
    encoder = MLP(layers=[RectifiedLinear(dim=4, layer_name="mu", irange=0.1)])
    with pytest.raises(Exception, match="share the same name: posterior_mu_W"):
        make_vae(posterior=DiagonalGaussian(mlp=encoder, name="posterior"))


def test_user_layer_named_mu_in_bernoulli_fails_in_add_layers():
    decoder = MLP(layers=[RectifiedLinear(dim=4, layer_name="mu", irange=0.1)])
    with pytest.raises(AssertionError, match="mu"):
        VAE(
            nvis=5,
            prior=DiagonalGaussianPrior(),
            conditional=BernoulliVector(mlp=decoder, name="conditional"),
            posterior=DiagonalGaussian(
                mlp=MLP(layers=[Linear(dim=4, layer_name="h", irange=0.1)]), name="posterior"
            ),
            nhid=2,
        )


def test_reinitializing_a_conditional_does_not_double_prefix():
    vae = make_vae()
    before = [p.name for p in vae.posterior.get_params()]
    vae.posterior.initialize_parameters(input_space=vae.input_space, ndim=vae.nhid)
    after = [p.name for p in vae.posterior.get_params()]
    assert before == after
    assert all(
        name.startswith("posterior_") and "posterior_posterior" not in name for name in after
    )
    assert len(vae.posterior.mlp.layers) == 2  # the output layer was not appended again


# -- sampling, reconstruction, monitoring -----------------------------------------------
def test_sample_shapes_and_means():
    vae = make_vae(nvis=6, nhid=3)
    samples, means = vae.sample(7)
    assert samples.shape == means.shape == (7, 6)
    assert set(numpy.unique(samples)) <= {0.0, 1.0}
    assert numpy.all((means > 0) & (means < 1))
    only = vae.sample(4, return_sample_means=False)
    assert only.shape == (4, 6)


def test_reconstruct_shapes_and_determinism():
    vae = make_vae(nvis=6, nhid=3)
    X = binary_batch(5)
    x1, means1 = vae.reconstruct(X)
    x2, means2 = vae.reconstruct(X)
    assert x1.shape == means1.shape == (5, 6)
    numpy.testing.assert_array_equal(means1, means2)  # z is the posterior mean
    _, noisy = vae.reconstruct(X, noisy_encoding=True)
    assert noisy.shape == (5, 6) and not numpy.array_equal(noisy, means1)
    assert vae.reconstruct(X, return_sample_means=False).shape == (5, 6)


def test_monitoring_channels():
    vae = make_vae()
    X = binary_batch(8)
    channels = vae.get_monitoring_channels(X)
    assert list(channels) == [
        "reconstruction_mse",
        "posterior_sigma_min",
        "posterior_sigma_max",
        "posterior_sigma_mean",
        "posterior_sigma_std",
    ]
    values = {k: float(v) for k, v in channels.items()}
    assert 0 < values["posterior_sigma_min"] <= values["posterior_sigma_mean"]
    assert values["posterior_sigma_mean"] <= values["posterior_sigma_max"]
    sigma = numpy.exp(numpy.asarray(vae.encode_phi(X)[1], dtype=float))
    assert values["posterior_sigma_std"] == pytest.approx(sigma.std(), rel=1e-4)
    assert 0 <= values["reconstruction_mse"] <= 1
    assert vae.get_monitoring_data_specs() == (VectorSpace(dim=6), "features")
    with pytest.raises(ValueError):
        vae.get_monitoring_channels(binary_batch(8, nvis=5))


def test_monitoring_channels_with_a_gaussian_conditional():
    vae = make_vae(conditional="gaussian")
    channels = vae.get_monitoring_channels(binary_batch(4))
    assert "conditional_sigma_mean" in channels and "posterior_sigma_mean" in channels


def test_lr_scalers_and_constraints_are_gathered_from_the_components():
    decoder = MLP(
        layers=[
            RectifiedLinear(
                dim=5, layer_name="h_d_1", irange=0.3, max_col_norm=0.1, W_lr_scale=0.5
            )
        ]
    )
    encoder = MLP(layers=[RectifiedLinear(dim=5, layer_name="h_e_1", irange=0.3, b_lr_scale=2.0)])
    vae = VAE(
        nvis=6,
        prior=DiagonalGaussianPrior(),
        conditional=BernoulliVector(mlp=decoder, name="conditional"),
        posterior=DiagonalGaussian(mlp=encoder, name="posterior"),
        nhid=3,
    )
    scalers = {p.name: scale for p, scale in vae.get_lr_scalers().items()}
    assert scalers == {"conditional_h_d_1_W": 0.5, "posterior_h_e_1_b": 2.0}
    W = next(p for p in vae.get_params() if p.name == "conditional_h_d_1_W")
    updates = {W: W.get_value() * 100}
    vae.modify_updates(updates)
    numpy.testing.assert_allclose(numpy.sqrt((updates[W] ** 2).sum(axis=0)), 0.1, rtol=1e-5)


def test_sample_forwards_keywords_to_the_prior_and_gives_floatx():
    samples = make_vae().sample(3, return_sample_means=False, unused_keyword=1)
    assert samples.shape == (3, 6) and samples.dtype == numpy.float32


def test_pickled_vae_computes_the_same_bound():
    import pickle

    vae = make_vae(conditional="gaussian")
    copy = pickle.loads(pickle.dumps(vae))
    assert [p.name for p in copy.get_params()] == [p.name for p in vae.get_params()]
    assert copy.get_params()[0] is copy.posterior.get_params()[0]  # identity kept
    assert type(copy.kl_integrator) is type(vae.kl_integrator)
    X = binary_batch(5)
    bounds = []
    for model in (vae, copy):
        model.set_noise_seed(3)
        bounds.append(model.log_likelihood_lower_bound(X, 2))
    numpy.testing.assert_array_equal(bounds[0], bounds[1])


def test_set_noise_seed_repeats_every_stochastic_method():
    vae = make_vae()
    X = binary_batch(5)
    runs = []
    for _ in range(2):
        vae.set_noise_seed(11)
        runs.append([vae.log_likelihood_lower_bound(X, 3), vae.sample(4)[0]])
    for first, second in zip(*runs, strict=True):
        numpy.testing.assert_array_equal(first, second)
    # The three components draw from three different streams.
    seeds = [part.noise.seed for part in (vae.posterior, vae.conditional, vae.prior)]
    assert seeds == [11, 12, 13]
