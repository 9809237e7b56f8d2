"""download_mnist, offline: small IDX files the test writes, a --from folder and file://
mirrors, checked against a table of their own SHA-256."""

import gzip
import hashlib
import os
import sys

import numpy as np
import pytest

from pylearn_vae.datasets.idx import MNIST, write_idx
from pylearn_vae.scripts import _fetch
from pylearn_vae.scripts import download_mnist as dm
from pylearn_vae.scripts.download_mnist import (
    ChecksumError,
    DownloadError,
    MNISTFile,
    download_mnist,
    main,
)

SIZES = {"train": 6, "t10k": 3}


def _arrays():
    rng = np.random.RandomState(0)
    arrays = {}
    for prefix, n in SIZES.items():
        arrays[f"{prefix}-images-idx3-ubyte"] = rng.randint(0, 256, (n, 28, 28)).astype("u1")
        arrays[f"{prefix}-labels-idx1-ubyte"] = rng.randint(0, 10, n).astype("u1")
    return arrays


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A folder of the four small IDX files (plain), a mirror of their .gz, and
    download_mnist's table set to their digests."""
    plain, mirror = tmp_path / "plain", tmp_path / "mirror"
    plain.mkdir()
    mirror.mkdir()
    table = {}
    for name, array in _arrays().items():
        write_idx(plain / name, array)
        write_idx(mirror / (name + ".gz"), array)
        table[name] = MNISTFile(
            hashlib.sha256((plain / name).read_bytes()).hexdigest(),
            hashlib.sha256((mirror / (name + ".gz")).read_bytes()).hexdigest(),
            (plain / name).stat().st_size,
        )
    monkeypatch.setattr(dm, "FILES", table)
    monkeypatch.setattr(dm, "MIRRORS", (mirror.as_uri() + "/",))
    return plain, mirror


def _installed(data):
    return sorted(os.listdir(data / "mnist"))


def test_install_from_a_folder_of_plain_files(fake_mnist, tmp_path, monkeypatch):
    plain, _ = fake_mnist
    data = tmp_path / "data"
    paths = download_mnist(str(data), source=str(plain), files=dm.FILES)
    assert sorted(os.path.basename(p) for p in paths) == sorted(dm.FILES)
    assert _installed(data) == sorted(dm.FILES)  # no temporary files left
    for name in dm.FILES:
        assert (data / "mnist" / name).read_bytes() == (plain / name).read_bytes()
        assert (data / "mnist" / name).stat().st_mode & 0o777 == 0o666 & ~_fetch.umask()
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(data))
    test = MNIST("test")  # where Pylearn2 kept them
    np.testing.assert_array_equal(test.labels, _arrays()["t10k-labels-idx1-ubyte"])


def test_install_from_a_folder_of_gz_files_uncompresses_them(fake_mnist, tmp_path):
    _, mirror = fake_mnist
    data = tmp_path / "data"
    download_mnist(str(data), source=str(mirror), files=dm.FILES)
    assert _installed(data) == sorted(dm.FILES)
    images = data / "mnist" / "train-images-idx3-ubyte"
    assert images.read_bytes() == gzip.decompress((mirror / (images.name + ".gz")).read_bytes())


def test_a_file_with_other_bytes_is_refused_and_not_installed(fake_mnist, tmp_path):
    plain, _ = fake_mnist
    labels = plain / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-1] + b"\x09")
    data = tmp_path / "data"
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.*SHA-256 is .*expected"):
        download_mnist(str(data), source=str(plain), files=dm.FILES)
    assert "t10k-labels-idx1-ubyte" not in _installed(data)
    assert not [f for f in _installed(data) if f.endswith(".part")]


def test_a_truncated_gz_is_refused(fake_mnist, tmp_path):
    _, mirror = fake_mnist
    gz = mirror / "train-labels-idx1-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:20])
    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte.gz is not a readable gzip"):
        download_mnist(str(tmp_path / "data"), source=str(mirror), files=dm.FILES)
    assert "train-labels-idx1-ubyte" not in _installed(tmp_path / "data")


def test_a_missing_file_in_the_source_folder_is_named(fake_mnist, tmp_path):
    plain, _ = fake_mnist
    (plain / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(ValueError, match="neither t10k-images-idx3-ubyte nor .*gz"):
        download_mnist(str(tmp_path / "data"), source=str(plain), files=dm.FILES)
    with pytest.raises(ValueError, match="no such folder"):
        download_mnist(str(tmp_path / "data"), source=str(tmp_path / "nowhere"))


def test_installed_files_are_checked_and_kept(fake_mnist, tmp_path, capsys):
    plain, _ = fake_mnist
    data = tmp_path / "data"
    download_mnist(str(data), source=str(plain), files=dm.FILES)
    capsys.readouterr()
    download_mnist(str(data), source=str(tmp_path / "data"), files=dm.FILES)  # no copy needed
    assert capsys.readouterr().err.count("already present (SHA-256 checked)") == 4
    # A file of other bytes where MNIST's should be is the user's: refused, untouched.
    mine = data / "mnist" / "train-labels-idx1-ubyte"
    mine.write_bytes(b"mine")
    with pytest.raises(ChecksumError, match="already there and is not MNIST's.*move it away"):
        download_mnist(str(data), source=str(plain), files=dm.FILES)
    assert mine.read_bytes() == b"mine"


def test_download_through_pooch_checks_the_gz_then_the_file(fake_mnist, tmp_path):
    pytest.importorskip("pooch")
    _, mirror = fake_mnist
    data = tmp_path / "data"
    download_mnist(str(data), mirrors=dm.MIRRORS, progress=False, files=dm.FILES)
    assert _installed(data) == sorted(dm.FILES)  # the .gz removed once installed
    gz = (mirror / "t10k-images-idx3-ubyte.gz").read_bytes()
    assert (data / "mnist" / "t10k-images-idx3-ubyte").read_bytes() == gzip.decompress(gz)


def test_a_mirror_with_other_bytes_or_none_is_passed_over(fake_mnist, tmp_path):
    pytest.importorskip("pooch")
    _, mirror = fake_mnist
    bad = tmp_path / "bad"
    bad.mkdir()
    for gz in mirror.iterdir():
        (bad / gz.name).write_bytes(gzip.compress(b"not mnist"))
    mirrors = ((tmp_path / "none").as_uri(), bad.as_uri(), mirror.as_uri())
    data = tmp_path / "data"
    download_mnist(str(data), mirrors=mirrors, progress=False, files=dm.FILES)
    assert _installed(data) == sorted(dm.FILES)
    with pytest.raises(DownloadError, match=r"cannot download train-images.*wrong SHA-256"):
        download_mnist(str(tmp_path / "d2"), mirrors=mirrors[:2], progress=False, files=dm.FILES)
    assert _installed(tmp_path / "d2") == []


def test_without_pooch_the_error_says_what_to_install(fake_mnist, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pooch", None)  # import pooch fails
    status = main(["--data-path", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1
    assert "needs pooch: pip install 'pylearn-vae[data]'" in err and "--from DIR" in err


def test_main_command_line(fake_mnist, tmp_path, monkeypatch, capsys):
    plain, _ = fake_mnist
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path / "env"))
    assert main(["--from", str(plain)]) == 0
    assert _installed(tmp_path / "env") == sorted(dm.FILES)
    assert main(["--data-path", str(tmp_path / "x"), "--from", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("download_mnist.py: error: --from ")
    monkeypatch.delenv("PYLEARN2_DATA_PATH")
    assert main(["--from", str(plain)]) == 2
    assert "set PYLEARN2_DATA_PATH" in capsys.readouterr().err


def test_the_table_describes_mnist():
    """The sizes are those of MNIST's IDX files: a 16-byte header and 784 bytes a digit,
    or an 8-byte header and one byte a label."""
    sizes = {name: entry.size for name, entry in dm.FILES.items()}
    assert sizes == {
        "train-images-idx3-ubyte": 16 + 60000 * 784,
        "train-labels-idx1-ubyte": 8 + 60000,
        "t10k-images-idx3-ubyte": 16 + 10000 * 784,
        "t10k-labels-idx1-ubyte": 8 + 10000,
    }
    for entry in dm.FILES.values():
        assert len(entry.sha256) == len(entry.gz_sha256) == 64
        int(entry.sha256, 16), int(entry.gz_sha256, 16)
