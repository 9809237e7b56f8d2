"""DenseDesignMatrix, BinarizedMNIST, MNIST10k, IDX images (``pylearn2/datasets/``)."""

import gzip

import numpy as np
import pytest

from pylearn_vae import backend
from pylearn_vae.datasets import binarized_mnist
from pylearn_vae.datasets.binarized_mnist import BinarizedMNIST
from pylearn_vae.datasets.dataset import NotInstalledError
from pylearn_vae.datasets.dense_design_matrix import DefaultViewConverter, DenseDesignMatrix
from pylearn_vae.datasets.idx import FashionMNIST, IDXImages, read_idx, write_idx
from pylearn_vae.datasets.mnist10k import MNIST10k
from pylearn_vae.space import CompositeSpace, IndexSpace, VectorSpace
from pylearn_vae.testing.datasets import random_dense_design_matrix

# -- DenseDesignMatrix ----------------------------------------------------------------------


def test_ddm_specs_without_and_with_targets():
    X = np.zeros((4, 3))
    assert DenseDesignMatrix(X=X).get_data_specs() == (VectorSpace(3), "features")
    ddm = DenseDesignMatrix(X=X, y=np.array([0, 1, 2, 1]), y_labels=3)
    space, source = ddm.get_data_specs()
    assert source == ("features", "targets")
    assert space == CompositeSpace([VectorSpace(3), IndexSpace(max_labels=3, dim=1)])
    assert ddm.has_targets() and ddm.get_data()[1].shape == (4, 1)
    ddm = DenseDesignMatrix(X=X, y=np.ones((4, 2)))
    assert ddm.get_data_specs()[0].components[1] == VectorSpace(2)


def test_ddm_keeps_X_as_given_and_checks_inputs():
    X = np.arange(6.0).reshape(3, 2)
    ddm = DenseDesignMatrix(X=X)
    assert ddm.get_design_matrix() is X and ddm.get_num_examples() == 3
    assert not ddm.has_targets() and ddm.adjust_for_viewer(X) is X
    with pytest.raises(ValueError, match="exactly one of X and topo_view"):
        DenseDesignMatrix()
    with pytest.raises(ValueError, match="y must have one row per example"):
        DenseDesignMatrix(X=X, y=np.zeros(4))
    with pytest.raises(ValueError, match="no view converter"):
        ddm.get_topological_view()
    assert ddm.view_shape() is None


def test_view_converter_reads_rows_channel_major():
    conv = DefaultViewConverter((2, 3, 2))
    row = np.arange(12.0)[None]
    topo = conv.design_mat_to_topo_view(row)
    assert topo.shape == (1, 2, 3, 2)
    np.testing.assert_array_equal(topo[0, :, :, 0], np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(topo[0, :, :, 1], np.arange(6.0, 12).reshape(2, 3))
    np.testing.assert_array_equal(conv.topo_view_to_design_mat(topo), row)


def test_topo_view_round_trip_with_axes():
    rng = np.random.RandomState(0)
    V = rng.randn(5, 2, 3, 4)  # axes ('c', 0, 1, 'b')
    axes = ("c", 0, 1, "b")
    ddm = DenseDesignMatrix(topo_view=V, axes=axes)
    assert ddm.X.shape == (4, 30) and ddm.view_shape() == (2, 3, 5)
    np.testing.assert_array_equal(ddm.get_topological_view(), V)
    np.testing.assert_array_equal(ddm.get_design_matrix(V), ddm.X)
    weights = ddm.get_weights_view(ddm.X)
    np.testing.assert_array_equal(weights, V.transpose(3, 1, 2, 0))


def test_stochastic_iteration_uses_and_advances_the_dataset_rng():
    ddm = DenseDesignMatrix(X=np.arange(20.0)[:, None])
    first = np.concatenate(list(ddm.iterator("shuffled_sequential", batch_size=5)))
    second = np.concatenate(list(ddm.iterator("shuffled_sequential", batch_size=5)))
    assert first.ravel().tolist() != second.ravel().tolist()
    again = DenseDesignMatrix(X=np.arange(20.0)[:, None], rng=(17, 2, 946))
    repeat = np.concatenate(list(again.iterator("shuffled_sequential", batch_size=5)))
    np.testing.assert_array_equal(first, repeat)


def test_ddm_iterator_default_mode_is_sequential():
    ddm = DenseDesignMatrix(X=np.arange(10.0)[:, None])
    out = list(ddm.iterator(batch_size=4))
    assert [b.ravel().tolist() for b in out] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    with pytest.raises(ValueError, match="unknown iteration mode string: sideways"):
        ddm.iterator("sideways", batch_size=4)


def test_preprocessor_is_applied_with_can_fit():
    calls = []

    class Recorder:
        def apply(self, dataset, can_fit=False):
            calls.append(can_fit)
            dataset.set_design_matrix(dataset.X * 2)

    ddm = DenseDesignMatrix(X=np.ones((2, 2)), preprocessor=Recorder(), fit_preprocessor=True)
    assert calls == [True] and (ddm.X == 2).all()


def test_random_dense_design_matrix():
    ddm = random_dense_design_matrix(np.random.RandomState(0), 7, 3, 4)
    rng = np.random.RandomState(0)
    np.testing.assert_array_equal(ddm.X, rng.randn(7, 3))
    np.testing.assert_array_equal(ddm.y, rng.randint(0, 4, (7, 1)))
    assert ddm.y_labels == 4
    assert random_dense_design_matrix(np.random.RandomState(0), 7, 3, None).y is None


# -- BinarizedMNIST --------------------------------------------------------------------------


@pytest.fixture
def fake_binarized_mnist(tmp_path, monkeypatch):
    """Small fake .npy files (row i is all i % 2, with row index in pixel 0 as a marker)."""
    folder = tmp_path / "binarized_mnist"
    folder.mkdir()
    sizes = {"train": 12, "valid": 5, "test": 4}
    for which_set, m in sizes.items():
        X = (np.random.RandomState(m).uniform(size=(m, 784)) < 0.5).astype("uint8")
        np.save(folder / f"binarized_mnist_{which_set}.npy", X)
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(binarized_mnist, "EXPECTED_ROWS", sizes)
    return folder


def test_binarized_mnist_loads_float64_zeros_and_ones(fake_binarized_mnist):
    ds = BinarizedMNIST("train")
    stored = np.load(fake_binarized_mnist / "binarized_mnist_train.npy")
    assert ds.X.dtype == np.float64 and ds.X.shape == (12, 784)
    np.testing.assert_array_equal(ds.X, stored)
    assert ds.get_data_specs() == (VectorSpace(784), "features") and not ds.has_targets()
    batch = next(ds.iterator("sequential", batch_size=5))
    assert batch.dtype == backend.floatX() and set(np.unique(batch)) <= {0.0, 1.0}
    np.testing.assert_array_equal(ds.adjust_for_viewer(np.array([0.0, 1.0, 0.5])), [-1, 1, 0])


def test_binarized_mnist_start_stop_each_alone(fake_binarized_mnist):
    full = BinarizedMNIST("train").X
    np.testing.assert_array_equal(BinarizedMNIST("train", start=3).X, full[3:])
    np.testing.assert_array_equal(BinarizedMNIST("train", stop=4).X, full[:4])
    np.testing.assert_array_equal(BinarizedMNIST("train", start=2, stop=5).X, full[2:5])
    with pytest.raises(ValueError, match="stop=13 > m=12"):
        BinarizedMNIST("train", stop=13)
    with pytest.raises(ValueError, match="start=-1 must be >= 0"):
        BinarizedMNIST("train", start=-1)
    with pytest.raises(ValueError, match="stop=2 must be > start=2"):
        BinarizedMNIST("train", start=2, stop=2)


def test_binarized_mnist_shuffle_is_the_seeded_permutation(fake_binarized_mnist):
    full = BinarizedMNIST("train").X
    shuffled = BinarizedMNIST("train", shuffle=True).X
    perm = np.random.RandomState([1, 2, 3]).permutation(12)
    np.testing.assert_array_equal(shuffled, full[perm])
    np.testing.assert_array_equal(BinarizedMNIST("train", shuffle=True, stop=3).X, full[perm[:3]])


def test_binarized_mnist_axes_and_view(fake_binarized_mnist):
    ds = BinarizedMNIST("valid", axes=("c", 0, 1, "b"))
    assert ds.get_topological_view().shape == (1, 28, 28, 5)
    assert ds.view_shape() == (28, 28, 1)


def test_binarized_mnist_test_set_and_errors(fake_binarized_mnist):
    ds = BinarizedMNIST("valid", start=1)
    assert ds.get_test_set().X.shape == (4, 784)
    with pytest.raises(ValueError, match="Valid values are \\['train', 'valid', 'test'\\]"):
        BinarizedMNIST("training")


def test_binarized_mnist_wrong_row_count(fake_binarized_mnist, monkeypatch):
    monkeypatch.setattr(binarized_mnist, "EXPECTED_ROWS", {"train": 50000})
    with pytest.raises(ValueError, match=r"must be \(50000, 784\)"):
        BinarizedMNIST("train")


def test_binarized_mnist_not_installed(tmp_path, monkeypatch):
    monkeypatch.delenv("PYLEARN2_DATA_PATH", raising=False)
    with pytest.raises(NotInstalledError, match="PYLEARN2_DATA_PATH.*not set") as err:
        BinarizedMNIST("train")
    assert "bin/download_binarized_mnist.py" in str(err.value)
    assert "MNIST10k" in str(err.value)
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    with pytest.raises(IOError, match="binarized_mnist_test.npy cannot be read") as err:
        BinarizedMNIST("test")
    assert isinstance(err.value, NotInstalledError)
    assert "python bin/download_binarized_mnist.py" in str(err.value)


# -- MNIST10k --------------------------------------------------------------------------------


@pytest.mark.parametrize("which_set, size", [("train", 8000), ("valid", 1000), ("test", 1000)])
def test_mnist10k_splits(which_set, size):
    ds = MNIST10k(which_set)
    assert ds.X.shape == (size, 784) and ds.X.dtype == backend.floatX()
    assert set(np.unique(ds.X)) == {0.0, 1.0}
    assert ds.images.shape == (size, 784) and ds.labels.shape == (size,)
    assert ds.view_shape() == (28, 28, 1)
    # The fixed binarization agrees with the grey levels: black pixels are always off,
    # and bright ones are mostly on.
    assert not ds.X[ds.images == 0].any()
    assert ds.X[ds.images == 255].mean() > 0.99


def test_mnist10k_grey_levels_and_start_stop():
    grey = MNIST10k("valid", binarize=None, start=10, stop=20)
    assert grey.X.shape == (10, 784) and 0 < grey.X.max() <= 1
    np.testing.assert_allclose(grey.X, grey.images / 255.0, rtol=1e-6)
    whole = MNIST10k("valid", binarize=None)
    np.testing.assert_array_equal(whole.labels[10:20], grey.labels)
    assert MNIST10k("test", start=995).X.shape == (5, 784)


def test_mnist10k_dynamic_binarization_changes_per_epoch_and_is_seeded():
    a = MNIST10k("valid", binarize="dynamic", seed=5)
    b = MNIST10k("valid", binarize="dynamic", seed=5)
    c = MNIST10k("valid", binarize="dynamic", seed=6)
    epochs = [np.concatenate(list(a.iterator("sequential", batch_size=500))) for _ in range(2)]
    assert (epochs[0] != epochs[1]).mean() > 0.01
    for expected in epochs:
        np.testing.assert_array_equal(
            np.concatenate(list(b.iterator("sequential", batch_size=500))), expected
        )
    other = np.concatenate(list(c.iterator("sequential", batch_size=500)))
    assert (other != epochs[0]).any()
    # each draw is Bernoulli(grey / 255): the mean matches the grey level's
    assert abs(epochs[0].mean() - a.images.mean() / 255.0) < 0.01


def test_mnist10k_errors(tmp_path, monkeypatch):
    with pytest.raises(
        ValueError, match=r"'validation'\. Valid values are \['train', 'valid', 'test'\]"
    ):
        MNIST10k("validation")
    with pytest.raises(ValueError, match="binarize='sometimes'"):
        MNIST10k("valid", binarize="sometimes")
    missing = tmp_path / "nowhere.npz"
    with pytest.raises(NotInstalledError, match="not found at .*nowhere.npz"):
        MNIST10k("valid", path=str(missing))
    monkeypatch.setenv("PYLEARN_VAE_MNIST10K", str(missing))
    with pytest.raises(NotInstalledError, match="PYLEARN_VAE_MNIST10K"):
        MNIST10k("valid")


# -- IDX -------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", ["uint8", "int8", ">i2", "int32", "float32", "float64"])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == "uint8":
        array = np.arange(24, dtype="uint8").reshape(2, 3, 4)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.shape == (2, 3, 4) and back.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(back, array)


def test_idx_reads_the_standard_layout(tmp_path):
    # Built by hand from the format description: magic 0x00000803, then 3 extents.
    header = bytes([0, 0, 8, 3]) + np.array([2, 2, 2], ">u4").tobytes()
    path = tmp_path / "hand-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(header + bytes(range(8)))
    np.testing.assert_array_equal(read_idx(path), np.arange(8).reshape(2, 2, 2))


def test_idx_bad_files(tmp_path):
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(ValueError, match="bad.idx is not an IDX file"):
        read_idx(bad)
    short = tmp_path / "short.idx"
    short.write_bytes(bytes([0, 0, 8, 1]) + np.array([5], ">u4").tobytes() + b"\x00")
    with pytest.raises(ValueError, match="needs 13 bytes, the file has 9"):
        read_idx(short)


@pytest.fixture
def idx_files(tmp_path):
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (30, 4, 5)).astype("uint8")
    labels = (np.arange(30) % 10).astype("uint8")
    write_idx(tmp_path / "img.gz", images)
    write_idx(tmp_path / "lab.gz", labels)
    return tmp_path / "img.gz", tmp_path / "lab.gz", images, labels


def test_idx_images_binarizations(idx_files):
    img, lab, images, labels = idx_files
    grey = IDXImages(img, lab, binarize=None)
    assert grey.X.shape == (30, 20) and grey.view_shape() == (4, 5, 1)
    np.testing.assert_allclose(grey.X, images.reshape(30, 20) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(grey.labels, labels)
    np.testing.assert_array_equal(grey.get_topological_view()[..., 0], images / np.float32(255))

    fixed = IDXImages(img, binarize="fixed", seed=1)
    assert set(np.unique(fixed.X)) <= {0.0, 1.0}
    first = next(fixed.iterator("sequential", batch_size=30))
    np.testing.assert_array_equal(next(fixed.iterator("sequential", batch_size=30)), first)
    part = IDXImages(img, lab, binarize="fixed", seed=1, start=10, stop=20)
    np.testing.assert_array_equal(part.X, fixed.X[10:20])  # same bits as the whole
    np.testing.assert_array_equal(part.labels, labels[10:20])

    dynamic = IDXImages(img, binarize="dynamic", seed=1)
    e1 = next(dynamic.iterator("sequential", batch_size=30))
    e2 = next(dynamic.iterator("sequential", batch_size=30))
    assert (e1 != e2).any()


def test_idx_images_label_mismatch(idx_files, tmp_path):
    img, _, _, _ = idx_files
    write_idx(tmp_path / "few.gz", np.zeros(3, "uint8"))
    with pytest.raises(ValueError, match=r"expected 30 labels"):
        IDXImages(img, tmp_path / "few.gz")


def test_fashion_mnist_from_a_folder(tmp_path):
    rng = np.random.RandomState(0)
    for prefix, n in [("train", 6), ("t10k", 3)]:
        write_idx(
            tmp_path / f"{prefix}-images-idx3-ubyte.gz",
            rng.randint(0, 256, (n, 28, 28)).astype("uint8"),
        )
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n, dtype="uint8"))
    assert FashionMNIST("train", path=str(tmp_path)).X.shape == (6, 784)
    test = FashionMNIST("test", path=str(tmp_path), binarize=None)
    assert test.X.shape == (3, 784) and test.labels.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"Valid values are \['train', 'test'\]"):
        FashionMNIST("valid", path=str(tmp_path))


def test_fashion_mnist_missing_says_how_to_install(tmp_path):
    with pytest.raises(NotInstalledError, match="apt-get install dataset-fashion-mnist"):
        FashionMNIST("train", path=str(tmp_path / "none"))


def test_dynamic_dataset_pickles_with_its_generator():
    import pickle

    ds = MNIST10k("test", binarize="dynamic", seed=3, stop=50)
    next(ds.iterator("sequential", batch_size=50))
    copy = pickle.loads(pickle.dumps(ds))
    assert copy._probabilities is None
    np.testing.assert_array_equal(
        next(copy.iterator("sequential", batch_size=50)),
        next(ds.iterator("sequential", batch_size=50)),
    )
