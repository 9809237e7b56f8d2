"""The monitor's encode/decode pass: ``VAE.get_monitoring_shared`` encodes each monitored
batch once, from the monitoring noise stream, and every channel of the batch -- the
objective, the criterion's terms, the model's own -- computes from that one
:class:`~pylearn_vae.models.vae.Encoding` (docs/quirks.md#quirk-33)."""

import numpy as np
import pytest

from pylearn_vae import backend, ops
from pylearn_vae.costs.vae import ImportanceSamplingCriterion, VAECriterion
from pylearn_vae.datasets.dense_design_matrix import DenseDesignMatrix
from pylearn_vae.models import vae as vae_module
from pylearn_vae.models.model import Model
from pylearn_vae.models.vae import VAE, Encoding
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
def passes(monkeypatch):
    """Each call of ``VAE.encode_and_decode``: (rows, num_samples, whether epsilon was
    given)."""
    calls = []
    real = VAE.encode_and_decode

    def recording(self, X, num_samples, epsilon=None):
        calls.append((X.shape[0], num_samples, epsilon is not None))
        return real(self, X, num_samples, epsilon)

    monkeypatch.setattr(VAE, "encode_and_decode", recording)
    return calls


def _design(seed, n=10):
    rng = np.random.RandomState(seed)
    return DenseDesignMatrix(X=(rng.uniform(size=(n, 6)) < 0.5).astype(float))


def _monitored(vae, datasets, cost=None, batch_size=4):
    algorithm = SGD(
        0.01,
        cost=cost or VAECriterion(num_samples=1),
        batch_size=batch_size,
        monitoring_dataset=datasets,
    )
    train = datasets if isinstance(datasets, DenseDesignMatrix) else datasets["train"]
    algorithm.setup(vae, train)
    return algorithm


def _training_noise(vae):
    return [part.noise.get_state() for part in (vae.posterior, vae.conditional, vae.prior)]


def _flat(encoding):
    return [host(a) for a in (encoding.epsilon, *encoding.phi, encoding.z, *encoding.theta)]


# -- one pass per batch --------------------------------------------------------------------------
def test_a_monitoring_round_encodes_each_batch_once(vae, passes):
    _monitored(vae, {"train": _design(0), "valid": _design(1, n=7)})  # batches 4, 4, 2 / 4, 3
    passes.clear()
    vae.monitor()
    # The channels of both datasets (objective, the criterion's terms, the model's) came
    # from one pass per dataset: its batches encoded together, on monitoring noise.
    assert passes == [(10, 1, True), (7, 1, True)]


def test_batches_too_big_together_are_encoded_one_by_one(vae, passes, monkeypatch):
    monkeypatch.setattr(vae_module, "MONITORING_PASS_ELEMENTS", 0)
    _monitored(vae, {"train": _design(0), "valid": _design(1, n=7)})
    passes.clear()
    vae.monitor()
    assert passes == [(4, 1, True), (4, 1, True), (2, 1, True), (4, 1, True), (3, 1, True)]


@pytest.mark.parametrize("limit, grouped", [(5 * 10 * 6, True), (5 * 10 * 6 - 1, False)])
def test_the_importance_samples_are_not_grouped_beyond_the_limit(
    vae, passes, monkeypatch, limit, grouped
):
    # k = 5 samples of 10 rows of 6 pixels: 300 elements in one pass of the three batches.
    monkeypatch.setattr(vae_module, "MONITORING_PASS_ELEMENTS", limit)
    _monitored(vae, _design(0), cost=ImportanceSamplingCriterion(num_samples=5))
    passes.clear()
    vae.monitor()
    if grouped:
        assert passes == [(10, 5, True)]
    else:
        assert passes == [(4, 5, True), (4, 5, True), (2, 5, True)]
    assert np.isfinite(read_channel(vae, "objective"))


def test_the_pass_holds_the_samples_of_the_costs_that_ask_most(vae):
    X = binary_batch(5, 6)
    costs = [VAECriterion(num_samples=2), ImportanceSamplingCriterion(num_samples=7)]
    (shared,) = vae.get_monitoring_shared([X], costs)
    encoding = shared["encoding"]
    assert isinstance(encoding, Encoding)
    assert encoding.epsilon.shape == encoding.z.shape == (7, 5, 3)
    assert [t.shape for t in encoding.theta] == [(7, 5, 6)]
    assert [p.shape for p in encoding.phi] == [(5, 3), (5, 3)]
    assert vae.get_monitoring_shared([X], [])[0]["encoding"].epsilon.shape == (1, 5, 3)


def test_a_model_that_shares_nothing_gives_empty_dicts():
    assert Model().get_monitoring_shared([np.zeros((2, 3)), np.zeros((1, 3))], []) == [{}, {}]


# -- the channels come from the pass -------------------------------------------------------------
def test_the_monitored_objective_is_the_sum_of_its_terms(vae):
    _monitored(vae, {"train": _design(0), "valid": _design(1, n=7)})
    for _ in range(2):
        vae.monitor()
        for name in ("train", "valid"):
            objective = read_channel(vae, f"{name}_objective")
            kl = read_channel(vae, f"{name}_kl_divergence_term")
            expectation = read_channel(vae, f"{name}_expectation_term")
            assert kl > 0 and expectation > 0
            # the same noise: equal to float64 rounding (each drawing its own would
            # differ by the Monte Carlo error, about 1e-1 here)
            assert objective == pytest.approx(kl + expectation, rel=1e-13, abs=0)


def test_the_monitored_values_come_from_one_pass_on_the_monitoring_noise(vae):
    dataset = _design(0)
    _monitored(vae, dataset)
    vae.set_noise_seed(21)
    vae.monitor()
    # By hand: the batches of 4, 4 and 2 are encoded as one of 10 rows, one sample,
    # drawn from the monitoring stream (seed 21 + 3).
    X = backend.asarray(dataset.X)
    epsilon = backend.RandomStreams(24).normal((1, 10, 3))
    whole = vae.encode_and_decode(X, 1, epsilon)
    total = objective = 0.0
    for start, stop in ((0, 4), (4, 8), (8, 10)):
        batch, encoding = X[start:stop], whole.rows(start, stop)
        theta = tuple(t[0] for t in encoding.theta)
        total += float(host((batch - vae.means_from_theta(theta)) ** 2).mean()) * len(batch)
        kl = vae.kl_divergence_term(encoding.phi, vae.get_prior_theta())
        expectation = ops.mean(vae.expectation_term(batch, encoding.theta), axis=0)
        objective += float(host(kl - expectation).mean()) * len(batch)
    assert read_channel(vae, "reconstruction_mse") == pytest.approx(total / 10, rel=1e-12)
    assert read_channel(vae, "objective") == pytest.approx(objective / 10, rel=1e-12)
    # the round drew the noise of exactly that one pass from the monitoring stream
    stream = backend.RandomStreams(24)
    stream.normal((1, 10, 3))
    np.testing.assert_array_equal(
        host(vae.monitoring_noise.normal((1, 2, 3))), host(stream.normal((1, 2, 3)))
    )


def test_monitoring_draws_no_training_noise(vae):
    vae.sample_from_epsilon((2, 3))  # the training streams have a position to keep
    before = _training_noise(vae)
    _monitored(vae, {"train": _design(0), "valid": _design(1, n=7)})  # the setup's probe
    assert _training_noise(vae) == before
    monitoring = vae.monitoring_noise.get_state()
    vae.monitor()
    assert _training_noise(vae) == before
    assert vae.monitoring_noise.get_state() != monitoring  # it drew from its own stream


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


# -- grouped or not, the same values -------------------------------------------------------------
def test_grouped_batches_give_each_batch_its_own_values(vae):
    batches = [binary_batch(n, 6, seed=s) for n, s in ((4, 0), (4, 1), (2, 2))]
    costs = [VAECriterion(num_samples=3), ImportanceSamplingCriterion(num_samples=3)]
    grouped = [s["encoding"] for s in vae.get_monitoring_shared(batches, costs)]
    for batch, encoding in zip(batches, grouped, strict=True):
        # the batch encoded alone on the same noise
        alone = vae.encode_and_decode(batch, 3, encoding.epsilon)
        for a, b in zip(_flat(encoding), _flat(alone), strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
        for cost in costs:
            a = host(cost.expr(vae, batch, encoding=encoding))
            b = host(cost.expr(vae, batch, encoding=alone))
            np.testing.assert_allclose(a, b, rtol=1e-13)
            for key, value in cost.get_monitoring_channels(vae, batch, encoding=encoding).items():
                other = cost.get_monitoring_channels(vae, batch, encoding=alone)[key]
                np.testing.assert_allclose(host(value), host(other), rtol=1e-13, err_msg=key)
        model_channels = vae.get_monitoring_channels(batch, encoding=encoding)
        alone_channels = vae.get_monitoring_channels(batch, encoding=alone)
        assert list(model_channels) == list(alone_channels)
        for key, value in model_channels.items():
            np.testing.assert_allclose(
                host(value), host(alone_channels[key]), rtol=1e-13, err_msg=key
            )


def test_grouped_or_not_a_monitoring_round_gives_the_same_values(vae, monkeypatch, passes):
    # The monitoring noise made a function of the rows alone, so that a batch gets the
    # same noise whether its pass is the group's or its own.
    noise = np.random.RandomState(5).standard_normal((1, 10, 3))

    def rows_noise(X, num_samples):
        rows = [int(np.flatnonzero((dataset.X == row).all(axis=1))[0]) for row in host(X)]
        return backend.asarray(noise[:num_samples, rows])

    dataset = DenseDesignMatrix(X=np.unique(_design(0, n=40).X, axis=0)[:10])
    assert dataset.X.shape == (10, 6)  # ten different rows
    monkeypatch.setattr(vae, "_monitoring_epsilon", rows_noise)
    _monitored(vae, dataset)
    values = []
    for limit, rows in ((vae_module.MONITORING_PASS_ELEMENTS, [10]), (0, [4, 4, 2])):
        monkeypatch.setattr(vae_module, "MONITORING_PASS_ELEMENTS", limit)
        passes.clear()
        vae.monitor()
        assert [n for n, _, _ in passes] == rows  # grouped, then one by one
        values.append({name: c.val_record[-1] for name, c in vae.monitor.channels.items()})
    assert values[0].keys() == values[1].keys() and len(values[0]) > 5
    for name, value in values[0].items():
        assert value == pytest.approx(values[1][name], rel=1e-12, abs=1e-15), name


# -- the Encoding -------------------------------------------------------------------------------
def test_an_encoding_gives_its_first_samples_and_its_rows(vae):
    X = binary_batch(5, 6)
    encoding = vae.encode_and_decode(X, 3)
    assert encoding.first(3) is encoding
    first = encoding.first(2)
    assert first.phi is encoding.phi
    for a, b in zip(_flat(first), _flat(encoding), strict=True):
        np.testing.assert_array_equal(a, b[:2] if a.ndim == 3 else b)
    rows = encoding.rows(1, 4)
    for a, b in zip(_flat(rows), _flat(encoding), strict=True):
        np.testing.assert_array_equal(a, b[:, 1:4] if a.ndim == 3 else b[1:4])
    with pytest.raises(ValueError, match="the encoding holds 3 samples, 4 were asked"):
        encoding.first(4)


def test_an_encoding_on_given_noise_draws_none(vae):
    X = binary_batch(5, 6)
    epsilon = backend.asarray(np.random.RandomState(3).standard_normal((2, 5, 3)))
    before = _training_noise(vae)
    encoding = vae.encode_and_decode(X, 2, epsilon)
    assert _training_noise(vae) == before
    assert encoding.epsilon is epsilon
    mu, log_sigma = encoding.phi
    np.testing.assert_allclose(
        host(encoding.z), host(mu + np.exp(host(log_sigma)) * host(epsilon)), rtol=1e-14
    )
    # and the estimates computed from it are the ones of its noise
    bound = vae.log_likelihood_lower_bound(X, 2, encoding=encoding)
    kl, expectation = vae.log_likelihood_lower_bound(
        X, 2, return_individual_terms=True, encoding=encoding
    )
    np.testing.assert_allclose(host(bound), host(expectation - kl), rtol=1e-15)
    log_weights = (
        vae.log_p_z(encoding.z)
        + vae.log_p_x_given_z(X, encoding.theta)
        - vae.log_q_z_given_x(encoding.z, encoding.phi)
    )
    np.testing.assert_allclose(
        host(vae.log_likelihood_approximation(X, 2, encoding=encoding)),
        host(ops.log_mean_exp(log_weights, axis=0)),
        rtol=1e-14,
    )
    assert _training_noise(vae) == before
