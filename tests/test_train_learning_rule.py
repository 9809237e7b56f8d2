"""Each learning rule's update against a hand computation, over several steps."""

from collections import OrderedDict

import numpy as np
import pytest
from test_train_helpers import host

from pylearn_vae import backend
from pylearn_vae.models.model import Param
from pylearn_vae.training_algorithms.learning_rule import (
    AdaDelta,
    AdaGrad,
    Adam,
    Momentum,
    MomentumAdjustor,
    RMSProp,
)

LR = 0.1
SCALE = 0.5


pytestmark = pytest.mark.usefixtures("float64")  # the float64 fixture of conftest.py


def _setup():
    rng = np.random.RandomState(0)
    p = Param(rng.randn(3, 2), name="W")
    q = Param(rng.randn(2), name="b")
    grads = [OrderedDict([(p, rng.randn(3, 2)), (q, rng.randn(2))]) for _ in range(3)]
    return p, q, grads


def _run(rule, steps=3, lr=LR):
    """Apply the rule for ``steps`` steps (``b`` scaled by SCALE); return values per step."""
    p, q, grads = _setup()
    lr_param = Param(lr, name="learning_rate")
    history = []
    for g in grads[:steps]:
        updates = rule.get_updates(lr_param, g, {q: SCALE})
        for param, value in updates.items():
            param.set_value(value, borrow=True)
        history.append((host(p.get_value()), host(q.get_value())))
    return history, p, q, grads


def _hand(step, steps=3):
    """Run ``step(value, grad, eta, state, t) -> value`` by hand for both params."""
    p, q, grads = _setup()
    values = [host(p.get_value()), host(q.get_value())]
    states = [{}, {}]
    history = []
    for t, g in enumerate(grads[:steps], 1):
        for i, (gv, eta) in enumerate(zip(g.values(), (LR, LR * SCALE), strict=True)):
            values[i] = step(values[i], host(gv), eta, states[i], t)
        history.append(tuple(v.copy() for v in values))
    return history


def _assert_same(history, expected):
    for (p, q), (ep, eq) in zip(history, expected, strict=True):
        np.testing.assert_allclose(p, ep, rtol=1e-10)
        np.testing.assert_allclose(q, eq, rtol=1e-10)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum(nesterov):
    mu = 0.7

    def step(x, g, eta, s, t):
        v = mu * s.get("v", 0.0) - eta * g
        s["v"] = v
        return x + (mu * v - eta * g if nesterov else v)

    history, p, _, _ = _run(Momentum(mu, nesterov_momentum=nesterov))
    _assert_same(history, _hand(step))


def test_momentum_velocity_is_a_named_state_param_in_the_updates():
    rule = Momentum(0.5)
    p, q, grads = _setup()
    updates = rule.get_updates(0.1, grads[0])
    names = [param.name for param in updates]
    assert names == ["vel_W", "W", "vel_b", "b"]
    # get_updates changes nothing by itself: asking twice gives the same answer.
    again = rule.get_updates(0.1, grads[0])
    for a, b in zip(updates.values(), again.values(), strict=True):
        np.testing.assert_array_equal(host(a), host(b))


@pytest.mark.parametrize("bad", [-0.1, 1.0])
def test_momentum_range(bad):
    with pytest.raises(ValueError, match="init_momentum"):
        Momentum(bad)


def test_adadelta():
    rho = 0.9

    def step(x, g, eta, s, t):
        msg = rho * s.get("msg", 0.0) + (1 - rho) * g**2
        msdx = s.get("msdx", 0.0)
        dx = -np.sqrt(msdx + eta) / np.sqrt(msg + eta) * g
        s["msg"], s["msdx"] = msg, rho * msdx + (1 - rho) * dx**2
        return x + dx

    history, _, _, _ = _run(AdaDelta(rho))
    _assert_same(history, _hand(step))


def test_rmsprop():
    d, max_scaling = 0.8, 1e5

    def step(x, g, eta, s, t):
        ms = d * s.get("ms", 0.0) + (1 - d) * g**2
        s["ms"] = ms
        return x - eta * g / np.maximum(np.sqrt(ms), 1 / max_scaling)

    history, _, _, _ = _run(RMSProp(d, max_scaling))
    _assert_same(history, _hand(step))


def test_rmsprop_max_scaling_caps_the_gain():
    rule = RMSProp(decay=0.5, max_scaling=2.0)
    p = Param(np.zeros(2), name="w")
    updates = rule.get_updates(1.0, OrderedDict([(p, np.array([1e-6, 4.0]))]))
    # sqrt(0.5 g^2) is tiny for the first entry, so the divisor is 1/max_scaling = 0.5.
    np.testing.assert_allclose(host(updates[p]), [-2e-6, -4.0 / np.sqrt(8.0)])


def test_rmsprop_needs_named_params():
    p = Param(np.zeros(2))
    with pytest.raises(ValueError, match="named"):
        RMSProp().get_updates(0.1, OrderedDict([(p, np.ones(2))]))


def test_adagrad():
    eps = 1 / 1e5

    def step(x, g, eta, s, t):
        ss = s.get("ss", 0.0) + g**2
        s["ss"] = ss
        return x - eta / np.maximum(eps, np.sqrt(ss)) * g

    history, _, _, _ = _run(AdaGrad())
    _assert_same(history, _hand(step))


def test_adam():
    b1, b2, eps = 0.9, 0.999, 1e-8

    def step(x, g, eta, s, t):
        m = b1 * s.get("m", 0.0) + (1 - b1) * g
        v = b2 * s.get("v", 0.0) + (1 - b2) * g**2
        s["m"], s["v"] = m, v
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        return x - eta * m_hat / (np.sqrt(v_hat) + eps)

    rule = Adam()
    history, _, _, _ = _run(rule)
    _assert_same(history, _hand(step))
    assert float(host(rule.t.get_value())) == 3.0


def test_adam_first_step_moves_each_entry_by_about_the_learning_rate():
    # With bias correction, m_hat = g and v_hat = g^2 at t = 1: the step is lr * sign(g).
    p = Param(np.zeros(3), name="w")
    updates = Adam().get_updates(0.01, OrderedDict([(p, np.array([3.0, -0.2, 50.0]))]))
    np.testing.assert_allclose(host(updates[p]), [-0.01, 0.01, -0.01], rtol=1e-6)


class _Algorithm:
    def __init__(self, rule):
        self.learning_rule = rule


def test_momentum_adjustor_schedule():
    rule = Momentum(0.05)
    adjustor = MomentumAdjustor(final_momentum=0.99, start=5, saturate=30)
    adjustor._count = 0
    adjustor._apply_momentum(_Algorithm(rule))  # what setup does at epoch 0
    seen = {}
    for epoch in range(1, 36):
        adjustor.on_monitor(None, None, _Algorithm(rule))  # the monitor before epoch
        seen[epoch] = float(host(rule.momentum.get_value()))
    for epoch, mu in seen.items():
        alpha = min(max((epoch - 5) / 25, 0.0), 1.0)
        assert mu == pytest.approx(0.05 + alpha * (0.99 - 0.05), abs=1e-12)


def test_momentum_adjustor_errors():
    with pytest.raises(TypeError, match="saturate"):
        MomentumAdjustor(0.9, start=5, saturate=4)
    with pytest.raises(ValueError, match="learning_rule"):
        MomentumAdjustor(0.9, 1, 2)._apply_momentum(_Algorithm(None))


def test_momentum_adjustor_jump_when_start_equals_saturate():
    rule = Momentum(0.1)
    adjustor = MomentumAdjustor(0.9, start=2, saturate=2)
    adjustor._apply_momentum(_Algorithm(rule))
    values = []
    for _ in range(3):
        adjustor.on_monitor(None, None, _Algorithm(rule))
        values.append(round(float(host(rule.momentum.get_value())), 12))
    assert values == [0.1, 0.9, 0.9]


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_momentum_in_place_gives_get_updates_bits(nesterov, dtype):
    # Three steps each way from the same start: the same bits, and the in-place rule's
    # values are the stored arrays themselves (no new array per parameter).
    results = []
    for in_place in (False, True):
        rule = Momentum(0.7, nesterov_momentum=nesterov)
        rule.momentum = Param(0.7, name="momentum", dtype=dtype)  # floatX is float64 here
        p, q, grads = _setup()
        p, q = (Param(host(v.get_value()), name=v.name, dtype=dtype) for v in (p, q))
        grads = [OrderedDict(zip((p, q), g.values(), strict=True)) for g in grads]
        lr = Param(LR, name="learning_rate", dtype=dtype)
        for g in grads:
            g = OrderedDict((k, v.astype(dtype)) for k, v in g.items())
            stored = {param: param.get_value(borrow=True) for param in (p, q)}
            if in_place:
                updates = rule.get_updates_in_place(lr, g, {q: SCALE})
                assert all(updates[param] is stored[param] for param in (p, q))
            else:
                updates = rule.get_updates(lr, g, {q: SCALE})
            for param, value in updates.items():
                param.set_value(value, borrow=True)
        results.append([backend.to_host(p.get_value()), backend.to_host(q.get_value())])
    for expected, found in zip(*results, strict=True):
        assert found.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(found, expected)


def test_momentum_in_place_falls_back_where_the_dtype_would_change():
    # A float32 parameter with a float64 gradient: get_updates's new (float64) arrays,
    # the stored float32 array untouched.
    rule = Momentum(0.5)
    p = Param(np.ones(3, dtype="float32"), name="W", dtype="float32")
    stored = p.get_value(borrow=True)
    updates = rule.get_updates_in_place(0.1, OrderedDict([(p, np.ones(3))]))
    assert updates[p] is not stored
    np.testing.assert_array_equal(stored, np.ones(3, dtype="float32"))
    np.testing.assert_allclose(updates[p], 0.9)
