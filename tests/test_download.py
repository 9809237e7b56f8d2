"""download_binarized_mnist, offline: file:// URLs to small .amat files the test writes,
checked against a table of their own SHA-256."""

import hashlib
import sys

import numpy as np
import pytest

from pylearn_vae.datasets import binarized_mnist
from pylearn_vae.datasets.binarized_mnist import BinarizedMNIST
from pylearn_vae.scripts import download_binarized_mnist as dbm
from pylearn_vae.scripts.download_binarized_mnist import (
    ChecksumError,
    DownloadError,
    download_binarized_mnist,
    main,
)

SIZES = {"train": 6, "valid": 3, "test": 2}


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def amat_server(tmp_path, monkeypatch):
    """A folder of ``binarized_mnist_<set>.amat`` files and its ``file://`` URL; the
    downloader's checksums are theirs."""
    pytest.importorskip("pooch")
    folder = tmp_path / "server"
    folder.mkdir()
    arrays, checksums = {}, {}
    for which_set, m in SIZES.items():
        X = (np.random.RandomState(m).uniform(size=(m, 784)) < 0.3).astype(int)
        np.savetxt(folder / f"binarized_mnist_{which_set}.amat", X, fmt="%d")
        arrays[which_set] = X
        checksums[which_set] = _sha256(folder / f"binarized_mnist_{which_set}.amat")
    monkeypatch.setattr(dbm, "CHECKSUMS", checksums)
    return folder.as_uri(), arrays


def test_download_converts_each_set(amat_server, tmp_path, monkeypatch):
    url, arrays = amat_server
    data = tmp_path / "data"
    paths = download_binarized_mnist(str(data), base_url=url, progress=False)
    folder = data / "binarized_mnist"
    assert [p.split("/")[-1] for p in paths] == [
        f"binarized_mnist_{s}.npy" for s in ("train", "valid", "test")
    ]
    assert sorted(f.name for f in folder.iterdir()) == sorted(
        f"binarized_mnist_{s}.npy" for s in SIZES
    )  # no .amat or partial files left behind
    for which_set, X in arrays.items():
        np.testing.assert_array_equal(np.load(folder / f"binarized_mnist_{which_set}.npy"), X)
    # BinarizedMNIST reads them as 0./1. float64
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(data))
    monkeypatch.setattr(binarized_mnist, "EXPECTED_ROWS", SIZES)
    ds = BinarizedMNIST("valid")
    assert ds.X.dtype == np.float64
    np.testing.assert_array_equal(ds.X, arrays["valid"])


def test_present_files_are_not_downloaded_again(amat_server, tmp_path, capsys):
    url, _ = amat_server
    data = tmp_path / "data"
    target = data / "binarized_mnist" / "binarized_mnist_test.npy"
    target.parent.mkdir(parents=True)
    np.save(target, np.zeros((1, 784)))
    download_binarized_mnist(str(data), base_url=url, sets=["test"], progress=False)
    assert np.load(target).shape == (1, 784)
    assert "already present" in capsys.readouterr().err


def test_data_path_from_environment(amat_server, tmp_path, monkeypatch):
    url, _ = amat_server
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path / "env"))
    download_binarized_mnist(base_url=url, sets=["test"], progress=False)
    assert (tmp_path / "env" / "binarized_mnist" / "binarized_mnist_test.npy").is_file()
    monkeypatch.delenv("PYLEARN2_DATA_PATH")
    with pytest.raises(ValueError, match="set PYLEARN2_DATA_PATH.*or pass --data-path"):
        download_binarized_mnist(base_url=url)


def test_unreachable_url_gives_a_clear_error(tmp_path):
    pytest.importorskip("pooch")
    url = (tmp_path / "no-such-server").as_uri()
    with pytest.raises(DownloadError, match="cannot download .*binarized_mnist_train.amat"):
        download_binarized_mnist(str(tmp_path / "data"), base_url=url, progress=False)
    assert list((tmp_path / "data" / "binarized_mnist").iterdir()) == []


def test_malformed_amat_is_refused_and_not_saved(tmp_path, monkeypatch):
    pytest.importorskip("pooch")
    server = tmp_path / "server"
    server.mkdir()
    np.savetxt(server / "binarized_mnist_test.amat", np.full((2, 784), 0.5))
    monkeypatch.setitem(dbm.CHECKSUMS, "test", _sha256(server / "binarized_mnist_test.amat"))
    with pytest.raises(ValueError, match="expected rows of 784 values 0/1"):
        download_binarized_mnist(
            str(tmp_path / "data"), base_url=server.as_uri(), sets=["test"], progress=False
        )
    assert list((tmp_path / "data" / "binarized_mnist").iterdir()) == []


def test_main_command_line(amat_server, tmp_path, capsys):
    url, _ = amat_server
    data = tmp_path / "cli"
    assert main(["--data-path", str(data), "--base-url", url, "--no-progress"]) == 0
    assert (data / "binarized_mnist" / "binarized_mnist_train.npy").is_file()
    bad = (tmp_path / "nowhere").as_uri()
    assert main(["--data-path", str(tmp_path / "x"), "--base-url", bad]) == 1
    assert "error: cannot download" in capsys.readouterr().err


def test_a_file_with_other_bytes_is_refused_and_nothing_saved(amat_server, tmp_path):
    url, _ = amat_server
    dbm.CHECKSUMS["valid"] = "0" * 64
    with pytest.raises(ChecksumError, match="binarized_mnist_valid.amat is not the expected"):
        download_binarized_mnist(str(tmp_path / "data"), base_url=url, progress=False)
    saved = sorted(p.name for p in (tmp_path / "data" / "binarized_mnist").iterdir())
    assert saved == ["binarized_mnist_train.npy"]  # the set before it; no .amat left


def test_from_a_folder_of_amat_files(amat_server, tmp_path):
    url, arrays = amat_server
    folder = tmp_path / "server"
    data = tmp_path / "data"
    assert main(["--data-path", str(data), "--from", str(folder)]) == 0
    for which_set, X in arrays.items():
        np.testing.assert_array_equal(
            np.load(data / "binarized_mnist" / f"binarized_mnist_{which_set}.npy"), X
        )
    assert len(list(folder.iterdir())) == 3  # read where they are, not moved
    dbm.CHECKSUMS["test"] = "0" * 64
    with pytest.raises(ChecksumError, match="binarized_mnist_test.amat.*SHA-256 is"):
        download_binarized_mnist(str(tmp_path / "d2"), source=str(folder), sets=["test"])
    with pytest.raises(ValueError, match="no such folder"):
        download_binarized_mnist(str(tmp_path / "d2"), source=str(tmp_path / "nowhere"))


def test_without_pooch_the_error_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pooch", None)  # import pooch fails
    assert main(["--data-path", str(tmp_path / "data"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs pooch: pip install 'pylearn-vae[data]'" in err
