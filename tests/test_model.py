"""Param, bind and the Model base class (``pylearn2/models/model.py``)."""

from collections import OrderedDict, defaultdict

import autograd.numpy as anp
import numpy as np
import pytest

from pylearn_vae.costs.cost import Cost, DefaultDataSpecsMixin
from pylearn_vae.datasets.dense_design_matrix import DenseDesignMatrix
from pylearn_vae.models.model import Model, Param, bind
from pylearn_vae.monitor import Monitor
from pylearn_vae.space import VectorSpace


class TwoParams(Model):
    def __init__(self):
        super().__init__()
        self.W = Param(np.arange(6.0).reshape(2, 3), name="W")
        self.b = Param([1.0, 2.0], name="b")
        self._params = [self.W, self.b]


def test_param_name_dtype_and_repr():
    p = Param(np.zeros((2, 3)), name="h_W")
    assert p.name == "h_W" and str(p) == "h_W"
    assert p.shape == (2, 3) and p.dtype == np.float32
    assert repr(p) == "Param('h_W', shape=(2, 3), dtype=float32)"
    assert Param([1, 2], dtype="int64").dtype == np.int64


def test_get_value_copy_vs_borrow():
    p = Param(np.zeros(3), name="p")
    copy = p.get_value()
    copy[0] = 5.0
    assert p.get_value()[0] == 0.0
    p.get_value(borrow=True)[1] = 7.0
    assert p.get_value()[1] == 7.0


def test_set_value_copies_keeps_dtype_and_allows_new_shape():
    p = Param(np.zeros(3), name="p")
    v = np.ones(4)
    p.set_value(v)
    v[0] = 9.0
    assert p.get_value()[0] == 1.0 and p.dtype == np.float32 and p.shape == (4,)
    w = np.ones(2, dtype="float32")
    p.set_value(w, borrow=True)
    w[0] = 3.0
    assert p.get_value()[0] == 3.0


def test_params_are_keys_by_identity():
    a, b = Param(np.zeros(2), name="same"), Param(np.zeros(2), name="same")
    d = {a: 1, b: 2}
    assert len(d) == 2 and d[a] == 1 and d[b] == 2
    a.set_value(np.ones(2))
    assert d[a] == 1


def test_bind_makes_value_answer_and_restores():
    p, q = Param(np.zeros(2), name="p"), Param(np.ones(2), name="q")
    with bind([p, q], ["P", "Q"]):
        assert p.value == "P" and q.value == "Q"
        with bind([p], ["inner"]):
            assert p.value == "inner"
        assert p.value == "P"
        np.testing.assert_array_equal(p.get_value(), [0.0, 0.0])
    np.testing.assert_array_equal(p.value, [0.0, 0.0])
    np.testing.assert_array_equal(q.value, [1.0, 1.0])


def test_bind_restores_on_exception():
    p = Param(np.zeros(2), name="p")
    with pytest.raises(RuntimeError, match="boom"), bind([p], ["X"]):
        raise RuntimeError("boom")
    assert p._bound is None
    np.testing.assert_array_equal(p.value, [0.0, 0.0])


def test_bind_length_mismatch():
    with (
        pytest.raises(ValueError, match="2 params and 1 values"),
        bind([Param([0.0]), Param([0.0])], [1]),
    ):
        pass


def test_get_params_is_a_copy_and_values_round_trip():
    m = TwoParams()
    params = m.get_params()
    params.append("junk")
    assert m.get_params() == [m.W, m.b]
    values = m.get_param_values()
    values[0][0, 0] = 100.0
    assert m.W.get_value()[0, 0] == 0.0
    m.set_param_values([np.ones((2, 3)), np.zeros(2)])
    np.testing.assert_array_equal(m.W.get_value(), np.ones((2, 3)))
    np.testing.assert_array_equal(m.b.get_value(), [0.0, 0.0])
    with pytest.raises(ValueError, match="expected 2 values, got 1"):
        m.set_param_values([np.ones((2, 3))])


def test_param_vector_round_trip():
    m = TwoParams()
    vec = m.get_param_vector()
    np.testing.assert_array_equal(vec, [0, 1, 2, 3, 4, 5, 1, 2])
    m.set_param_vector(np.arange(8.0) * 2)
    np.testing.assert_array_equal(m.W.get_value(), np.arange(6.0).reshape(2, 3) * 2)
    np.testing.assert_array_equal(m.b.get_value(), [12.0, 14.0])
    with pytest.raises(ValueError, match="vector of 8 values, got 9"):
        m.set_param_vector(np.zeros(9))


def test_modify_updates_calls_extensions_after_model():
    calls = []

    class Ext:
        def post_modify_updates(self, updates, model):
            calls.append(("ext", dict(updates)))
            updates[model.b] = updates[model.b] * 0

    class M(TwoParams):
        def _modify_updates(self, updates):
            calls.append(("model", None))
            updates[self.b] = updates[self.b] + 1

    m = M()
    m.extensions.append(Ext())
    updates = OrderedDict([(m.b, np.ones(2))])
    m.modify_updates(updates)
    assert [c[0] for c in calls] == ["model", "ext"]
    np.testing.assert_array_equal(calls[1][1][m.b], [2.0, 2.0])
    np.testing.assert_array_equal(updates[m.b], [0.0, 0.0])
    m.enforce_constraints()
    np.testing.assert_array_equal(m.b.get_value(), [0.0, 0.0])


def test_defaults():
    m = Model()
    assert m.extensions == [] and m.names_to_del == set()
    assert m.get_params() == [] and m.get_lr_scalers() == {}
    space, source = m.get_monitoring_data_specs()
    assert str(space) == "NullSpace" and source == ""
    assert m.get_monitoring_channels(None) == {}
    assert m.get_input_source() == "features" and m.get_target_source() == "targets"
    assert m.get_weights_format() == ("v", "h")
    assert m.get_target_space() is None


def test_set_batch_size_changes_nothing_on_the_base_model():
    m = TwoParams()
    before = dict(vars(m))
    m.set_batch_size(10)
    assert vars(m).keys() == before.keys()
    assert all(vars(m)[k] is v for k, v in before.items())


class _MeanOfFeatures(DefaultDataSpecsMixin, Cost):
    def expr(self, model, data, **kwargs):
        return anp.mean(data)


class _Probed(TwoParams):
    """Records the batch sizes its monitoring channels are asked about."""

    def __init__(self):
        super().__init__()
        self.input_space = VectorSpace(3)
        self.seen = []

    def get_monitoring_data_specs(self):
        return self.input_space, "features"

    def get_monitoring_channels(self, data):
        self.seen.append(data.shape[0])
        return OrderedDict([("x_mean", anp.mean(data))])


@pytest.mark.parametrize("test_batch_size, probed", [(None, 2), (4, 4), (50, 10)])
def test_monitor_learns_channel_names_from_test_batch_size_examples(rng, test_batch_size, probed):
    model = _Probed()
    if test_batch_size is not None:  # what SGD.setup does with its batch_size
        model._test_batch_size = test_batch_size
    monitor = Monitor.get_monitor(model)
    monitor.setup(DenseDesignMatrix(X=rng.randn(10, 3)), _MeanOfFeatures(), batch_size=5)
    assert model.seen == [probed]  # at most the dataset's 10 examples
    assert "x_mean" in monitor.channels


def test_tag_is_lazy_defaultdict():
    m = Model()
    assert isinstance(m.tag, defaultdict)
    m.tag["ext"]["seen"] = 1
    assert m.tag["ext"] == {"seen": 1} and m.tag["other"] == {}


@pytest.mark.parametrize(
    "method, args",
    [
        ("get_weights", ()),
        ("get_weights_topo", ()),
        ("get_weights_view_shape", ()),
        ("get_default_cost", ()),
        ("free_energy", (None,)),
        ("train_all", (None,)),
        ("continue_learning", ()),
    ],
)
def test_not_implemented(method, args):
    with pytest.raises(NotImplementedError, match=f"Model does not implement {method}"):
        getattr(Model(), method)(*args)
