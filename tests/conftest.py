"""Fixtures shared by the test modules; builders shared with benchmarks live in
:mod:`pylearn_vae.testing`.

``fake_gpu`` puts the NumPy stand-in for CuPy (``tests/fake_cupy.py``) behind ``import
cupy``: the ``'gpu'`` device then runs on the host, its fused kernels compiled for the
host (``tests/host_kernels.py``); without a C++ compiler the GPU registrations that
need a kernel are lifted for the test, so the device runs the reference formulas.

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
def fake_gpu(monkeypatch):
    """The stand-in behind ``import cupy`` in float64; the device is back on the CPU after."""
    from fake_cupy import make_fake_cupy
    from host_kernels import compiler

    from pylearn_vae import op_registry

    monkeypatch.setitem(sys.modules, "cupy", make_fake_cupy())
    monkeypatch.setitem(backend._state, "cupy", None)  # imported afresh: the stand-in
    if "pylearn_vae.accel" in sys.modules:  # not under PYLEARN_VAE_REFERENCE=1
        from pylearn_vae.accel import kernels

        monkeypatch.setattr(kernels, "_built", {})  # the kernels this test builds
        if compiler() is None:  # no kernel can be built: the formulas of pylearn_vae.ops
            monkeypatch.setattr(
                op_registry,
                "_FASTER",
                {
                    key: fn
                    for key, fn in op_registry.registered().items()
                    if key[1] != "gpu" or fn.__module__ != "pylearn_vae.accel.gpu"
                },
            )
    with backend.using(floatX="float64"):
        yield


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
