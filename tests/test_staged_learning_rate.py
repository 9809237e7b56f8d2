"""StagedLearningRate: Burda et al.'s stages of constant rate, through training and resume."""

import numpy as np
import pytest
from conftest import HELPER_MODULES
from resume_helpers import NEVER, channel_histories, param_values, recipe, same_params
from test_train_helpers import LinearRegression, host, regression_data

from pylearn_vae import backend
from pylearn_vae.config import yaml_parse
from pylearn_vae.termination_criteria import EpochCounter
from pylearn_vae.train import Train, TrainingInterrupted
from pylearn_vae.training_algorithms.sgd import SGD, StagedLearningRate

BURDA = [3**i for i in range(8)]


def test_burda_schedule_epoch_by_epoch():
    schedule = StagedLearningRate(BURDA, 0.1)
    assert schedule.total_epochs == 3280
    ends = np.cumsum(BURDA)  # 1, 4, 13, 40, 121, 364, 1093, 3280
    for epoch in range(1, 3290):
        stage = min(int(np.searchsorted(ends, epoch)), 7)
        assert schedule.stage_of(epoch) == stage, epoch
        assert schedule.factor(epoch) == pytest.approx(10 ** (-stage / 7), rel=1e-12)
    assert [schedule.stage_of(e) for e in (1, 2, 4, 5, 13, 14, 1093, 1094, 3280)] == [
        0, 1, 1, 2, 2, 3, 6, 7, 7,
    ]
    assert schedule.factor(3280) == pytest.approx(0.1, rel=1e-12)
    assert schedule.factor(10**6) == schedule.factor(3280)  # the last rate holds


def test_rates_used_by_each_batch_of_a_run():
    used = []
    data = regression_data(12)
    algorithm = SGD(
        0.2,
        batch_size=4,  # 3 batches an epoch
        monitoring_dataset={"train": data},
        termination_criterion=EpochCounter(5),
        update_callbacks=[lambda alg: used.append(float(host(alg.learning_rate.get_value())))],
    )
    model = LinearRegression(3)
    Train(data, model, algorithm, extensions=[StagedLearningRate([1, 2, 1], 0.25)]).main_loop()
    per_epoch = [used[i : i + 3] for i in range(0, 15, 3)]
    expected = [0.2, 0.1, 0.1, 0.05, 0.05]  # stages 0, 1, 1, 2, then the last one holds
    for rates, rate in zip(per_epoch, expected, strict=True):
        np.testing.assert_allclose(rates, [rate] * 3, rtol=1e-6)
    # The learning_rate channel of epoch e is the rate epoch e trained with.
    channel = model.monitor.channels["learning_rate"].val_record
    np.testing.assert_allclose(channel, [0.2] + expected, rtol=1e-6)


@pytest.mark.parametrize(
    "args,message",
    [
        (([], 0.1), "stage_epochs is empty"),
        (("1, 3", 0.1), "stage_epochs must be a list"),
        ((5, 0.1), "stage_epochs must be a list"),
        (([1, 0], 0.1), r"stage_epochs\[1\]"),
        (([1, 2.5], 0.1), r"stage_epochs\[1\]"),
        (([1, 3], 0), "final_factor"),
        (([1, 3], -0.1), "final_factor"),
        (([1, 3], float("nan")), "final_factor"),
        (([4], 0.1), "with one stage"),
    ],
)
def test_bad_arguments_name_the_argument(args, message):
    with pytest.raises(ValueError, match=message):
        StagedLearningRate(*args)


def test_one_stage_keeps_the_base_rate():
    schedule = StagedLearningRate([5], 1)
    assert [schedule.factor(e) for e in (1, 5, 6)] == [1.0, 1.0, 1.0]


def test_needs_an_algorithm_with_a_learning_rate():
    with pytest.raises(ValueError, match="needs a training algorithm with a learning_rate"):
        StagedLearningRate([1, 2], 0.5).setup(None, None, object())


# -- resuming: the tiny tutorial recipe of resume_helpers with Adam and three stages --------

STAGED = {
    "rule": "!obj:pylearn_vae.training_algorithms.learning_rule.Adam {epsilon: 1e-4}",
    "adjustor": "!obj:pylearn_vae.training_algorithms.sgd.StagedLearningRate "
    "{stage_epochs: [1, 2, 2], final_factor: 0.1}",
    # No per-batch schedule: the staged rate alone.
    "schedule": f"!obj:resume_helpers.WaitForSignalAt {{batch: {NEVER}}}",
}


def _build(folder, **kwargs):
    return yaml_parse.load(recipe(str(folder), epochs=5, **STAGED, **kwargs))


@pytest.fixture(scope="module")
def staged_reference(tmp_path_factory):
    old = backend.floatX()
    backend.set_floatX("float64")
    try:
        with pytest.MonkeyPatch.context() as patch:  # the autouse fixture's, for this scope
            patch.setenv("PYLEARN_VAE_ALLOW_MODULES", HELPER_MODULES)
            train = _build(tmp_path_factory.mktemp("staged_reference"))
            train.main_loop()
    finally:
        backend.set_floatX(old)
    return train


# Four batches an epoch. Epochs 2 and 3 are stage 1: batch 6 is in the middle of epoch 2,
# stop_epoch 2 between its two epochs; batch 15 is in epoch 4, the middle of stage 2.
@pytest.mark.parametrize(
    "stop", [{"stop_batch": 6}, {"stop_epoch": 2}, {"stop_batch": 15}], ids=str
)
def test_a_run_resumed_mid_stage_is_the_uninterrupted_run(tmp_path, staged_reference, stop):
    old = backend.floatX()
    backend.set_floatX("float64")
    try:
        train = _build(tmp_path, **stop)
        with pytest.raises(TrainingInterrupted):
            train.main_loop()
        train = _build(tmp_path, **stop)
        train.load_checkpoint()
        train.main_loop()
    finally:
        backend.set_floatX(old)
    assert channel_histories(train) == channel_histories(staged_reference)
    assert same_params(param_values(train.model), param_values(staged_reference.model))
    rates = train.model.monitor.channels["learning_rate"].val_record
    np.testing.assert_allclose(
        rates, [0.01, 0.01, 0.01 * 0.1**0.5, 0.01 * 0.1**0.5, 0.001, 0.001], rtol=1e-12
    )
