"""value_and_grads against autograd's own list gradient and finite differences."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads

from pylearn_vae import ops
from pylearn_vae.gradients import value_and_grads


def _f(values):
    W, b, c, unused = values
    h = ops.relu(ops.affine(X, W, b) + 0.1)
    return ops.sum(h * h) + ops.mean(anp.tanh(c) * W[0, 0])


_constants = np.random.RandomState(0)  # the fixed inputs below, drawn once at import
X = _constants.randn(4, 3)
VALUES = [_constants.randn(*shape) for shape in ((3, 2), (2,), (5,), (2, 2))]
del _constants


def test_matches_autograd_on_a_list():
    value, grads = value_and_grads(_f, VALUES)
    assert value == pytest.approx(_f(VALUES))
    for got, want in zip(grads, grad(_f)(VALUES), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_unused_values_get_zeros_of_their_shape():
    _, grads = value_and_grads(_f, VALUES)
    np.testing.assert_array_equal(grads[3], np.zeros((2, 2)))


def test_each_gradient_matches_finite_differences():
    for i in range(3):

        def partial(v, i=i):
            values = list(VALUES)
            values[i] = v
            return _f(values)

        check_grads(partial, modes=["rev"], order=1)(VALUES[i])
        np.testing.assert_allclose(value_and_grads(_f, VALUES)[1][i], grad(partial)(VALUES[i]))


def test_constant_function_gives_zero_gradients():
    value, grads = value_and_grads(lambda values: 3.0, VALUES)
    assert value == 3.0
    assert len(grads) == len(VALUES)
    for g, v in zip(grads, VALUES, strict=True):
        np.testing.assert_array_equal(g, np.zeros_like(v))


def test_non_scalar_output_is_refused():
    with pytest.raises(TypeError, match="scalar"):
        value_and_grads(lambda values: values[0] * 2.0, VALUES)
