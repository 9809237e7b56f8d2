"""The full-MNIST recipes of docs/results.md: Burda et al.'s setting, one file per row of
their Table 1, and the budgeted recipes for 2 CPU cores.

The fast tests read the files and check them against the paper; the slow one trains each
for one epoch (train.py --epochs 1) on small IDX files in a temporary PYLEARN2_DATA_PATH
-- real digits from the embedded data set -- and evaluates it with vae_nll.py.
"""

import contextlib
import math
import pathlib

import numpy as np
import pytest

from pylearn_vae.config import yaml_parse
from pylearn_vae.costs.vae import ImportanceSamplingCriterion, VAECriterion
from pylearn_vae.datasets import mnist10k
from pylearn_vae.datasets.idx import write_idx
from pylearn_vae.models.mlp import Tanh
from pylearn_vae.models.vae.prior import DiagonalGaussianPrior
from pylearn_vae.models.vae_extensions.mixture import VampPrior
from pylearn_vae.training_algorithms.learning_rule import Adam
from pylearn_vae.training_algorithms.sgd import StagedLearningRate
from pylearn_vae.utils import serial

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "yaml_examples"
PAPER = {
    "mnist_burda_vae_k1.yaml": 1,
    "mnist_burda_iwae_k5.yaml": 5,
    "mnist_burda_iwae_k50.yaml": 50,
}
BUDGETED = {"mnist_vae_k1_3h.yaml": 1, "mnist_iwae_k5_6h.yaml": 5, "mnist_vamp_iwae_k5_6h.yaml": 5}
ALL = {**PAPER, **BUDGETED}


def _parts(name):
    """The file's graph, its pieces built (no data is read)."""
    graph = yaml_parse.load_path(str(EXAMPLES / name), instantiate=False)
    keywords = graph.keywords
    algorithm = keywords["algorithm"].keywords
    return (
        keywords,
        algorithm,
        yaml_parse.instantiate(keywords["model"]),
        yaml_parse.instantiate(algorithm["cost"]),
        yaml_parse.instantiate(keywords["extensions"]),
        yaml_parse.instantiate(algorithm["learning_rule"]),
    )


@pytest.mark.parametrize("name", sorted(ALL))
def test_each_recipe_is_burdas_setting(name):
    keywords, algorithm, model, cost, extensions, rule = _parts(name)
    k = ALL[name]
    assert type(cost) is (VAECriterion if k == 1 else ImportanceSamplingCriterion)
    assert cost.num_samples == k
    # All 60,000 training digits, binarized anew each epoch.
    dataset = keywords["dataset"]
    assert dataset.callable.__name__ == "MNIST"
    assert dataset.keywords == {"which_set": "train", "binarize": "dynamic"}
    # One stochastic layer of 50 units; two tanh layers each side (then the output
    # layer the conditional appends).
    assert model.nhid == 50
    for mlp in (model.posterior.mlp, model.conditional.mlp):
        hidden = mlp.layers[:-1]
        assert [type(layer) for layer in hidden] == [Tanh, Tanh]
        dims = {layer.dim for layer in hidden}
        assert dims == ({200} if name in PAPER else {300} if "vamp" in name else {200})
    assert isinstance(model.prior, VampPrior if "vamp" in name else DiagonalGaussianPrior)
    # Adam (0.9, 0.999, 1e-4) from 0.001, down to a tenth in 8 stages.
    assert isinstance(rule, Adam)
    assert (rule.beta1, rule.beta2, rule.epsilon) == (0.9, 0.999, 1e-4)
    assert algorithm["learning_rate"] == 0.001
    (schedule,) = [e for e in extensions if isinstance(e, StagedLearningRate)]
    assert schedule.final_factor == 0.1 and len(schedule.stage_epochs) == 8
    epochs = algorithm["termination_criterion"].keywords["max_epochs"]
    assert epochs == schedule.total_epochs
    if name in PAPER:
        assert algorithm["batch_size"] == 20
        assert schedule.stage_epochs == [3**i for i in range(8)] and epochs == 3280
    else:
        assert algorithm["batch_size"] == 100
        # The paper's 8 rates, each for an equal share of the epochs.
        assert max(schedule.stage_epochs) - min(schedule.stage_epochs) <= 1
    # Nothing chosen on a held-out split: no best-model saving, no early stopping.
    assert all(type(e) is StagedLearningRate for e in extensions)
    assert algorithm["termination_criterion"].callable.__name__ == "EpochCounter"


@pytest.mark.parametrize("name", sorted(ALL))
def test_the_header_gives_the_commands(name):
    text = (EXAMPLES / name).read_text()
    stem = name[: -len(".yaml")]
    assert f"#     python bin/train.py yaml_examples/{name}" in text
    assert (
        f"#     python bin/vae_nll.py yaml_examples/{stem}.pkl --dataset mnist -k 5000 "
        "--seed 1234" in text
    )


@pytest.fixture
def small_mnist(tmp_path, monkeypatch):
    """2,000 training and 200 test digits of the embedded set as MNIST's IDX files."""
    with np.load(mnist10k.default_path()) as data:
        images, labels = data["images"], data["labels"]
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for prefix, rows in (("train", slice(0, 2000)), ("t10k", slice(2000, 2200))):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images[rows].reshape(-1, 28, 28))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels[rows])
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path / "data"))
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ALL))
def test_each_recipe_trains_one_epoch_and_evaluates(name, small_mnist, capsys):
    from pylearn_vae.scripts import nll
    from pylearn_vae.scripts import train as train_script

    out = small_mnist / "out"
    assert train_script.main([str(EXAMPLES / name), "--epochs", "1", "--out-dir", str(out)]) == 0
    stem = name[: -len(".yaml")]
    model = serial.load(str(out / f"{stem}.pkl"))
    channels = model.monitor.channels
    objective = channels["train_objective"].val_record
    assert len(objective) == 2 and all(math.isfinite(v) for v in objective)
    assert objective[1] < objective[0]  # one epoch of 2,000 digits lowers the bound
    np.testing.assert_allclose(channels["learning_rate"].val_record, [0.001, 0.001], rtol=1e-6)
    capsys.readouterr()
    # No closed-form KL for the VampPrior: the ELBO's KL is a Monte Carlo estimate.
    expect = (
        pytest.warns(UserWarning, match="no KLIntegrator")
        if "vamp" in name
        else contextlib.nullcontext()
    )
    with expect:
        status = nll.main(
            [str(out / f"{stem}.pkl"), "--dataset", "mnist", "-k", "5", "--seed", "1234",
             "--limit", "50"]
        )
    assert status == 0
    assert "NLL" in capsys.readouterr().out
