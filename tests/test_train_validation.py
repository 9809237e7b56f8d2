"""Checks made before and while training: argument helpers, data, monitoring values, saving."""

import errno
import re

import numpy as np
import pytest
from test_train_helpers import LinearRegression, MeanSquaredError, regression_data

from pylearn_vae.datasets.dense_design_matrix import DenseDesignMatrix
from pylearn_vae.termination_criteria import EpochCounter
from pylearn_vae.train import Train
from pylearn_vae.training_algorithms.sgd import SGD
from pylearn_vae.utils import serial
from pylearn_vae.utils.validation import (
    check_choice,
    check_nonnegative_float,
    check_nonnegative_int,
    check_number_in,
    check_positive_float,
    check_positive_int,
    check_writable_file,
)


@pytest.mark.parametrize("value", [0, -1, True, False, 2.0, 2.5, "3", None, np.nan])
def test_positive_int_refuses_non_integers_and_bools(value):
    with pytest.raises(ValueError, match=r"^Owner: size must be a positive integer, got "):
        check_positive_int("Owner", "size", value)


def test_integer_checks_accept_ints_and_numpy_ints():
    assert check_positive_int("O", "n", np.int64(3)) == 3
    assert type(check_positive_int("O", "n", np.int64(3))) is int
    assert check_nonnegative_int("O", "n", 0) == 0
    with pytest.raises(ValueError, match="write 2 without the decimal point"):
        check_nonnegative_int("O", "n", 2.0)


@pytest.mark.parametrize("value", [0.0, -1e-9, np.inf, np.nan, True, "1"])
def test_positive_float_refuses(value):
    with pytest.raises(ValueError, match="O: x must be a positive finite number"):
        check_positive_float("O", "x", value)


def test_float_checks_and_choice():
    assert check_nonnegative_float("O", "x", 0) == 0.0
    assert check_positive_float("O", "x", 3) == 3.0
    with pytest.raises(ValueError, match="one of 'a', 'b', got 'c'"):
        check_choice("O", "x", "c", ("a", "b"))


def test_number_in_interval_names_the_interval():
    assert check_number_in("Momentum", "m", "0.5", 0, 1, high_open=True) == 0.5
    with pytest.raises(ValueError, match=r"Momentum: m must be a number in \[0, 1\), got 1"):
        check_number_in("Momentum", "m", 1, 0, 1, high_open=True)
    with pytest.raises(ValueError, match=r"a finite number >= 1, got 0.5"):
        check_number_in("ExponentialDecay", "decay_factor", 0.5, 1)
    with pytest.raises(TypeError, match="must be a number, got None"):
        check_number_in("O", "x", None, 0)


def test_writable_file(tmp_path):
    assert check_writable_file("T", "p", str(tmp_path / "new" / "deeper" / "m.pkl"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="is not a folder"):
        check_writable_file("T", "p", str(blocker / "m.pkl"))
    with pytest.raises(ValueError, match="is a folder"):
        check_writable_file("T", "p", str(tmp_path))


def _train(tmp_path, data=None, monitoring=None, **sgd_kwargs):
    data = regression_data(12) if data is None else data
    algorithm = SGD(
        0.05,
        cost=MeanSquaredError(),
        batch_size=4,
        monitoring_dataset=monitoring if monitoring is not None else {"train": data},
        termination_criterion=EpochCounter(2),
        **sgd_kwargs,
    )
    return Train(
        data, LinearRegression(3), algorithm, save_path=str(tmp_path / "m.pkl"), save_freq=1
    )


def test_non_finite_monitoring_value_stops_training(tmp_path):
    train = _train(tmp_path, monitoring_costs={"poisoned": MeanSquaredError(poison=True)})
    with pytest.raises(RuntimeError) as info:
        train.main_loop()
    message = str(info.value)
    assert "train_poisoned" in message and "'train'" in message and "epoch 0" in message
    assert "nan" in message
    assert not (tmp_path / "m.pkl").exists()


def test_nan_in_a_monitoring_dataset_is_refused_before_training(tmp_path):
    valid = regression_data(8, seed=2)
    X = valid.get_design_matrix().copy()
    X[5, 1] = np.nan
    valid.set_design_matrix(X)
    train = _train(tmp_path, monitoring={"train": regression_data(12), "valid": valid})
    with pytest.raises(ValueError, match=r"monitoring dataset 'valid'.*1 non-finite.*row 5"):
        train.main_loop()
    assert train.model.monitor.get_epochs_seen() == 0
    assert not (tmp_path / "m.pkl").exists()


def test_bernoulli_model_warns_about_data_outside_0_1(tmp_path, caplog):
    from test_eval_scripts import tiny_vae

    from pylearn_vae.costs.vae import VAECriterion

    grey = DenseDesignMatrix(X=np.random.default_rng(0).random((20, 784)) * 2.0)
    grey.yaml_src = "!obj:grey_levels {}"
    algorithm = SGD(
        0.01,
        cost=VAECriterion(num_samples=1),
        batch_size=10,
        termination_criterion=EpochCounter(1),
    )
    train = Train(grey, tiny_vae(), algorithm)
    train.main_loop()
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        re.search(r"training dataset.*, 1\.99.*\].*BernoulliVector.*scale", w) for w in warned
    ), warned


def test_a_full_disk_names_the_file(tmp_path, monkeypatch):
    real_save = serial._save_atomic

    def no_space(filepath, obj):
        if not filepath.endswith("/m.pkl"):  # the checkpoint (m.ckpt.pkl) is written
            return real_save(filepath, obj)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(serial, "_save_atomic", no_space)
    train = _train(tmp_path)
    with pytest.raises(OSError) as info:
        train.main_loop()
    assert str(tmp_path / "m.pkl") in str(info.value)
    assert info.value.errno == errno.ENOSPC
    assert "No space left on device" in str(info.value)


def test_save_freq_zero_never_saves_periodically_and_is_accepted(tmp_path):
    train = _train(tmp_path)
    train.save_freq = 0
    train.main_loop()
    assert not (tmp_path / "m.pkl").exists()
    with pytest.raises(ValueError, match="Train: save_freq must be a non-negative integer"):
        Train(regression_data(4), LinearRegression(3), save_freq=-1)
