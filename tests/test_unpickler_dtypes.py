"""The restricted unpickler builds only plain NumPy dtypes, with their own state: a
pickle cannot make NumPy read an array's bytes as object pointers (a crash)."""

import os
import pickle
import subprocess
import sys

import numpy
import pytest

from pylearn_vae.testing.crafted import CraftedArray, CraftedDtype, own_state
from pylearn_vae.utils import safe_load, serial

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# NPY_ITEM_HASOBJECT and friends: flags that say "this dtype holds Python objects".
_OBJECT_FLAGS = 0x3F

CRAFTED = {
    "object flags on a float": CraftedDtype("f8", own_state("f8")[:7] + (_OBJECT_FLAGS,)),
    "object flags on a void": CraftedDtype("V8", (3, "|", None, None, None, 8, 1, _OBJECT_FLAGS)),
    "an object dtype": CraftedDtype("O8", own_state("O8")),
    "a structured dtype": CraftedDtype("V16", (3, "|", None, ("a",), {"a": (numpy.dtype("f8"), 0)},
                                         16, 8, 0)),
    "a wrong item size": CraftedDtype("f8", own_state("f8")[:5] + (64,) + own_state("f8")[6:]),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_a_crafted_dtype_is_refused(tmp_path, name):
    path = tmp_path / "crafted.pkl"
    path.write_bytes(pickle.dumps({"x": CraftedArray(CRAFTED[name], b"\x41" * 16)}, protocol=2))
    with pytest.raises(safe_load.UnsafeFileError, match="NumPy dtype"):
        serial.load(str(path))


@pytest.mark.parametrize("spec", ["<f4", ">f8", "<i8", "|b1", "<c16", "|u1", "<M8[s]"])
def test_plain_dtypes_and_arrays_load(tmp_path, spec):
    value = {"a": numpy.arange(6).astype(spec), "d": numpy.dtype(spec)}
    path = tmp_path / "plain.pkl"
    for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
        data = pickle.dumps(value, protocol=protocol)
        path.write_bytes(data)
        loaded, expected = serial.load(str(path)), pickle.loads(data)  # as NumPy loads it
        assert loaded["d"] == expected["d"] and loaded["a"].dtype == expected["a"].dtype
        assert (loaded["a"] == value["a"]).all()


def test_print_monitor_on_a_crafted_dtype_exits_with_one_line(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(
        {"x": CraftedArray(CRAFTED["object flags on a float"], b"\x41" * 16)}, protocol=2))
    env = dict(os.environ, PYTHONPATH=REPO)
    done = subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", "print_monitor.py"), str(path)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "NumPy dtype" in done.stderr and len(done.stderr.strip().splitlines()) == 1
