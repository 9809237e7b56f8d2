import os
import pickle
import sys

import numpy as np
import pytest
import scipy.io
from yaml_helpers import Point, Unpicklable

from pylearn_vae.utils import serial


def _listing(folder):
    return sorted(os.listdir(folder))


def test_pickle_round_trip_sets_yaml_src(tmp_path):
    path = tmp_path / "point.pkl"
    serial.save(str(path), Point(1, 2))
    loaded = serial.load(str(path))
    assert (loaded.x, loaded.y) == (1, 2)
    assert loaded.yaml_src == f'!pkl: "{os.path.abspath(path)}"'


def test_existing_yaml_src_is_kept_and_builtins_are_fine(tmp_path):
    point = Point(1)
    point.yaml_src = "!obj:yaml_helpers.Point {x: 1}"
    serial.save(str(tmp_path / "p.pkl"), point)
    assert serial.load(str(tmp_path / "p.pkl")).yaml_src == point.yaml_src
    serial.save(str(tmp_path / "d.pkl"), {"a": [1, 2]})
    assert serial.load(str(tmp_path / "d.pkl")) == {"a": [1, 2]}


def test_save_writes_a_data_file_that_numpy_reads_without_pickle(tmp_path, monkeypatch):
    monkeypatch.setenv("PYLEARN2_PICKLE_PROTOCOL", "0")  # Pylearn2's setting: no pickle now
    serial.save(str(tmp_path / "a.pkl"), {"w": np.arange(3.0), "n": 1})
    assert (tmp_path / "a.pkl").read_bytes()[:4] == b"PK\x03\x04"
    with np.load(str(tmp_path / "a.pkl"), allow_pickle=False) as archive:
        assert sorted(archive.files) == ["array_0", "description"]
        np.testing.assert_array_equal(archive["array_0"], np.arange(3.0))
    loaded = serial.load(str(tmp_path / "a.pkl"))
    assert loaded["n"] == 1 and loaded["w"].tolist() == [0.0, 1.0, 2.0]


def test_pickles_of_earlier_versions_still_load(tmp_path):
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps({"w": np.ones(2, np.float32), "point": Point(3)}, protocol=2))
    loaded = serial.load(str(path))
    assert loaded["w"].dtype == np.float32 and loaded["point"].x == 3


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("on_overwrite", ["ignore", "backup"])
def test_interrupted_save_keeps_the_old_file(tmp_path, error, on_overwrite):
    path = tmp_path / "model.pkl"
    serial.save(str(path), {"epoch": 1})
    before = path.read_bytes()
    with pytest.raises(error, match="cannot pickle"):
        serial.save(str(path), {"epoch": 2, "bad": Unpicklable(error)}, on_overwrite)
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["model.pkl"]  # no temporary file, no .bak
    assert serial.load(str(path)) == {"epoch": 1}


def test_interrupted_first_save_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        serial.save(str(tmp_path / "new.pkl"), Unpicklable())
    assert _listing(tmp_path) == []


def test_backup_overwrite_replaces_and_cleans_up(tmp_path):
    path = tmp_path / "model.pkl"
    serial.save(str(path), 1, on_overwrite="backup")
    serial.save(str(path), 2, on_overwrite="backup")
    assert serial.load(str(path)) == 2
    assert _listing(tmp_path) == ["model.pkl"]
    with pytest.raises(ValueError, match="on_overwrite"):
        serial.save(str(path), 3, on_overwrite="replace")


def test_new_file_gets_normal_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        serial.save(str(tmp_path / "a.pkl"), 1)
    finally:
        os.umask(umask)
    assert os.stat(tmp_path / "a.pkl").st_mode & 0o777 == 0o644


def test_creates_parent_folders_and_expands_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("PYLVAE_TEST_OUT", str(tmp_path))
    serial.save("${PYLVAE_TEST_OUT}/a/b/c.pkl", "x")
    assert serial.load(str(tmp_path / "a" / "b" / "c.pkl")) == "x"
    assert serial.load("${PYLVAE_TEST_OUT}/a/b/c.pkl") == "x"


def test_parent_that_is_a_file_is_an_io_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match="file"):
        serial.save(str(tmp_path / "file" / "x.pkl"), 1)


def test_mkdir_p_is_idempotent(tmp_path):
    serial.mkdir_p(str(tmp_path / "a" / "b"))
    serial.mkdir_p(str(tmp_path / "a" / "b"))
    assert (tmp_path / "a" / "b").is_dir()


def test_numpy_text_and_matlab_formats(tmp_path):
    x = np.arange(6.0).reshape(2, 3)
    serial.save(str(tmp_path / "x.npy"), x)
    np.testing.assert_array_equal(serial.load(str(tmp_path / "x.npy")), x)
    np.savez(tmp_path / "x.npz", x=x)
    np.testing.assert_array_equal(serial.load(str(tmp_path / "x.npz"))["x"], x)
    for name in ("x.amat", "x.txt"):
        np.savetxt(tmp_path / name, x)
        np.testing.assert_array_equal(serial.load(str(tmp_path / name)), x)
    scipy.io.savemat(str(tmp_path / "x.mat"), {"x": x})
    np.testing.assert_array_equal(serial.load(str(tmp_path / "x.mat"))["x"], x)


def test_missing_file_names_it(tmp_path):
    path = str(tmp_path / "absent.pkl")
    with pytest.raises(FileNotFoundError, match="absent.pkl"):
        serial.load(path)


@pytest.mark.parametrize("content", [b"this is not a pickle", b""])
def test_not_a_pickle_names_the_file(tmp_path, content):
    (tmp_path / "bad.pkl").write_bytes(content)
    with pytest.raises(ValueError, match="bad.pkl.*not a valid pickle"):
        serial.load(str(tmp_path / "bad.pkl"))


def test_truncated_pickle_is_a_value_error(tmp_path):
    data = pickle.dumps(list(range(1000)))
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.pkl"):
        serial.load(str(tmp_path / "cut.pkl"))


def test_transient_errors_are_retried_with_backoff(monkeypatch):
    calls, sleeps = [], []

    def flaky(path, policy):
        calls.append(path)
        if len(calls) < 3:
            raise OSError(5, "Input/output error")
        return [1]

    monkeypatch.setattr(serial, "_read", flaky)
    monkeypatch.setattr(serial.time, "sleep", sleeps.append)
    assert serial.load("x.pkl") == [1]
    assert sleeps == [0.5, 1.0]

    calls.clear()
    with pytest.raises(OSError, match="x.pkl"):
        serial.load("x.pkl", retry=False)
    assert len(calls) == 1


def test_an_object_too_deep_for_a_data_file_is_refused_and_nothing_is_written(tmp_path):
    deep = []
    for _ in range(2 * sys.getrecursionlimit()):
        deep = [deep]
    with pytest.raises(TypeError, match=r"deep\.pkl\[0\]\[0\].* nested more than 100"):
        serial.save(str(tmp_path / "deep.pkl"), deep)
    assert _listing(tmp_path) == []

