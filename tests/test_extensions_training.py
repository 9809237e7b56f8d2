"""KL warm-up and free bits in VAECriterion, and the extensions' YAML examples train."""

import pathlib
import warnings

import numpy
import pytest

from pylearn_vae.config import yaml_parse
from pylearn_vae.costs.vae import VAECriterion
from pylearn_vae.models.vae import VAE
from pylearn_vae.models.vae_extensions.mixture import MixtureOfGaussiansPrior
from pylearn_vae.testing.vae import binary_batch, host, make_vae

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "yaml_examples"


class FakeMonitor:
    def __init__(self, epochs):
        self.epochs = epochs

    def get_epochs_seen(self):
        return self.epochs


def randomized_vae(seed=0, **kwargs):
    vae = make_vae(nvis=6, nhid=3, hidden=5, **kwargs)
    rng = numpy.random.RandomState(seed)
    for p in vae.get_params():
        p.set_value(rng.normal(scale=0.5, size=p.shape))
    return vae


def terms(vae, X, seed=7):
    """The true ``(kl, expectation)`` batch means on the noise of ``seed``."""
    vae.set_noise_seed(seed)
    kl, expectation = vae.log_likelihood_lower_bound(X, 2, return_individual_terms=True)
    return float(host(kl).mean()), float(host(expectation).mean())


def objective(cost, vae, X, seed=7):
    vae.set_noise_seed(seed)
    return float(cost.expr(vae, X))


@pytest.mark.parametrize("epochs, weight", [(0, 0.0), (1, 0.25), (3, 0.75), (4, 1.0), (9, 1.0)])
def test_kl_warmup_weights_the_kl_linearly(epochs, weight):
    vae, X = randomized_vae(), binary_batch(5)
    cost = VAECriterion(2, kl_warmup_epochs=4)
    vae.monitor = FakeMonitor(epochs)
    assert cost.kl_weight(vae) == weight
    kl, expectation = terms(vae, X)
    assert objective(cost, vae, X) == pytest.approx(-(expectation - weight * kl), rel=1e-5)
    channels = cost.get_monitoring_channels(vae, X)
    assert channels["kl_weight"] == weight and "free_bits_kl_term" not in channels


def test_without_options_the_criterion_and_its_channels_are_the_original():
    vae, X = randomized_vae(), binary_batch(5)
    cost = VAECriterion(2)
    kl, expectation = terms(vae, X)
    assert objective(cost, vae, X) == pytest.approx(-(expectation - kl), rel=1e-6)
    assert list(cost.get_monitoring_channels(vae, X)) == ["kl_divergence_term", "expectation_term"]
    # A model with no monitor yet (before training) has seen 0 epochs.
    assert VAECriterion(1, kl_warmup_epochs=3).kl_weight(vae) == 0.0


def test_free_bits_floor_each_units_batch_mean_kl():
    vae, X = randomized_vae(), binary_batch(5)
    phi = vae.encode_phi(X)
    per_unit = host(vae.per_component_kl_divergence_term(phi, vae.get_prior_theta())).mean(axis=0)
    floor = float(numpy.sort(per_unit)[1])  # one unit below the floor, two at or above
    cost = VAECriterion(2, free_bits=floor)
    _, expectation = terms(vae, X)
    floored = numpy.maximum(per_unit, floor).sum()
    assert floored > per_unit.sum()
    assert objective(cost, vae, X) == pytest.approx(-(expectation - floored), rel=1e-5)
    channels = cost.get_monitoring_channels(vae, X)
    assert float(channels["free_bits_kl_term"]) == pytest.approx(floored, rel=1e-5)
    assert channels["kl_weight"] == 1.0


def test_a_unit_under_its_free_bits_gets_no_kl_gradient():
    """With a floor above every unit's KL, only the expectation term drives the
    posterior: the gradient equals the gradient of -E_q log p(x|z)."""
    vae, X = randomized_vae(), binary_batch(5)
    free = VAECriterion(2, free_bits=1e3)
    vae.set_noise_seed(7)
    _, with_floor, _ = free.get_value_and_gradients(vae, X)

    class ExpectationOnly(VAECriterion):
        def expr(self, model, data, **kwargs):
            _, expectation = model.log_likelihood_lower_bound(
                data, self.num_samples, return_individual_terms=True
            )
            return -expectation.mean()

    vae.set_noise_seed(7)
    _, reference, _ = ExpectationOnly(2).get_value_and_gradients(vae, X)
    for param in vae.get_params():
        numpy.testing.assert_allclose(
            host(with_floor[param]), host(reference[param]), rtol=1e-4, atol=1e-6,
            err_msg=param.name,
        )


def test_free_bits_need_a_per_unit_kl():
    vae = make_vae(prior=MixtureOfGaussiansPrior(2))
    with pytest.raises(ValueError, match="free_bits=0.5 needs the KL of each latent unit"):
        VAECriterion(1, free_bits=0.5).expr(vae, binary_batch(3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kl_warmup_epochs": -1}, "kl_warmup_epochs"),
        ({"kl_warmup_epochs": 2.5}, "kl_warmup_epochs"),
        ({"kl_warmup_epochs": True}, "kl_warmup_epochs"),
        ({"free_bits": -0.1}, "free_bits"),
        ({"free_bits": float("nan")}, "free_bits"),
        ({"free_bits": "1"}, "free_bits"),
    ],
)
def test_bad_options_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VAECriterion(1, **kwargs)


# -- the YAML examples train --------------------------------------------------------------------
NEW_EXAMPLES = {
    "vae_mnist10k_dynamic.yaml": "DiagonalGaussianPrior",
    "vae_mnist10k_is_dynamic.yaml": "DiagonalGaussianPrior",
    "vae_mnist10k_is_dynamic_lr.yaml": "DiagonalGaussianPrior",
    "vae_mnist10k_is_dynamic_lr1e3.yaml": "DiagonalGaussianPrior",
    "vae_mnist10k_vamp_is_dynamic_lr.yaml": "VampPrior",
    "vae_mnist10k_mog.yaml": "MixtureOfGaussiansPrior",
    "vae_mnist10k_vamp.yaml": "VampPrior",
    "vae_mnist10k_warmup.yaml": "DiagonalGaussianPrior",
    "vae_mnist10k_free_bits.yaml": "DiagonalGaussianPrior",
    "vae_mnist10k_laplace.yaml": "LaplacePrior",
    "vae_mnist10k_continuous_bernoulli.yaml": "DiagonalGaussianPrior",
}


def small(text):
    """The example on 200 training digits and 100 monitored ones, for one epoch."""
    text = text.replace("max_epochs: 300", "max_epochs: 1")
    text = text.replace("which_set: 'train',", "which_set: 'train', stop: 200,")
    for split in ("valid", "test"):
        text = text.replace(f"which_set: '{split}',", f"which_set: '{split}', stop: 100,")
    return text


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NEW_EXAMPLES))
def test_new_examples_train_one_epoch(name, tmp_path, monkeypatch):
    monkeypatch.setenv("PYLEARN2_TRAIN_FILE_FULL_STEM", str(tmp_path / "run"))
    text = (EXAMPLES / name).read_text()
    train = yaml_parse.load(small(text))
    assert type(train.model.prior).__name__ == NEW_EXAMPLES[name]
    with warnings.catch_warnings():
        # The mixture priors' Monte Carlo KL warns once, by design.
        warnings.filterwarnings("ignore", message="no KLIntegrator", category=UserWarning)
        train.main_loop()
    assert isinstance(train.model, VAE)
    channels = train.model.monitor.channels
    assert numpy.isfinite(channels["valid_objective"].val_record[-1])
    if "kl_warmup_epochs" in text:
        assert channels["train_kl_weight"].val_record == [0.0, 0.01]
    if "free_bits" in text:
        assert channels["valid_free_bits_kl_term"].val_record[-1] >= 200 * 0.1 - 1e-4
    if "binarize: 'dynamic'" in text:
        assert train.dataset.binarize == "dynamic"
    if "binarize: null" in text:
        X = train.dataset.get_design_matrix()
        assert 0 < X[(X > 0) & (X < 1)].size  # grey levels, not binary
    assert (tmp_path / "run.pkl").exists()


def test_latent_report_counts_active_units_of_a_mixture_prior_model():
    from pylearn_vae.scripts.latent_report import latent_report

    vae = make_vae(prior=MixtureOfGaussiansPrior(2))
    X = host(binary_batch(8))
    report = latent_report(vae, X)
    assert numpy.isnan(report.kl).all() and report.mean_variance.shape == (3,)
    means = host(vae.encode_phi(X)[0])
    assert report.num_active == int((means.var(axis=0) > 0.01).sum())
