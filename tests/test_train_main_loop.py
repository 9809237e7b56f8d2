"""Train.main_loop with SGD: order of events, schedules, saving, stopping, errors."""

import logging
import os
from collections import OrderedDict

import numpy as np
import pytest
from test_train_helpers import LinearRegression, MeanSquaredError, host, regression_data

from pylearn_vae.space import NullSpace
from pylearn_vae.termination_criteria import (
    And,
    ChannelTarget,
    EpochCounter,
    MonitorBased,
    Or,
    TerminationCriterion,
)
from pylearn_vae.train import Train, time_string
from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.train_extensions.best_params import MonitorBasedSaveBest
from pylearn_vae.training_algorithms.learning_rule import Momentum, MomentumAdjustor
from pylearn_vae.training_algorithms.sgd import SGD, ExponentialDecay
from pylearn_vae.training_algorithms.training_algorithm import NoBatchSizeError
from pylearn_vae.utils import serial


def _sgd(epochs=2, batch_size=4, monitoring=True, **kwargs):
    data = regression_data(10)
    kwargs.setdefault("termination_criterion", EpochCounter(epochs))
    algorithm = SGD(
        0.05,
        batch_size=batch_size,
        monitoring_dataset={"train": data} if monitoring else None,
        **kwargs,
    )
    return data, algorithm


def _params(model):
    return [host(p.get_value()) for p in model.get_params()]


class Recorder(TrainExtension):
    """Records hook calls and the parameters seen at each monitoring step."""

    def __init__(self):
        self.calls = []
        self.params_at_monitor = []

    def setup(self, model, dataset, algorithm):
        self.calls.append("setup")

    def on_monitor(self, model, dataset, algorithm):
        self.calls.append("on_monitor")
        self.params_at_monitor.append(_params(model))

    def on_save(self, model, dataset, algorithm):
        self.calls.append("on_save")


def test_epoch_zero_monitoring_happens_before_any_update():
    data, algorithm = _sgd(epochs=1)
    model = LinearRegression(3)
    initial = _params(model)
    recorder = Recorder()
    Train(data, model, algorithm, extensions=[recorder]).main_loop()
    for before, now in zip(initial, recorder.params_at_monitor[0], strict=True):
        np.testing.assert_array_equal(before, now)
    objective = model.monitor.channels["train_objective"]
    assert objective.batch_record == [0, 3]
    W, b = initial
    expected = np.mean(np.sum((data.X @ W + b - data.y) ** 2, axis=1))
    assert objective.val_record[0] == pytest.approx(expected, rel=1e-5)
    assert objective.val_record[1] < objective.val_record[0]


def test_epoch_counter_runs_exactly_max_epochs():
    data, algorithm = _sgd(epochs=3)
    model = LinearRegression(3)
    Train(data, model, algorithm).main_loop()
    assert model.monitor.get_epochs_seen() == 3
    assert model.monitor.get_batches_seen() == 9  # ceil(10 / 4) per epoch
    assert model.monitor.get_examples_seen() == 30
    assert model.monitor.training_succeeded


def _two_epochs(seed):
    data, algorithm = _sgd(epochs=2, seed=seed)
    model = LinearRegression(3)
    Train(data, model, algorithm).main_loop()
    return _params(model)


def test_same_seed_same_params_after_two_epochs():
    a, b, c = _two_epochs((1, 2, 3)), _two_epochs((1, 2, 3)), _two_epochs((4, 5, 6))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, z) for x, z in zip(a, c, strict=True))


class WithScalers(LinearRegression):
    def get_lr_scalers(self):
        return OrderedDict([(self.b, 0.5)])


def test_plain_sgd_step_and_lr_scalers(caplog):
    data = regression_data(10)
    algorithm = SGD(0.1, batch_size=10, train_iteration_mode="sequential")
    model = WithScalers(3)
    with caplog.at_level(logging.INFO, logger="pylearn_vae.training_algorithms.sgd"):
        algorithm.setup(model, data)
    assert [r.getMessage() for r in caplog.records] == [
        "Parameter and initial learning rate summary:",
        "\tW: 0.1",
        "\tb: 0.05",
    ]
    W, b = _params(model)
    err = data.X @ W + b - data.y
    algorithm.train(data)
    lr = float(np.float32(0.1))
    np.testing.assert_allclose(
        host(model.W.get_value()), W - lr * 2 * data.X.T @ err / 10, rtol=1e-5
    )
    np.testing.assert_allclose(
        host(model.b.get_value()), b - lr * 0.5 * 2 * err.mean(0), rtol=1e-5, atol=1e-7
    )


def test_exponential_decay_schedule_step_by_step():
    # The tutorial's schedule: batch t uses max(0.01 / 1.0005**(t-1), 1e-4).
    used = []
    data = regression_data(12)
    algorithm = SGD(
        0.01,
        batch_size=2,
        termination_criterion=EpochCounter(5),
        update_callbacks=[
            lambda alg: used.append(float(host(alg.learning_rate.get_value()))),
            ExponentialDecay(1.0005, 1e-4),
        ],
    )
    Train(data, LinearRegression(3), algorithm).main_loop()
    assert len(used) == 30
    expected = [max(0.01 / 1.0005 ** (t - 1), 1e-4) for t in range(1, 31)]
    np.testing.assert_allclose(used, expected, rtol=1e-6)


def test_exponential_decay_pins_at_min_lr_and_accepts_ints():
    class Alg:
        learning_rate = SGD(1).learning_rate

    decay = ExponentialDecay(2, 0)  # docs/quirks.md#quirk-22: ints (min_lr: 0) are fine
    values = []
    for _ in range(5):
        decay(Alg)
        values.append(float(host(Alg.learning_rate.get_value())))
    assert values == [0.5, 0.25, 0.125, 0.0625, 0.03125]
    pinned = ExponentialDecay(2.0, 0.2)
    Alg.learning_rate.set_value(1.0)
    values = []
    for _ in range(5):
        pinned(Alg)
        values.append(round(float(host(Alg.learning_rate.get_value())), 6))
    assert values == [0.5, 0.25, 0.2, 0.2, 0.2]
    with pytest.raises(TypeError, match="decay_factor"):
        ExponentialDecay(None, 0.1)
    with pytest.raises(ValueError, match="min_lr"):
        ExponentialDecay(1.1, "small")


def test_momentum_schedule_through_training():
    # The tutorial's schedule: 0.05 through epoch 5, linear to 0.99 at epoch 30.
    used = {}
    data = regression_data(10)
    algorithm = SGD(
        0.001,
        batch_size=10,
        monitoring_dataset=data,
        learning_rule=Momentum(0.05),
        termination_criterion=EpochCounter(32),
        update_callbacks=lambda alg: used.setdefault(
            alg.monitor.get_epochs_seen() + 1,
            float(host(alg.learning_rule.momentum.get_value())),
        ),
    )
    model = LinearRegression(3)
    adjustor = MomentumAdjustor(final_momentum=0.99, start=5, saturate=30)
    Train(data, model, algorithm, extensions=[adjustor]).main_loop()
    for epoch in range(1, 33):
        alpha = min(max((epoch - 5) / 25, 0.0), 1.0)
        assert used[epoch] == pytest.approx(0.05 + alpha * 0.94, abs=1e-6), epoch
    # The channel is read before on_monitor moves it on: epoch e shows epoch e's value.
    record = model.monitor.channels["momentum"].val_record
    assert record[0] == pytest.approx(0.05)
    assert record[1:] == pytest.approx([used[e] for e in range(1, 33)], abs=1e-7)


def test_save_best_writes_when_the_channel_improves_and_only_then(tmp_path, monkeypatch):
    scores = [5.0, 3.0, 4.0, 3.0, 1.0, 2.0]
    data, algorithm = _sgd(epochs=5)
    model = LinearRegression(3)

    class Score(TrainExtension):
        def setup(self, model, dataset, algorithm):
            monitor = model.monitor
            monitor.add_channel(
                "score",
                None,
                lambda: scores[monitor.get_epochs_seen()],
                data_specs=(NullSpace(), ""),
            )

    path = str(tmp_path / "best.pkl")
    saved_at = []
    real_save = serial.save

    def spy(filepath, obj, on_overwrite="ignore"):
        saved_at.append(obj.monitor.get_epochs_seen())
        assert on_overwrite == "backup"
        real_save(filepath, obj, on_overwrite)

    monkeypatch.setattr(serial, "save", spy)
    best = MonitorBasedSaveBest("score", save_path=path, store_best_model=True)
    Train(data, model, algorithm, extensions=[Score(), best]).main_loop()
    assert saved_at == [0, 1, 4]
    loaded = serial.load(path)
    assert loaded.tag["MonitorBasedSaveBest"]["best_cost"] == 1.0
    assert loaded.tag["MonitorBasedSaveBest"]["save_path"] == os.path.abspath(path)
    assert loaded.monitor.get_epochs_seen() == 4
    assert best.best_model.monitor.get_epochs_seen() == 4


def test_save_best_options():
    with pytest.raises(AssertionError, match="save_path"):
        MonitorBasedSaveBest("x")
    scores = iter([1.0, 3.0, 2.0, 5.0])

    class FakeMonitor:
        _epochs_seen = 0
        channels = {"acc": type("C", (), {"val_record": [0.0]})()}

        def get_epochs_seen(self):
            return self._epochs_seen

    model = LinearRegression(3)
    model.monitor = FakeMonitor()
    best = MonitorBasedSaveBest("acc", store_best_model=True, higher_is_better=True, start_epoch=1)
    best.setup(model, None, None)
    kept = []
    for epoch in range(4):
        model.monitor._epochs_seen = epoch
        model.monitor.channels["acc"].val_record.append(next(scores))
        best.on_monitor(model, None, None)
        kept.append(best.best_cost)
    assert kept == [-np.inf, 3.0, 3.0, 5.0]


def test_nan_stops_training_with_a_clear_error_and_keeps_the_saved_file(tmp_path):
    data = regression_data(10)
    cost = MeanSquaredError()
    algorithm = SGD(0.05, cost=cost, batch_size=4, termination_criterion=EpochCounter(5))
    model = LinearRegression(3)

    class Poison(TrainExtension):
        def on_monitor(self, model, dataset, algorithm):
            if model.monitor.get_epochs_seen() == 1:
                cost.poison = True

    path = tmp_path / "model.pkl"
    train = Train(data, model, algorithm, save_path=str(path), save_freq=1, extensions=[Poison()])
    with pytest.raises(RuntimeError) as info:
        train.main_loop()
    message = str(info.value)
    assert "nan" in message and "epoch 2, batch 1" in message
    assert "no saved model was touched" in message
    saved = serial.load(str(path))
    assert saved.monitor.get_epochs_seen() == 1
    assert not saved.monitor.training_succeeded
    assert not os.path.exists(str(path) + ".bak")
    for a, b in zip(_params(saved), _params(model), strict=True):
        np.testing.assert_array_equal(a, b)  # the failed batch changed nothing


def test_a_non_finite_parameter_is_named_before_an_epoch():
    data, algorithm = _sgd()
    model = LinearRegression(3)
    algorithm.setup(model, data)
    algorithm.train(data)  # finite: no error
    param = model.get_params()[-1]
    value = param.get_value()
    value.flat[0] = np.inf
    param.set_value(value)
    with pytest.raises(RuntimeError, match=f"^NaN in {param.name}$"):
        algorithm.train(data)


def test_hook_order_and_one_save_per_epoch(tmp_path, monkeypatch):
    data, algorithm = _sgd(epochs=2)
    model = LinearRegression(3)
    recorder = Recorder()
    saves = []
    real_save = serial.save

    def spy(filepath, obj, on_overwrite="ignore"):
        if filepath.endswith(".ckpt.pkl"):  # the run's checkpoint, not the model
            return real_save(filepath, obj, on_overwrite)
        saves.append((obj.monitor.get_epochs_seen(), obj.monitor.training_succeeded))
        real_save(filepath, obj, on_overwrite)

    monkeypatch.setattr(serial, "save", spy)
    path = str(tmp_path / "m.pkl")
    Train(data, model, algorithm, save_path=path, save_freq=1, extensions=[recorder]).main_loop()
    assert recorder.calls == [
        "setup",
        "on_monitor",
        "on_monitor",
        "on_save",
        "on_monitor",
        "on_save",
    ]
    assert saves == [(1, False), (2, True)]  # the last epoch is saved once, as succeeded
    assert serial.load(path).monitor.training_succeeded


def test_time_budget_stops_without_marking_success(tmp_path, caplog):
    data, algorithm = _sgd(epochs=50)
    model = LinearRegression(3)
    path = str(tmp_path / "m.pkl")
    with caplog.at_level(logging.INFO):
        Train(data, model, algorithm, save_path=path, save_freq=10).main_loop(time_budget=0)
    assert "Time budget of 0.000000 seconds spent" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # a normal stop
    assert model.monitor.get_epochs_seen() == 0
    assert model.monitor.time_budget_exceeded
    saved = serial.load(path)
    assert not saved.monitor.training_succeeded  # docs/quirks.md#quirk-18


def test_on_save_needs_a_save_path():
    data, algorithm = _sgd(epochs=1)
    recorder = Recorder()
    Train(data, LinearRegression(3), algorithm, extensions=[recorder]).main_loop()
    assert "on_save" not in recorder.calls  # docs/quirks.md#quirk-19


def test_allow_overwrite_false_refuses_an_existing_file(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(b"precious")
    data, algorithm = _sgd(epochs=1)
    train = Train(
        data,
        LinearRegression(3),
        algorithm,
        save_path=str(path),
        save_freq=1,
        allow_overwrite=False,
    )
    with pytest.raises(OSError, match="overwrite"):
        train.main_loop()
    assert path.read_bytes() == b"precious"


def test_default_save_path_uses_the_stem_and_phase(monkeypatch):
    monkeypatch.setenv("PYLEARN2_TRAIN_FILE_FULL_STEM", "runs/exp")
    data, algorithm = _sgd()
    monkeypatch.delenv("PYLEARN2_TRAIN_PHASE", raising=False)
    assert Train(data, LinearRegression(3), algorithm, save_freq=1).save_path == "runs/exp.pkl"
    monkeypatch.setenv("PYLEARN2_TRAIN_PHASE", "phase2")  # docs/quirks.md#quirk-16 (TypeError)
    train = Train(data, LinearRegression(3), algorithm, save_freq=1)
    assert train.save_path == "runs/exp.phase2.pkl"


def test_train_sets_dataset_yaml_src_and_warns_without_it():
    data, algorithm = _sgd()
    model = LinearRegression(3)
    Train(data, model, algorithm)
    assert model.dataset_yaml_src == data.yaml_src
    del data.yaml_src
    with pytest.warns(UserWarning, match="yaml src"):
        Train(data, model, algorithm)


def test_extension_stop_iteration_halts():
    data, algorithm = _sgd(epochs=10)

    class Stop(TrainExtension):
        def on_monitor(self, model, dataset, algorithm):
            if model.monitor.get_epochs_seen() == 2:
                raise StopIteration

    model = LinearRegression(3)
    Train(data, model, algorithm, extensions=[Stop()]).main_loop()
    assert model.monitor.get_epochs_seen() == 2


def test_timing_channels_and_time_strings():
    data, algorithm = _sgd(epochs=2)
    model = LinearRegression(3)
    Train(data, model, algorithm).main_loop()
    channels = model.monitor.channels
    assert channels["training_seconds_this_epoch"].val_record[0] == 0.0
    assert channels["training_seconds_this_epoch"].val_record[1] > 0.0
    # The epoch's total time is set after its monitoring: it shows up one epoch later.
    assert channels["total_seconds_last_epoch"].val_record[:2] == [0.0, 0.0]
    assert channels["total_seconds_last_epoch"].val_record[2] > 0.0
    assert time_string(1.5) == "1.500000 seconds"
    assert time_string(65.5) == "0:01:05.500000"


# -- termination criteria ---------------------------------------------------------------


class Counting(TerminationCriterion):
    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def continue_learning(self, model):
        self.calls += 1
        return self.answer


def test_and_or_ask_every_criterion():
    first, second = Counting(False), Counting(True)
    assert And([first, second]).continue_learning(None) is False
    assert second.calls == 1  # docs/quirks.md#quirk-21: no short-circuit
    first, second = Counting(True), Counting(False)
    assert Or([first, second]).continue_learning(None) is True
    assert second.calls == 1
    with pytest.raises(TypeError, match="TerminationCriterion"):
        And([lambda m: True])


class _Model:
    def __init__(self, values):
        channel = type("C", (), {"val_record": list(values)})()
        self.monitor = type("M", (), {"channels": {"objective": channel}})()


def test_monitor_based_countdown():
    model = _Model([])
    criterion = MonitorBased(prop_decrease=0.1, N=2)
    answers = []
    for v in [10.0, 9.5, 9.4, 8.0, 7.9, 7.8]:
        model.monitor.channels["objective"].val_record.append(v)
        answers.append(criterion.continue_learning(model))
    # 10 resets (best inf); 9.5 and 9.4 are not 10% better: countdown 1 then 0.
    assert answers == [True, True, False, True, True, False]


def test_channel_target():
    model = _Model([3.0])
    assert ChannelTarget("objective", 2.5).continue_learning(model)
    model.monitor.channels["objective"].val_record.append(2.5)
    assert not ChannelTarget("objective", 2.5).continue_learning(model)
    with pytest.raises(KeyError, match="no channel 'nope'"):
        ChannelTarget("nope", 1).continue_learning(model)


# -- SGD argument errors --------------------------------------------------------------------


def test_sgd_argument_errors():
    data = regression_data()
    with pytest.raises(TypeError, match="SumOfCosts"):
        SGD(0.1, cost=[MeanSquaredError()])
    with pytest.raises(ValueError, match="monitoring batch size"):
        SGD(0.1, monitoring_batch_size=5)
    with pytest.raises(TypeError, match="Monitoring dataset with name valid is not a dataset"):
        SGD(0.1, monitoring_dataset={"valid": [1, 2]})
    with pytest.raises(NoBatchSizeError):
        SGD(0.1).setup(LinearRegression(3), data)
    model = LinearRegression(3)
    model.W.set_value(np.full((3, 1), np.nan))
    with pytest.raises(ValueError, match=r"These params are NaN: \['W'\]"):
        SGD(0.1, batch_size=2).setup(model, data)
    model.W.set_value(np.full((3, 1), np.inf))
    with pytest.raises(ValueError, match=r"These params are Inf: \['W'\]"):
        SGD(0.1, batch_size=2).setup(model, data)

    class BadScalers(LinearRegression):
        def get_lr_scalers(self):
            return {"W": 2.0}

    with pytest.raises(ValueError, match="not an optimization parameter"):
        SGD(0.1, batch_size=2).setup(BadScalers(3), data)
    assert SGD.__init__.__defaults__[-1] == (2012, 10, 5)  # docs/quirks.md#quirk-30: a tuple
