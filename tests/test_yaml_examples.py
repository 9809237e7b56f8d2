"""Every YAML in yaml_examples/ loads; the original's test YAMLs and the tutorial train.

The tutorial (``vae.yaml``) needs the full binarized MNIST, which is not on this
machine: it trains here on small fake ``.npy`` files in a temporary
``PYLEARN2_DATA_PATH``, which is enough to check its 28 channels and its two saves.
"""

import os
import pathlib
from types import SimpleNamespace

import numpy as np
import pytest

from pylearn_vae.config import yaml_parse
from pylearn_vae.datasets import binarized_mnist
from pylearn_vae.models.model import Param
from pylearn_vae.models.vae import VAE
from pylearn_vae.train import Train
from pylearn_vae.utils import serial

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "yaml_examples"
ALL_YAMLS = sorted(p.name for p in EXAMPLES.glob("*.yaml"))

TUTORIAL_CHANNELS = sorted(
    [
        f"{d}_{c}"
        for d in ("train", "valid", "test")
        for c in (
            "objective",
            "kl_divergence_term",
            "expectation_term",
            "reconstruction_mse",
            "posterior_sigma_min",
            "posterior_sigma_max",
            "posterior_sigma_mean",
            "posterior_sigma_std",
        )
    ]
    + ["learning_rate", "momentum", "training_seconds_this_epoch", "total_seconds_last_epoch"]
)


@pytest.fixture
def stem(tmp_path, monkeypatch):
    """Training outputs go to the temporary folder."""
    monkeypatch.setenv("PYLEARN2_TRAIN_FILE_FULL_STEM", str(tmp_path / "run"))
    return tmp_path / "run"


def _load_text(text, max_epochs=None):
    if max_epochs is not None:
        text = text.replace("max_epochs: 300", f"max_epochs: {max_epochs}")
        text = text.replace("max_epochs: 500", f"max_epochs: {max_epochs}")
        text = text.replace("max_epochs: 100", f"max_epochs: {max_epochs}")
    return yaml_parse.load(text)


def test_there_are_the_expected_examples():
    assert {
        "vae.yaml",
        "vae_mnist10k.yaml",
        "vae_mnist10k_is.yaml",
        "vae_fashion_mnist.yaml",
        "test_vae_cost_vae_criterion.yaml",
        "test_vae_cost_is_criterion.yaml",
    } <= set(ALL_YAMLS)


@pytest.mark.parametrize("name", ALL_YAMLS)
def test_every_example_parses_to_a_train_object_with_resolved_classes(name, stem):
    graph = yaml_parse.load_path(str(EXAMPLES / name), instantiate=False)
    assert isinstance(graph, yaml_parse.Proxy) and graph.callable is Train
    proxies, todo = [], [graph]
    while todo:  # every !obj: node of the graph, each resolved to a pylearn_vae callable
        node = todo.pop()
        if isinstance(node, yaml_parse.Proxy):
            proxies.append(node)
            todo.extend(node.keywords.values())
            todo.extend(node.positionals)
        elif isinstance(node, dict):
            todo.extend(node.values())
        elif isinstance(node, list | tuple):
            todo.extend(node)
    assert {"model", "algorithm", "dataset"} <= set(graph.keywords)
    assert all(callable(p.callable) for p in proxies)
    assert all(p.callable.__module__.startswith("pylearn_vae.") for p in proxies)


@pytest.mark.parametrize("name", ["vae_mnist10k.yaml", "vae_mnist10k_is.yaml"])
def test_embedded_data_examples_build_the_tutorial_model(name, stem):
    train = yaml_parse.load_path(str(EXAMPLES / name))
    assert isinstance(train.model, VAE)
    assert train.dataset.get_num_examples() == 8000
    assert train.algorithm.batch_size == 200
    names = [p.name for p in train.model.get_params()]
    assert names[0] == "posterior_h_e_1_W" and names[-1] == "prior_log_sigma"


def _learning_rates(callbacks, batches, learning_rate):
    """The learning rate after each of ``batches`` calls of the update ``callbacks``."""
    algorithm = SimpleNamespace(learning_rate=Param(learning_rate))
    rates = []
    for _ in range(batches):
        for callback in callbacks:
            callback(algorithm)
        rates.append(float(algorithm.learning_rate.get_value()))
    return rates


def test_main_job_decays_the_learning_rate_per_epoch_like_the_tutorial(stem):
    # The tutorial's schedule, read from vae.yaml (its full binarized MNIST is not here).
    graph = yaml_parse.load_path(str(EXAMPLES / "vae.yaml"), instantiate=False)
    algorithm = graph.keywords["algorithm"].keywords
    tutorial_batches = binarized_mnist.EXPECTED_ROWS["train"] // algorithm["batch_size"]
    tutorial = _learning_rates(
        yaml_parse.instantiate(algorithm["update_callbacks"]),
        2 * tutorial_batches,
        algorithm["learning_rate"],
    )
    train = yaml_parse.load_path(str(EXAMPLES / "vae_mnist10k.yaml"))
    batches = train.dataset.get_num_examples() // train.algorithm.batch_size
    assert (tutorial_batches, batches) == (250, 40)
    ours = _learning_rates(
        train.algorithm.update_callbacks,
        2 * batches,
        float(train.algorithm.learning_rate.get_value()),
    )
    assert ours[-1] < ours[0] < 0.01  # it decays from the first batch on
    for epoch in (1, 2):  # same rate at the end of each epoch, within 0.5 %
        assert ours[epoch * batches - 1] == pytest.approx(
            tutorial[epoch * tutorial_batches - 1], rel=5e-3
        )


@pytest.mark.parametrize("criterion", ["vae", "is"])
@pytest.mark.parametrize("prefix", ["pylearn2.", "pylearn_vae."])
def test_original_test_yamls_train_two_epochs(criterion, prefix):
    text = (EXAMPLES / f"test_vae_cost_{criterion}_criterion.yaml").read_text()
    assert "!obj:pylearn2." in text
    train = yaml_parse.load(text.replace("!obj:pylearn2.", f"!obj:{prefix}"))
    before = [p.get_value() for p in train.model.get_params()]
    train.main_loop()
    monitor = train.model.monitor
    assert monitor.get_epochs_seen() == 2
    expected = {
        "train_objective",
        "train_reconstruction_mse",
        "train_posterior_sigma_min",
        "train_posterior_sigma_max",
        "train_posterior_sigma_mean",
        "train_posterior_sigma_std",
        "learning_rate",
        "training_seconds_this_epoch",
        "total_seconds_last_epoch",
    }
    if criterion == "vae":
        expected |= {"train_kl_divergence_term", "train_expectation_term"}
    assert set(monitor.channels) == expected
    objective = monitor.channels["train_objective"].val_record
    assert len(objective) == 3 and all(np.isfinite(objective))
    after = [p.get_value() for p in train.model.get_params()]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


@pytest.fixture
def fake_binarized_mnist(tmp_path, monkeypatch):
    """Small binarized-MNIST .npy files in a temporary PYLEARN2_DATA_PATH."""
    rows = {"train": 400, "valid": 200, "test": 200}
    folder = tmp_path / "data" / "binarized_mnist"
    folder.mkdir(parents=True)
    rng = np.random.RandomState(0)
    for which, n in rows.items():
        np.save(folder / f"binarized_mnist_{which}.npy", (rng.uniform(size=(n, 784)) < 0.2) * 1.0)
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path / "data"))
    monkeypatch.setattr(binarized_mnist, "EXPECTED_ROWS", rows)
    return rows


def test_the_tutorial_yaml_trains_with_its_28_channels_and_saves(fake_binarized_mnist, stem):
    text = (EXAMPLES / "vae.yaml").read_text()
    assert "!obj:pylearn2.datasets.binarized_mnist.BinarizedMNIST" in text
    train = _load_text(text, max_epochs=1)
    train.main_loop()
    assert sorted(train.model.monitor.channels) == TUTORIAL_CHANNELS
    best = serial.load(f"{stem}_best.pkl")
    last = serial.load(f"{stem}.pkl")
    assert isinstance(best, VAE) and isinstance(last, VAE)
    assert last.monitor.training_succeeded
    assert os.path.getsize(f"{stem}.pkl") > 0
