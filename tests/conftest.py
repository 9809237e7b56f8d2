"""Fixtures shared by the test modules; builders shared with benchmarks live in
:mod:`pylearn_vae.testing`.

This folder is put on ``sys.path`` so YAML in the tests can name
``!obj:test_train_helpers.LinearRegression``.
"""

import os
import sys

import numpy as np
import pytest

from pylearn_vae import backend

sys.path.insert(0, os.path.dirname(__file__))


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
