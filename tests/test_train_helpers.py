"""A tiny linear-regression model and cost for the training tests (also used from YAML).

``!obj:test_train_helpers.LinearRegression`` works because ``tests/conftest.py`` puts
this folder on ``sys.path``.
"""

from collections import OrderedDict

import autograd.numpy as anp
import numpy as np

from pylearn_vae import backend
from pylearn_vae.costs.cost import Cost, DefaultDataSpecsMixin
from pylearn_vae.datasets.dense_design_matrix import DenseDesignMatrix
from pylearn_vae.models.model import Model, Param
from pylearn_vae.space import CompositeSpace, VectorSpace


class LinearRegression(Model):
    """``y_hat = X W + b``, ``W`` of shape ``(nvis, nout)``."""

    def __init__(self, nvis, nout=1, seed=0, irange=0.1):
        super().__init__()
        rng = np.random.RandomState(seed)
        self.W = Param(rng.uniform(-irange, irange, (nvis, nout)), name="W")
        self.b = Param(np.zeros(nout), name="b")
        self._params = [self.W, self.b]
        self.input_space = VectorSpace(nvis)
        self.output_space = VectorSpace(nout)
        self.target_space = VectorSpace(nout)

    def fprop(self, X):
        return anp.dot(X, self.W.value) + self.b.value

    def get_monitoring_data_specs(self):
        space = CompositeSpace([self.input_space, self.target_space])
        return space, ("features", "targets")

    def get_monitoring_channels(self, data):
        X, y = data
        err = self.fprop(X) - y
        return OrderedDict(
            [("W_norm", anp.sqrt(anp.sum(self.W.value**2))), ("err_max", anp.max(anp.abs(err)))]
        )

    def get_default_cost(self):
        return MeanSquaredError()


class MeanSquaredError(DefaultDataSpecsMixin, Cost):
    """Mean over the batch of the summed squared error; channel ``mae``."""

    supervised = True

    def __init__(self, poison=False):
        self.poison = poison

    def expr(self, model, data, **kwargs):
        X, y = data
        value = anp.mean(anp.sum((model.fprop(X) - y) ** 2, axis=1))
        return value * np.nan if self.poison else value

    def get_monitoring_channels(self, model, data, **kwargs):
        X, y = data
        return OrderedDict([("mae", anp.mean(anp.abs(model.fprop(X) - y)))])

    def is_stochastic(self):
        return False


class XOnlyCost(DefaultDataSpecsMixin, Cost):
    """Mean squared output, using only the features (unsupervised specs)."""

    def expr(self, model, data, **kwargs):
        return anp.mean(model.fprop(data) ** 2)

    def is_stochastic(self):
        return False


def regression_data(num_examples=10, nvis=3, nout=1, seed=1, noise=0.1):
    """A DenseDesignMatrix with ``y = X w + noise``."""
    rng = np.random.RandomState(seed)
    X = rng.randn(num_examples, nvis)
    w = rng.randn(nvis, nout)
    y = X @ w + noise * rng.randn(num_examples, nout)
    dataset = DenseDesignMatrix(X=X, y=y)
    dataset.yaml_src = "!obj:test_train_helpers.regression_data {}"
    return dataset


def host(x):
    return np.asarray(backend.to_host(x), dtype=np.float64)


def test_cost_gradient_matches_closed_form():
    model = LinearRegression(3, seed=0)
    data = regression_data()
    X = backend.asarray(data.X)
    y = backend.asarray(data.y)
    value, grads, _ = MeanSquaredError().get_value_and_gradients(model, (X, y))
    W, b = host(model.W.get_value()), host(model.b.get_value())
    err = host(X) @ W + b - host(y)
    np.testing.assert_allclose(float(value), np.mean(np.sum(err**2, axis=1)), rtol=1e-5)
    np.testing.assert_allclose(host(grads[model.W]), 2 * host(X).T @ err / 10, rtol=1e-4)
    np.testing.assert_allclose(host(grads[model.b]), 2 * err.mean(0), rtol=1e-4, atol=1e-7)
