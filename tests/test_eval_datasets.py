"""Evaluation scripts on a model trained on another dataset than MNIST10k (issue: Fashion-MNIST).

The model records its training set's YAML (``stop`` counts training rows); evaluating on
the test split must use that split whole, and the datasets have names for --dataset.
"""

import numpy
import pytest

from pylearn_vae.datasets import idx
from pylearn_vae.scripts import _cli, latent_report, nll, reconstruct
from pylearn_vae.testing.models import tiny_vae, train_by_hand
from pylearn_vae.utils import serial

pytest.importorskip("PIL.Image")

TRAIN_ROWS, TEST_ROWS = 60, 20


def _write_split(folder, prefix, n, seed, gz=True):
    """Fashion-MNIST-like IDX files: ``n`` 28x28 bytes images with a bright square."""
    rng = numpy.random.default_rng(seed)
    images = numpy.zeros((n, 28, 28), dtype="uint8")
    for i in range(n):
        top, left = rng.integers(2, 14, size=2)
        images[i, top : top + 12, left : left + 12] = 255
    labels = rng.integers(0, 10, size=n).astype("uint8")
    suffix = ".gz" if gz else ""
    idx.write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
    idx.write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)


@pytest.fixture(scope="module")
def fashion(tmp_path_factory):
    """A folder of Fashion-MNIST-like files and a tiny VAE trained on the first rows."""
    folder = tmp_path_factory.mktemp("fashion")
    _write_split(folder, "train", TRAIN_ROWS + 10, seed=1)
    _write_split(folder, "t10k", TEST_ROWS, seed=2)
    # stop is larger than the test split: carried over, it was "stop=60 > m=20".
    src = (
        "!obj:pylearn_vae.datasets.idx.FashionMNIST "
        f"{{which_set: 'train', path: '{folder}', stop: {TRAIN_ROWS}}}"
    )
    from pylearn_vae.config import yaml_parse

    train = yaml_parse.load(src)
    model = tiny_vae()
    train_by_hand(model, train.get_design_matrix(), epochs=1)
    model.dataset_yaml_src = src
    path = folder / "fashion_vae.pkl"
    serial.save(str(path), model)
    return folder, str(path)


def test_training_rows_are_not_carried_to_the_test_split(fashion):
    folder, path = fashion
    model = serial.load(path)
    test = _cli.load_dataset(model, None, "test")
    assert isinstance(test, idx.FashionMNIST) and test.which_set == "test"
    assert test.get_num_examples() == TEST_ROWS
    # the same split keeps its rows
    assert _cli.load_dataset(model, None, "train").get_num_examples() == TRAIN_ROWS


def test_evaluation_scripts_run_on_the_fashion_model(fashion, tmp_path, capsys):
    folder, path = fashion
    out = tmp_path / "recon.png"
    assert reconstruct.main([path, "-n", "8", "-o", str(out)]) == 0
    assert out.is_file()
    assert nll.main([path, "-k", "3", "--seed", "1"]) == 0
    report = capsys.readouterr().out
    assert "dataset: FashionMNIST (test)" in report and f"examples: {TEST_ROWS}\n" in report
    latent = tmp_path / "latent.png"
    assert latent_report.main([path, "-o", str(latent)]) == 0
    assert latent.is_file()


def test_fashion_mnist_and_mnist_are_dataset_names(fashion, tmp_path, monkeypatch):
    folder, path = fashion
    model = serial.load(path)
    defaults = list(idx.FashionMNIST.__init__.__defaults__)
    defaults[defaults.index(idx.FASHION_MNIST_PATH)] = str(folder)
    monkeypatch.setattr(idx.FashionMNIST.__init__, "__defaults__", tuple(defaults))
    test = _cli.load_dataset(model, "fashion_mnist", "test")
    assert isinstance(test, idx.FashionMNIST) and test.get_num_examples() == TEST_ROWS

    # MNIST as Pylearn2 kept it: ${PYLEARN2_DATA_PATH}/mnist/, plain IDX files.
    (tmp_path / "mnist").mkdir()
    _write_split(tmp_path / "mnist", "t10k", 7, seed=3, gz=False)
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    mnist = _cli.load_dataset(model, "mnist", "test")
    assert isinstance(mnist, idx.MNIST) and mnist.get_num_examples() == 7
    with pytest.raises(Exception, match="train-images-idx3-ubyte"):
        _cli.load_dataset(model, "mnist", "train")

