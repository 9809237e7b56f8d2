"""Resuming a run from its checkpoint gives exactly the uninterrupted run (on the CPU).

Every run here trains the tutorial's recipe in miniature (tests/resume_helpers.py):
momentum raised by MomentumAdjustor, ExponentialDecay, the best model kept and saved,
a save every epoch, dynamically binarized digits (so the dataset has a random state of
its own) and a stochastic cost. A run stopped by SIGINT -- after some epoch, or between
two batches of an epoch -- and resumed from its checkpoint must end with the same
channel values at every epoch, the same parameters and the same best model, bit for bit.
"""

import os
import signal

import numpy as np
import pytest
from resume_helpers import (
    NO_EXTENSION,
    channel_histories,
    param_values,
    recipe,
    same_params,
    saved_params,
)

from pylearn_vae import backend
from pylearn_vae.config import yaml_parse
from pylearn_vae.train import Train, TrainingInterrupted
from pylearn_vae.utils import serial
from pylearn_vae.utils.checkpoint import read_checkpoint


# float64 repeats every float32 case: over a second in all, so with the slow tests.
@pytest.fixture(params=["float32", pytest.param("float64", marks=pytest.mark.slow)])
def floatx(request):
    old = backend.floatX()
    backend.set_floatX(request.param)
    yield request.param
    backend.set_floatX(old)


def build(folder, **kwargs):
    return yaml_parse.load(recipe(str(folder), **kwargs))


def run(folder, **kwargs):
    train = build(folder, **kwargs)
    train.main_loop()
    return train


def interrupted_then_resumed(folder, **kwargs):
    """Run until the stop hook fires, then resume from the checkpoint (as often as it
    takes: a resumed run may be stopped again)."""
    stops = []
    train = build(folder, **kwargs)
    while True:
        try:
            train.main_loop()
            return train, stops
        except TrainingInterrupted as exc:
            stops.append(exc)
        train = build(folder, **kwargs)
        train.load_checkpoint()


def assert_same_run(reference, resumed, ref_folder, folder):
    assert channel_histories(resumed) == channel_histories(reference)
    assert same_params(param_values(resumed.model), param_values(reference.model))
    assert same_params(saved_params(folder / "m.pkl"), saved_params(ref_folder / "m.pkl"))
    assert same_params(
        saved_params(folder / "m_best.pkl"), saved_params(ref_folder / "m_best.pkl")
    )
    best, ref_best = resumed.extensions[0], reference.extensions[0]
    assert best.best_cost == ref_best.best_cost
    assert same_params(param_values(best.best_model), param_values(ref_best.best_model))
    monitor, ref_monitor = resumed.model.monitor, reference.model.monitor
    assert monitor.get_batches_seen() == ref_monitor.get_batches_seen()
    assert monitor.get_examples_seen() == ref_monitor.get_examples_seen()
    assert monitor.training_succeeded and ref_monitor.training_succeeded


@pytest.fixture
def reference(tmp_path_factory, floatx):
    folder = tmp_path_factory.mktemp(f"reference_{floatx}")
    return run(folder), folder


# Four batches an epoch: batch 6 is in the middle of epoch 2, batch 4 ends epoch 1.
@pytest.mark.parametrize(
    "stop",
    [
        {"stop_epoch": 0},
        {"stop_epoch": 1},
        {"stop_epoch": 3},
        {"stop_batch": 1},
        {"stop_batch": 4},
        {"stop_batch": 6},
        {"stop_batch": 15},
    ],
    ids=lambda stop: "_".join(f"{k}{v}" for k, v in stop.items()),
)
def test_a_resumed_run_is_the_uninterrupted_run(tmp_path, reference, stop, floatx):
    ref, ref_folder = reference
    resumed, stops = interrupted_then_resumed(tmp_path, **stop)
    assert len(stops) == 1 and stops[0].checkpoint_path == str(tmp_path / "m.ckpt.pkl")
    epochs, batch = (
        (stop["stop_epoch"], 0) if "stop_epoch" in stop else divmod(stop["stop_batch"] - 1, 4)
    )
    if "stop_batch" in stop:
        batch += 1
    assert (stops[0].epochs_done, stops[0].batch) == (epochs, batch)
    assert resumed.model.get_params()[0].dtype == np.dtype(floatx)
    assert_same_run(ref, resumed, ref_folder, tmp_path)


def test_stopped_twice_in_one_epoch_and_resumed_twice(tmp_path, reference):
    """A resumed run keeps its stop hook's count, so a second hook stops it again."""
    ref, ref_folder = reference
    resumed, stops = interrupted_then_resumed(tmp_path, stop_batch=6, wait_batch=7)
    assert [(s.epochs_done, s.batch) for s in stops] == [(1, 2)]
    # A run resumed mid-epoch and stopped again mid-epoch.
    train = build(tmp_path / "again", stop_batch=5)
    with pytest.raises(TrainingInterrupted):
        train.main_loop()
    train = build(tmp_path / "again", stop_batch=5, stop_epoch=2)
    train.load_checkpoint()
    with pytest.raises(TrainingInterrupted) as info:
        train.main_loop()
    assert (info.value.epochs_done, info.value.batch) == (2, 0)
    train = build(tmp_path / "again", stop_batch=5, stop_epoch=2)
    train.load_checkpoint()
    train.main_loop()
    assert_same_run(ref, resumed, ref_folder, tmp_path)
    assert_same_run(ref, train, ref_folder, tmp_path / "again")


NO_ADJUSTOR = {"adjustor": NO_EXTENSION}


@pytest.mark.slow  # six runs stopped and resumed: about 3 s
@pytest.mark.parametrize(
    "parts",
    [
        {"rule": "!obj:pylearn_vae.training_algorithms.learning_rule.Adam {}", **NO_ADJUSTOR},
        {"rule": "!obj:pylearn_vae.training_algorithms.learning_rule.RMSProp {}", **NO_ADJUSTOR},
        {"rule": "!obj:pylearn_vae.training_algorithms.learning_rule.AdaDelta {}", **NO_ADJUSTOR},
        {"rule": "!obj:pylearn_vae.training_algorithms.learning_rule.AdaGrad {}", **NO_ADJUSTOR},
        {
            "rule": "!obj:pylearn_vae.training_algorithms.learning_rule.Momentum "
            "{init_momentum: 0.5, nesterov_momentum: True}",
            "schedule": "!obj:pylearn_vae.training_algorithms.sgd.LinearDecay "
            "{start: 3, saturate: 9, decay_factor: 0.1}",
        },
        {
            "schedule": "!obj:pylearn_vae.training_algorithms.sgd.AnnealedLearningRate "
            "{anneal_start: 5}",
            "criterion": "!obj:pylearn_vae.termination_criteria.And {criteria: ["
            "!obj:pylearn_vae.termination_criteria.EpochCounter {max_epochs: 4}, "
            "!obj:pylearn_vae.termination_criteria.MonitorBased "
            "{channel_name: valid_objective, N: 2, prop_decrease: 0.01}]}",
        },
    ],
    ids=["adam", "rmsprop", "adadelta", "adagrad", "nesterov-lineardecay", "annealed-and"],
)
def test_every_learning_rule_schedule_and_criterion_resumes_exactly(tmp_path, parts):
    """The rules' accumulators, the schedules' counters and the criteria's countdowns
    are in the checkpoint (float64, stopped mid-epoch)."""
    old = backend.floatX()
    backend.set_floatX("float64")
    try:
        ref = run(tmp_path / "ref", **parts)
        resumed, stops = interrupted_then_resumed(tmp_path / "run", stop_batch=6, **parts)
    finally:
        backend.set_floatX(old)
    assert len(stops) == 1
    assert channel_histories(resumed) == channel_histories(ref)
    assert same_params(param_values(resumed.model), param_values(ref.model))


def test_the_checkpoint_is_plain_data_and_loads_with_serial_load(tmp_path):
    with pytest.raises(TrainingInterrupted):
        build(tmp_path, stop_batch=6).main_loop()
    state = serial.load(str(tmp_path / "m.ckpt.pkl"))

    def check(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, (str, int)), path
                check(item, f"{path}[{key!r}]")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                check(item, f"{path}[{i}]")
        else:
            ok = value is None or isinstance(value, (bool, int, float, str, np.ndarray))
            assert ok, f"{path} is a {type(value).__name__}"
            if isinstance(value, np.ndarray):
                assert value.dtype != object, path

    check(state, "checkpoint")
    assert (state["epochs_done"], state["batch"], state["finished"]) == (1, 2, False)
    # The noise streams of prior, posterior and conditional, the weight generator, the
    # dataset's binarization generator and SGD's shuffling generator are all in it.
    generators = state["generators"]
    for part in ("prior", "conditional", "posterior"):
        assert f"model.{part}.noise" in generators
    # Training draws only the posterior's noise (the others have not started yet).
    assert generators["model.posterior.noise"]["state"]["position"] is not None
    assert "dataset._binarize_rng" in generators
    assert "algorithm.rng" in generators
    position = state["algorithm"]["position"]
    assert position["batch"] == 2 and "_binarize_rng" in position["dataset_rngs"]


def test_no_duplicate_history_rows_after_resuming(tmp_path):
    resumed, _ = interrupted_then_resumed(tmp_path, stop_epoch=2)
    for channel in resumed.model.monitor.channels.values():
        assert channel.epoch_record == [0, 1, 2, 3, 4]
        assert channel.batch_record == [0, 4, 8, 12, 16]


def test_train_resume_reads_the_yaml_file_and_its_checkpoint(tmp_path, monkeypatch):
    for name in ("PYLEARN2_TRAIN_FILE_FULL_STEM", "PYLEARN2_TRAIN_DIR", "PYLEARN2_TRAIN_PHASE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "exp.yaml"
    config.write_text(recipe("${PYLEARN2_TRAIN_DIR}out", stop_batch=6))
    ref = run(tmp_path / "ref")
    from pylearn_vae.scripts.train import load_train_file

    with pytest.raises(TrainingInterrupted) as info:
        load_train_file(str(config)).main_loop()
    assert info.value.checkpoint_path == f"{tmp_path}/out/m.ckpt.pkl"
    train = Train.resume(str(config))
    assert isinstance(train, Train)
    train.main_loop()
    assert channel_histories(train) == channel_histories(ref)
    assert same_params(param_values(train.model), param_values(ref.model))
    # A finished run resumed again does nothing: its state is the final one.
    again = Train.resume(str(config))
    again.main_loop()
    assert same_params(param_values(again.model), param_values(ref.model))
    assert again.model.monitor.get_epochs_seen() == 4


def test_a_changed_model_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(TrainingInterrupted):
        build(tmp_path, stop_batch=6).main_loop()
    train = build(tmp_path, hidden=21)
    train.load_checkpoint()
    with pytest.raises(ValueError, match="checkpoint has .*same model"):
        train.main_loop()


def test_a_checkpoint_of_another_float_type_is_refused(tmp_path):
    with pytest.raises(TrainingInterrupted):
        build(tmp_path, stop_batch=6).main_loop()
    old = backend.floatX()
    backend.set_floatX("float64")
    try:
        train = build(tmp_path)
        train.load_checkpoint()
        with pytest.raises(ValueError, match="PYLEARN_VAE_FLOATX"):
            train.main_loop()
    finally:
        backend.set_floatX(old)


def test_load_checkpoint_rejects_a_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "m.ckpt.pkl"
    serial.save(str(path), {"a": 1})
    with pytest.raises(ValueError, match="not a pylearn_vae checkpoint"):
        read_checkpoint(str(path))
    train = build(tmp_path)
    with pytest.raises(FileNotFoundError):
        train.load_checkpoint(str(tmp_path / "missing.ckpt.pkl"))


def test_request_stop_between_epochs_writes_a_checkpoint_and_raises(tmp_path):
    train = build(tmp_path, stop_epoch=2)
    with pytest.raises(TrainingInterrupted) as info:
        train.main_loop()
    exc = info.value
    assert isinstance(exc, KeyboardInterrupt)
    assert (exc.signum, exc.exit_status, exc.epochs_done, exc.batch) == (
        signal.SIGINT,
        130,
        2,
        0,
    )
    assert "the end of epoch 2" in str(exc) and exc.checkpoint_path in str(exc)
    assert os.path.exists(exc.checkpoint_path)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_saved_model_trains_further_through_pkl(tmp_path):
    """``model: !pkl: part.pkl`` used to fail with "Tried to create the same channel
    twice": the unpickled channels are histories, which the new ones continue."""
    run(tmp_path / "part", epochs=2)
    text = recipe(str(tmp_path / "more"), epochs=2)
    start = text.index("model: !obj:pylearn_vae.models.vae.VAE")
    end = text.index("algorithm:")
    text = text[:start] + f'model: !pkl: "{tmp_path / "part" / "m.pkl"}",\n    ' + text[end:]
    train = yaml_parse.load(text)
    train.main_loop()
    channel = train.model.monitor.channels["valid_objective"]
    assert channel.epoch_record == [0, 1, 2, 2, 3, 4]
    assert train.model.monitor.get_epochs_seen() == 4
