"""Fuzzing the file readers: a fixed-seed corpus of 200 inputs of benchmarks/fuzz.py
(mutated shipped YAMLs, a real model as a data file and as an old pickle, payloads aimed
at code execution, crashes and hangs), each in a forked subprocess, and Hypothesis
properties of the readers in this process."""

import io
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:  # benchmarks/ is beside tests/, not an installed package
    sys.path.insert(0, REPO)

from benchmarks import fuzz  # noqa: E402
from pylearn_vae.config import yaml_parse  # noqa: E402
from pylearn_vae.testing.crafted import data_file  # noqa: E402
from pylearn_vae.utils import datafile, serial  # noqa: E402
from pylearn_vae.utils.safe_load import LoadPolicy  # noqa: E402


@pytest.mark.slow
def test_a_fixed_corpus_runs_no_code_crashes_nothing_and_never_hangs(tmp_path):
    lines = []
    counts = fuzz.run_corpus(200, seed=0, out=lines.append, folder=str(tmp_path))
    assert len(lines) == 200
    bad = [line for line in lines if line.split()[4] not in ("loaded", "refused")]
    assert bad == []
    assert counts["code"] == counts["crash"] == counts["hang"] == counts["error"] == 0
    assert counts["refused"] > 100 and counts["loaded"] > 0  # both paths exercised
    assert not os.path.exists(tmp_path / "MARKER")



@settings(max_examples=60, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.binary(max_size=2000))
def test_the_unpickler_refuses_random_bytes_with_a_message(tmp_path, data):
    path = tmp_path / "x.pkl"
    path.write_bytes(b"\x80\x04" + data)
    try:
        serial.load(str(path), retry=False)
    except (ValueError, OSError) as exc:
        assert str(exc)


_TAGS = ["list", "dict", "tuple", "set", "ref", "id", "array", "scalar", "dtype", "object",
         "class", "state", "args", "items", "float", "bytes", "generator", "bit_generator",
         "random_state", "seed_sequence", "path", "kind", "factory", "slice", "complex"]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.sampled_from(["os", "system", "<f4", "O", "pylearn_vae.models.mlp", "MLP", "PCG64"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(_TAGS), inner, max_size=3),
    max_leaves=25,
)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(root=_JSON)
def test_the_data_file_reader_refuses_random_descriptions_with_a_message(root):
    try:
        datafile.read(io.BytesIO(data_file(root)), "x.pkl", LoadPolicy())
    except ValueError as exc:  # UnsafeFileError included
        assert str(exc)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(text=st.lists(st.sampled_from(list("[]{}:,-&*!ab1 \n'\"") + ["!obj:", "!pkl: "]),
                    max_size=200).map("".join))
def test_the_yaml_loader_refuses_random_text_with_a_message(text):
    try:
        yaml_parse.load(text)
    except yaml_parse.yaml.YAMLError:
        pass
    except (ValueError, TypeError, ImportError, AttributeError, OSError, AssertionError) as exc:
        assert str(exc)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["yaml", "pkl", "npz"])
def test_run_one_reports_a_crash_and_a_hang(tmp_path, monkeypatch, kind):
    import signal

    monkeypatch.setattr(fuzz, "load_input", lambda kind, path: os.kill(os.getpid(),
                                                                       signal.SIGSEGV))
    assert fuzz.run_one(kind, b"x", str(tmp_path))[0] == "crash"
    monkeypatch.setattr(fuzz, "HANG_SECONDS", 1)
    monkeypatch.setattr(fuzz, "load_input", lambda kind, path: signal.pause())
    assert fuzz.run_one(kind, b"x", str(tmp_path))[0] == "hang"
