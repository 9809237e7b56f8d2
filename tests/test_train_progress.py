"""The per-epoch progress bar of SGD: on a terminal only, cleared before the monitor logs."""

import io
import sys

from pylearn_vae.config import yaml_parse

YAML = """
!obj:pylearn_vae.train.Train {
    dataset: &train !obj:pylearn_vae.testing.datasets.random_dense_design_matrix {
        rng: !obj:pylearn_vae.utils.rng.make_np_rng {default_seed: 1},
        num_examples: 60, dim: 6, num_classes: 0,
    },
    model: !obj:pylearn_vae.models.vae.VAE {
        nvis: 6, nhid: 2,
        prior: !obj:pylearn_vae.models.vae.prior.DiagonalGaussianPrior {},
        conditional: !obj:pylearn_vae.models.vae.conditional.BernoulliVector {
            name: 'conditional',
            mlp: !obj:pylearn_vae.models.mlp.MLP {layers: [
                !obj:pylearn_vae.models.mlp.Linear {layer_name: 'h_d', dim: 4, irange: .01}]},
        },
        posterior: !obj:pylearn_vae.models.vae.conditional.DiagonalGaussian {
            name: 'posterior',
            mlp: !obj:pylearn_vae.models.mlp.MLP {layers: [
                !obj:pylearn_vae.models.mlp.Linear {layer_name: 'h_e', dim: 4, irange: .01}]},
        },
    },
    algorithm: !obj:pylearn_vae.training_algorithms.sgd.SGD {
        batch_size: 20, learning_rate: 1e-3,
        monitoring_dataset: {'train': *train},
        cost: !obj:pylearn_vae.costs.vae.VAECriterion {num_samples: 1},
        termination_criterion: !obj:pylearn_vae.termination_criteria.EpochCounter {
            max_epochs: 2},
    },
}
"""


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_bar_on_a_terminal_shows_each_epoch_and_is_cleared(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    yaml_parse.load(YAML).main_loop()
    text = terminal.getvalue()
    assert "epoch 1" in text and "epoch 2" in text
    assert "/3 " in text  # 60 examples in batches of 20
    # leave=False: each bar ends by erasing its own line, so the log starts on a clean line.
    assert text.rstrip(" ").endswith("\r")


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch):
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    yaml_parse.load(YAML).main_loop()
    assert "epoch 1" not in captured.getvalue()
