"""Fixtures shared by the test modules; builders shared with benchmarks live in
:mod:`pylearn_vae.testing`.

This folder is put on ``sys.path`` so YAML in the tests can name
``!obj:test_train_helpers.LinearRegression``, a module every test allows (below).
"""

import atexit
import os
import shutil
import sys
import tempfile

import numpy as np
import pytest

# One thread for the whole suite (and the processes it starts), fixed: OpenBLAS's
# products then add up in one order on any machine and under any load, and training's
# ThreadTuner stays off, so runs compared bit for bit (resume, determinism) are the same
# run. tests/test_threads.py lifts it where it tests the threads themselves.
os.environ["PYLEARN_VAE_THREADS"] = "1"

# matplotlib's caches (its font list) in a fresh folder for the session and the processes
# it starts: no test may depend on a cache an earlier run left, and the first use (which
# builds the font list and logs "generated new fontManager") happens in every run.
_MPLCONFIGDIR = tempfile.mkdtemp(prefix="pylearn-vae-tests-mpl-")
os.environ["MPLCONFIGDIR"] = _MPLCONFIGDIR
atexit.register(shutil.rmtree, _MPLCONFIGDIR, ignore_errors=True)

from pylearn_vae import backend, threads  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

# The tests' own helper modules, which their YAML strings and pickles name, are allowed
# the way a user allows theirs (docs/security.md); tests/test_security.py clears this.
HELPER_MODULES = "yaml_helpers,test_train_helpers,resume_helpers"


@pytest.fixture(autouse=True)
def _allow_test_helper_modules(monkeypatch):
    monkeypatch.setenv("PYLEARN_VAE_ALLOW_MODULES", HELPER_MODULES)


@pytest.fixture(autouse=True)
def _restore_threads():
    """Every test starts and ends with the process's threads as they were (a training's
    ThreadTuner changes them)."""
    saved = {key: threads._state[key] for key in ("threads", "default", "fixed")}
    yield
    if saved["threads"] is not None and threads._state["threads"] != saved["threads"]:
        threads._apply(saved["threads"])
    threads._state.update(saved)


@pytest.fixture
def float64():
    """floatX is ``float64`` during the test (finite differences need it), restored after."""
    with backend.using(floatX="float64"):
        yield


@pytest.fixture
def rng():
    """A ``numpy.random.RandomState`` of the test's own, seeded, so draws do not depend on
    which other tests ran before."""
    return np.random.RandomState(0)
