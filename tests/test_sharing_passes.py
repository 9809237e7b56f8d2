"""VAE.sharing_passes: one encode/decode pass per batch inside the block, and the
monitor's channels computed from it (docs/quirks.md#quirk-33)."""

import autograd
import numpy as np
import pytest

from pylearn_vae import backend
from pylearn_vae import primitives as P
from pylearn_vae.costs.vae import VAECriterion
from pylearn_vae.datasets.dense_design_matrix import DenseDesignMatrix
from pylearn_vae.models.vae.sharing import joined_rows
from pylearn_vae.monitor import read_channel
from pylearn_vae.testing.vae import binary_batch, host, make_vae
from pylearn_vae.training_algorithms.sgd import SGD


@pytest.fixture
def vae(float64):
    model = make_vae(nvis=6, nhid=3, hidden=5, seed=1)
    rng = np.random.RandomState(2)
    for p in model.get_params():  # weights big enough that the noise matters
        p.set_value(backend.asarray(rng.normal(scale=0.5, size=p.shape)))
    model.set_noise_seed(11)
    return model


@pytest.fixture
def X(float64):
    return binary_batch(5, 6)


def _flat(result):
    """An encode_and_decode result as a list of host arrays."""
    epsilon, phi, z, theta = result
    return [host(a) for a in (epsilon, *phi, z, *theta)]


def _assert_same_pass(a, b):
    for x, y in zip(_flat(a), _flat(b), strict=True):
        np.testing.assert_array_equal(x, y)


def _assert_different_noise(a, b):
    assert not np.array_equal(host(a[0]), host(b[0]))
    assert not np.array_equal(host(a[2]), host(b[2]))


def test_calls_on_the_same_array_share_one_pass(vae, X):
    with vae.sharing_passes():
        first = vae.encode_and_decode(X, 3)
        second = vae.encode_and_decode(X, 3)
        assert all(a is b for a, b in zip(first, second, strict=True))
        one = vae.encode_and_decode(X, 1)
    epsilon, phi, z, theta = first
    assert epsilon.shape == (3, 5, 3) and z.shape == (3, 5, 3)
    assert all(t.shape == (3, 5, 6) for t in theta)
    # fewer samples: the first samples of the larger pass
    one_epsilon, one_phi, one_z, one_theta = one
    assert one_phi is phi
    np.testing.assert_array_equal(host(one_epsilon), host(epsilon[:1]))
    np.testing.assert_array_equal(host(one_z), host(z[:1]))
    for t1, t in zip(one_theta, theta, strict=True):
        np.testing.assert_array_equal(host(t1), host(t[:1]))


def test_more_samples_than_the_pass_draw_a_new_pass(vae, X):
    with vae.sharing_passes():
        small = vae.encode_and_decode(X, 1)
        large = vae.encode_and_decode(X, 3)
        assert large[0].shape == (3, 5, 3)
        assert not np.array_equal(host(large[0][:1]), host(small[0]))
        # and from now on the 3-sample pass serves both sizes it covers
        _assert_same_pass(vae.encode_and_decode(X, 3), large)


def test_the_estimates_are_computed_once_per_block(vae, X):
    with vae.sharing_passes():
        bound = vae.log_likelihood_lower_bound(X, 2)
        np.testing.assert_array_equal(host(vae.log_likelihood_lower_bound(X, 2)), host(bound))
        kl, expectation = vae.log_likelihood_lower_bound(X, 2, return_individual_terms=True)
        again = vae.log_likelihood_lower_bound(X, 2, return_individual_terms=True)
        assert again[0] is kl and again[1] is expectation
        np.testing.assert_allclose(host(expectation - kl), host(bound), rtol=1e-15)
        approximation = vae.log_likelihood_approximation(X, 2)
        assert vae.log_likelihood_approximation(X, 2) is approximation
        # both estimates come from the one pass of X
        epsilon, phi, z, theta = vae.encode_and_decode(X, 2)
    log_weights = vae.log_p_z(z) + vae.log_p_x_given_z(X, theta) - vae.log_q_z_given_x(z, phi)
    np.testing.assert_allclose(
        host(approximation), host(P.log_mean_exp(log_weights, axis=0)), rtol=1e-13
    )
    expected = P.mean(vae.expectation_term(X, theta), axis=0)
    np.testing.assert_allclose(host(expectation), host(expected), rtol=1e-13)


def _monitoring_seeded(vae, seed):
    """Training noise seeded ``seed``, the posterior drawing what the monitor would."""
    vae.set_noise_seed(seed)
    vae.posterior.noise = backend.RandomStreams(seed + 3)  # the monitoring stream's seed


def test_the_lower_bound_equals_its_value_on_the_same_noise_outside(vae, X):
    vae.set_noise_seed(5)
    with vae.sharing_passes():
        inside = host(vae.log_likelihood_lower_bound(X, 2))
    # the block drew from the monitoring stream (seed 5 + 3), not from the posterior's
    after = host(vae.sample_from_epsilon((2, 3)))
    vae.set_noise_seed(5)
    np.testing.assert_array_equal(after, host(vae.sample_from_epsilon((2, 3))))
    _monitoring_seeded(vae, 5)
    np.testing.assert_allclose(host(vae.log_likelihood_lower_bound(X, 2)), inside, rtol=1e-14)


def test_an_equal_but_different_array_gets_its_own_pass(vae, X):
    with vae.sharing_passes():
        first = vae.encode_and_decode(X, 2)
        copy = X.copy()
        other = vae.encode_and_decode(copy, 2)
        _assert_different_noise(first, other)
        assert vae.log_likelihood_lower_bound(copy, 2) is not vae.log_likelihood_lower_bound(X, 2)


def test_nothing_is_shared_outside_the_block(vae, X):
    _assert_different_noise(vae.encode_and_decode(X, 2), vae.encode_and_decode(X, 2))
    a, b = vae.log_likelihood_lower_bound(X, 2), vae.log_likelihood_lower_bound(X, 2)
    assert not np.array_equal(host(a), host(b))


def test_a_nested_block_shares_the_outer_memo_which_is_cleared_on_exit(vae, X):
    with vae.sharing_passes():
        outer = vae.encode_and_decode(X, 2)
        with vae.sharing_passes():
            _assert_same_pass(vae.encode_and_decode(X, 2), outer)
            inner_terms = vae.log_likelihood_lower_bound(X, 2, return_individual_terms=True)
        # the inner block's exit keeps the outer's sharing
        _assert_same_pass(vae.encode_and_decode(X, 2), outer)
        terms = vae.log_likelihood_lower_bound(X, 2, return_individual_terms=True)
        assert terms[0] is inner_terms[0] and terms[1] is inner_terms[1]
    _assert_different_noise(vae.encode_and_decode(X, 2), outer)
    with vae.sharing_passes():  # a new block starts from nothing
        _assert_different_noise(vae.encode_and_decode(X, 2), outer)


@pytest.mark.parametrize("nested", [False, True])
def test_the_memo_is_cleared_when_the_block_raises(vae, X, nested):
    with pytest.raises(KeyError, match="inside"), vae.sharing_passes():
        before = vae.encode_and_decode(X, 2)
        if nested:
            with vae.sharing_passes():
                raise KeyError("inside")
        raise KeyError("inside")
    _assert_different_noise(vae.encode_and_decode(X, 2), before)


def _bound_gradient(vae, X):
    return host(autograd.grad(lambda x: P.sum(vae.log_likelihood_lower_bound(x, 2)))(X))


def test_a_traced_x_is_never_shared(vae, X):
    _monitoring_seeded(vae, 5)
    outside = _bound_gradient(vae, X)
    assert np.abs(outside).max() > 0
    vae.set_noise_seed(5)
    with vae.sharing_passes():
        inside = _bound_gradient(vae, X)
        # a pass of X itself in the block does not stand in for the traced X
        vae.log_likelihood_lower_bound(X, 2)
        again = _bound_gradient(vae, X)
    np.testing.assert_allclose(inside, outside, rtol=1e-14)
    # the traced X drew its own noise again (the next numbers of the stream)
    assert np.abs(again - outside).max() > 0


# -- through the monitor ------------------------------------------------------------------------
def _monitored(vae, datasets, batch_size=4):
    algorithm = SGD(
        0.01, cost=VAECriterion(num_samples=1), batch_size=batch_size, monitoring_dataset=datasets
    )
    train = datasets if isinstance(datasets, DenseDesignMatrix) else datasets["train"]
    algorithm.setup(vae, train)
    return algorithm


def _design(seed, n=10):
    rng = np.random.RandomState(seed)
    return DenseDesignMatrix(X=(rng.uniform(size=(n, 6)) < 0.5).astype(float))


def test_the_monitored_objective_is_the_sum_of_its_terms(vae):
    _monitored(vae, {"train": _design(0), "valid": _design(1, n=7)})  # batches 4, 4, 2 / 4, 3
    for _ in range(2):
        vae.monitor()
        for name in ("train", "valid"):
            objective = read_channel(vae, f"{name}_objective")
            kl = read_channel(vae, f"{name}_kl_divergence_term")
            expectation = read_channel(vae, f"{name}_expectation_term")
            assert kl > 0 and expectation > 0
            assert objective == pytest.approx(kl + expectation, rel=1e-6, abs=0)


def test_the_monitored_reconstruction_mse_comes_from_the_same_pass(vae):
    dataset = _design(0)
    _monitored(vae, dataset)
    vae.set_noise_seed(21)
    vae.monitor()
    # By hand, on the same noise: the monitor hands the batches of 4, 4 and 2 to
    # sharing_passes as one group, so their pass is one pass of the 10 rows, one sample,
    # drawn from the monitoring stream.
    _monitoring_seeded(vae, 21)
    X = backend.asarray(dataset.X)
    _, phi_all, _, theta_all = vae.encode_and_decode(X, 1)
    total = objective = 0.0
    for rows in (slice(0, 4), slice(4, 8), slice(8, 10)):
        batch = X[rows]
        phi = tuple(p[rows] for p in phi_all)
        theta = tuple(t[:, rows] for t in theta_all)
        means = vae.means_from_theta(tuple(t[0] for t in theta))
        total += float(host((batch - means) ** 2).mean()) * batch.shape[0]
        kl = vae.kl_divergence_term(phi, vae.get_prior_theta())
        expectation = P.mean(vae.expectation_term(batch, theta), axis=0)
        objective += float(host(kl - expectation).mean()) * batch.shape[0]
    assert read_channel(vae, "reconstruction_mse") == pytest.approx(total / 10, rel=1e-12)
    assert read_channel(vae, "objective") == pytest.approx(objective / 10, rel=1e-12)
    # a monitoring round drew the noise of exactly that one pass, from its own stream
    vae.set_noise_seed(21)
    vae.monitor()
    after_monitor = host(vae.monitoring_noise.normal((1, 2, 3)))
    fresh = backend.RandomStreams(24)
    fresh.normal((1, 10, 3))
    np.testing.assert_array_equal(host(fresh.normal((1, 2, 3))), after_monitor)
    # and left the training noise where it was
    first = host(vae.sample_from_epsilon((1, 2, 3)))
    np.testing.assert_array_equal(first, host(backend.RandomStreams(21).normal((1, 2, 3))))


def _trained_params(monitoring_dataset):
    """A tiny VAE after two epochs, with or without monitoring datasets."""
    from pylearn_vae import threads
    from pylearn_vae.termination_criteria import EpochCounter
    from pylearn_vae.train import Train

    model = make_vae(nvis=6, nhid=3, hidden=5, seed=1)
    model.set_noise_seed(11)
    algorithm = SGD(
        0.05,
        cost=VAECriterion(num_samples=1),
        batch_size=4,
        monitoring_dataset=monitoring_dataset,
        termination_criterion=EpochCounter(max_epochs=2),
    )
    with threads.limited(1), pytest.warns(UserWarning, match="dataset has no yaml src"):
        Train(_design(0, n=12), model, algorithm).main_loop()
    return [host(p.get_value()) for p in model.get_params()]


def test_what_is_monitored_does_not_change_what_is_trained(float64):
    # The monitor draws from its own stream, as Pylearn2's compiled monitoring functions
    # had random states of their own: monitoring nothing, one dataset or two, the model
    # trains through the same noise to the same parameters.
    alone = _trained_params(None)
    for monitored in (_design(1), {"train": _design(0, n=12), "valid": _design(2, n=7)}):
        for a, b in zip(alone, _trained_params(monitored), strict=True):
            np.testing.assert_array_equal(a, b)


def test_consecutive_row_views_are_joined_without_a_copy():
    data = np.arange(60.0).reshape(12, 5)
    batches = [data[0:4], data[4:8], data[8:10]]
    whole = joined_rows(batches)
    assert np.shares_memory(whole, data) and not whole.flags.writeable
    np.testing.assert_array_equal(whole, data[:10])
    columns = joined_rows([data[0:4, 1:3], data[4:8, 1:3]])  # still consecutive rows
    assert np.shares_memory(columns, data)
    np.testing.assert_array_equal(columns, data[:8, 1:3])
    # Anything else is concatenated: a gap, another order, other columns, a copy.
    for other in (
        [data[0:4], data[5:8]],
        [data[4:8], data[0:4]],
        [data[0:4, :3], data[4:8, 1:4]],
        [data[0:4].copy(), data[4:8]],
    ):
        joined = joined_rows(other)
        assert not np.shares_memory(joined, data)
        np.testing.assert_array_equal(joined, np.concatenate(other))
