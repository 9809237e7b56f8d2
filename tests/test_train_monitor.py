"""Monitor: channel names, example-weighted means, log format, ordering, pickling."""

import logging
import pickle

import numpy as np
import pytest
from test_train_helpers import LinearRegression, MeanSquaredError, XOnlyCost, host, regression_data

from pylearn_vae import backend
from pylearn_vae.monitor import Monitor, number_aware_alphabetical_key, read_channel
from pylearn_vae.space import NullSpace, VectorSpace
from pylearn_vae.training_algorithms.learning_rule import Momentum
from pylearn_vae.training_algorithms.sgd import SGD


def _monitor(datasets, batch_size=4, extra_costs=None, mode="sequential"):
    model = LinearRegression(3)
    monitor = Monitor.get_monitor(model)
    monitor.setup(datasets, MeanSquaredError(), batch_size, extra_costs=extra_costs, mode=mode)
    return model, monitor


def test_get_monitor_attaches_once():
    model = LinearRegression(3)
    monitor = Monitor.get_monitor(model)
    assert model.monitor is monitor
    assert Monitor.get_monitor(model) is monitor


def test_channel_names_per_dataset_and_for_the_algorithm():
    model = LinearRegression(3)
    data = {"train": regression_data(10), "valid": regression_data(6, seed=2)}
    algorithm = SGD(0.1, batch_size=5, monitoring_dataset=data, learning_rule=Momentum(0.5))
    algorithm.setup(model, data["train"])
    assert list(model.monitor.channels) == [
        "train_objective",
        "train_mae",
        "train_W_norm",
        "train_err_max",
        "valid_objective",
        "valid_mae",
        "valid_W_norm",
        "valid_err_max",
        "learning_rate",
        "momentum",
    ]


def test_bare_dataset_has_unprefixed_names_and_extra_costs_are_not_mutated():
    extra = {"xonly": XOnlyCost()}
    _, monitor = _monitor(regression_data(), extra_costs=extra)
    assert list(extra) == ["xonly"]  # docs/quirks.md#quirk-30: the caller's dict is left alone
    assert list(monitor.channels) == ["objective", "xonly", "mae", "W_norm", "err_max"]


def test_values_are_example_weighted_means_of_batch_values():
    data = regression_data(10)
    model, monitor = _monitor(data, batch_size=4)  # batches of 4, 4, 2
    monitor()
    X, y = data.X, data.y
    W, b = host(model.W.get_value()), host(model.b.get_value())
    err = X @ W + b - y
    sq = np.sum(err**2, axis=1)
    assert read_channel(model, "objective") == pytest.approx(sq.mean(), rel=1e-5)
    # err_max: a max per batch, averaged with weights 4/10, 4/10, 2/10 (docs/quirks.md#quirk-10).
    batch_max = [np.abs(err[s]).max() for s in (slice(0, 4), slice(4, 8), slice(8, 10))]
    expected = 0.4 * batch_max[0] + 0.4 * batch_max[1] + 0.2 * batch_max[2]
    assert read_channel(model, "err_max") == pytest.approx(expected, rel=1e-5)
    assert np.abs(err).max() != pytest.approx(expected, rel=1e-3)


def test_records_and_counters():
    model, monitor = _monitor(regression_data())
    monitor()
    monitor.report_batch(4)
    monitor.report_batch(2)
    monitor.report_epoch()
    monitor()
    channel = monitor.channels["objective"]
    assert channel.batch_record == [0, 2]
    assert channel.example_record == [0, 6]
    assert channel.epoch_record == [0, 1]
    assert len(channel.val_record) == len(channel.time_record) == 2
    assert channel.time_record[0] <= channel.time_record[1]
    assert (monitor.get_batches_seen(), monitor.get_examples_seen()) == (2, 6)
    assert monitor.get_epochs_seen() == 1


def test_log_block_format_and_number_aware_order(caplog):
    model, monitor = _monitor(regression_data())
    big = backend.asarray(12345.678)
    for name, value in (("l10", 1.0), ("l2", 0.5), ("la", big), ("L1", 0.25)):
        monitor.add_channel(name, None, lambda v=value: v, data_specs=(NullSpace(), ""))
    with caplog.at_level(logging.INFO, logger="pylearn_vae.monitor"):
        monitor()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:4] == [
        "Monitoring step:",
        "\tEpochs seen: 0",
        "\tBatches seen: 0",
        "\tExamples seen: 0",
    ]
    names = [line.split(":")[0].strip() for line in lines[4:]]
    assert names == sorted(monitor.channels, key=number_aware_alphabetical_key)
    assert names.index("l2") < names.index("l10") < names.index("la")
    assert "\tl2: 0.5" in lines
    assert "\tla: 1.235e+04" in lines


def test_number_aware_key():
    names = ["b10", "b2", "a", "b", "2", "10", "b2c"]
    assert sorted(names, key=number_aware_alphabetical_key) == [
        "2",
        "10",
        "a",
        "b",
        "b2",
        "b2c",
        "b10",
    ]


def test_add_channel_errors():
    model = LinearRegression(3)
    monitor = Monitor.get_monitor(model)
    with pytest.raises(ValueError, match="no dataset"):
        monitor.add_channel("x", None, lambda: 1.0)
    a, b = regression_data(), regression_data(seed=3)
    monitor.add_dataset(a, batch_size=5)
    monitor.add_channel("x", None, lambda: 1.0)
    with pytest.raises(ValueError, match=r"Tried to create the same channel twice \(x\)"):
        monitor.add_channel("x", None, lambda: 2.0)
    with pytest.raises(ValueError, match=r"'vec' must give a 0-d scalar.*shape \(2,\)"):
        monitor.add_channel("vec", None, lambda: np.ones(2))
    with pytest.raises(ValueError, match=r"'list' must give a 0-d scalar.*shape \(1,\)"):
        monitor.add_channel("list", None, lambda: [1.0])
    with pytest.raises(ValueError, match="not one of the monitor's datasets"):
        monitor.add_channel("y", None, lambda: 1.0, dataset=b)
    monitor.add_dataset(b, batch_size=5)
    with pytest.raises(ValueError, match="multiple datasets"):
        monitor.add_channel("z", None, lambda: 1.0)


def test_add_dataset_errors():
    monitor = Monitor(LinearRegression(3))
    with pytest.raises(ValueError, match="invalid iteration parameters in Monitor.add_dataset"):
        monitor.add_dataset(regression_data(10), mode="sequential", batch_size=4, num_batches=9)
    with pytest.raises(TypeError, match="seed"):
        monitor.add_dataset(regression_data(), mode="shuffled_sequential", batch_size=4)
    with pytest.raises(TypeError, match="random number generator"):
        monitor.add_dataset(
            regression_data(),
            mode="shuffled_sequential",
            batch_size=4,
            seed=np.random.RandomState(0),
        )


def test_stochastic_mode_sees_the_same_batches_each_call():
    data = regression_data(10)
    model, monitor = _monitor(data, batch_size=3, mode="shuffled_sequential")
    assert monitor._rng_seed == [[2013, 2, 22]]
    monitor()
    monitor()
    record = monitor.channels["err_max"].val_record
    assert record[0] == record[1]
    # ... and not the sequential order: err_max depends on how rows are grouped.
    _, sequential = _monitor(data, batch_size=3)
    sequential()
    assert sequential.channels["err_max"].val_record[0] != pytest.approx(record[0])


def test_data_channel_on_a_feature_only_space():
    data = regression_data(10)
    model = LinearRegression(3)
    monitor = Monitor.get_monitor(model)
    monitor.add_dataset(data, batch_size=10)
    monitor.add_channel(
        "x_mean", None, lambda X: X.mean(), data_specs=(VectorSpace(3), "features")
    )
    monitor()
    assert read_channel(model, "x_mean") == pytest.approx(data.X.mean(), rel=1e-5)


def test_pickle_keeps_records_only_and_datasets_as_yaml_src():
    data = regression_data()
    model, monitor = _monitor(data)
    monitor()
    clone = pickle.loads(pickle.dumps(monitor))
    assert clone._datasets == [data.yaml_src]
    assert list(clone.channels) == list(monitor.channels)
    for name, live in monitor.channels.items():
        channel = clone.channels[name]
        # The records and the doc come back; the graph (val, dataset, prereqs) does not.
        for field in ("doc", "val_record", "example_record", "batch_record", "epoch_record"):
            assert getattr(channel, field) == getattr(live, field), (name, field)
        assert channel.time_record == live.time_record and len(live.val_record) == 1
        for graph in ("val", "dataset", "prereqs", "data_specs"):
            assert not hasattr(channel, graph), (name, graph)
    assert clone.get_epochs_seen() == monitor.get_epochs_seen()
    # The live monitor still works after being pickled.
    monitor()
    assert len(monitor.channels["objective"].val_record) == 2


def test_add_channel_refuses_a_symbolic_input():
    """Pylearn2's ``ipt`` is accepted as None only (docs/quirks.md)."""
    monitor = Monitor.get_monitor(LinearRegression(3))
    monitor.add_dataset(regression_data(), batch_size=5)
    monitor.add_channel("x", None, lambda: 1.0)
    with pytest.raises(ValueError, match=r"^Monitor.add_channel: ipt='X' is Pylearn2's"):
        monitor.add_channel("y", "X", lambda: 1.0)
    assert list(monitor.channels) == ["x"]
