"""train.py: PYLEARN2_TRAIN_* variables, a tiny YAML run end to end, clear errors."""

import os
import subprocess
import sys

import pytest

from pylearn_vae.scripts.train import load_train_file, main
from pylearn_vae.utils import serial

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(REPO, "tests")

YAML = """\
!obj:pylearn_vae.train.Train {
    dataset: &train !obj:test_train_helpers.regression_data { num_examples: 12 },
    model: !obj:test_train_helpers.LinearRegression { nvis: 3 },
    algorithm: !obj:pylearn_vae.training_algorithms.sgd.SGD {
        learning_rate: 1e-2,
        batch_size: 4,
        monitoring_dataset: { train: *train },
        learning_rule: !obj:pylearn_vae.training_algorithms.learning_rule.Momentum {
            init_momentum: 0.5,
        },
        termination_criterion: !obj:pylearn_vae.termination_criteria.EpochCounter {
            max_epochs: 2,
        },
        update_callbacks: !obj:pylearn_vae.training_algorithms.sgd.ExponentialDecay {
            decay_factor: 1.0005,
            min_lr: 0,
        },
    },
    save_path: "${PYLEARN2_TRAIN_DIR}${PYLEARN2_TRAIN_FILE_STEM}.pkl",
    save_freq: 1,
}
"""


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "PYLEARN2_TRAIN_FILE_FULL_STEM",
        "PYLEARN2_TRAIN_DIR",
        "PYLEARN2_TRAIN_BASE_NAME",
        "PYLEARN2_TRAIN_FILE_STEM",
        "PYLEARN2_TRAIN_PHASE",
    ):
        monkeypatch.setenv(name, "unset")  # so monkeypatch restores the real state
        monkeypatch.delenv(name)


def test_load_train_file_sets_the_variables_before_parsing(tmp_path, clean_env):
    folder = tmp_path / "foo"
    folder.mkdir()
    path = folder / "bar.yaml"
    path.write_text('{stem: "${PYLEARN2_TRAIN_FILE_STEM}", dir: "${PYLEARN2_TRAIN_DIR}"}\n')
    loaded = load_train_file(str(path))
    assert loaded == {"stem": "bar", "dir": str(folder) + "/"}
    assert os.environ["PYLEARN2_TRAIN_FILE_FULL_STEM"] == str(folder / "bar")
    assert os.environ["PYLEARN2_TRAIN_BASE_NAME"] == "bar.yaml"


def test_relative_path_and_non_yaml_suffix(tmp_path, clean_env, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exp.yml").write_text("1\n")
    assert load_train_file("exp.yml") == 1
    assert os.environ["PYLEARN2_TRAIN_FILE_FULL_STEM"] == "exp.yml"  # only .yaml is stripped
    assert os.environ["PYLEARN2_TRAIN_DIR"] == ""
    assert os.environ["PYLEARN2_TRAIN_FILE_STEM"] == "exp.yml"


def test_cli_runs_a_tiny_yaml_and_logs_the_monitor_block(tmp_path, clean_env, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(YAML)
    assert main([str(config), "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "Parameter and initial learning rate summary:\n\tW: 0.01\n\tb: 0.01\n" in out
    assert "Monitoring step:\n\tEpochs seen: 0\n\tBatches seen: 0\n\tExamples seen: 0\n" in out
    assert "Monitoring step:\n\tEpochs seen: 2\n\tBatches seen: 6\n\tExamples seen: 24\n" in out
    assert "\ttrain_objective: " in out and "\tmomentum: 0.5\n" in out
    assert "Time this epoch: " in out
    assert f"Saving to {tmp_path}/tiny.pkl done. Time elapsed: " in out
    model = serial.load(str(tmp_path / "tiny.pkl"))
    assert model.monitor.get_epochs_seen() == 2
    assert model.monitor.training_succeeded
    assert "regression_data" in model.dataset_yaml_src
    record = model.monitor.channels["learning_rate"].val_record
    assert record[-1] == pytest.approx(0.01 / 1.0005**6, rel=1e-6)


def test_cli_phases(tmp_path, clean_env, capsys):
    one = YAML.replace("${PYLEARN2_TRAIN_FILE_STEM}.pkl", "p1.pkl")
    two = YAML.replace("${PYLEARN2_TRAIN_FILE_STEM}.pkl", "p2.pkl").replace("&train", "&t2")
    two = two.replace("*train", "*t2")
    body = "- " + one.replace("\n", "\n  ") + "\n- " + two.replace("\n", "\n  ")
    config = tmp_path / "phases.yaml"
    config.write_text(body)
    assert main([str(config)]) == 0
    assert os.environ["PYLEARN2_TRAIN_PHASE"] == "phase2"
    assert (tmp_path / "p1.pkl").exists() and (tmp_path / "p2.pkl").exists()


def test_bad_yaml_gives_one_clear_message(tmp_path, clean_env, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("!obj:pylearn_vae.train.Train {\n  dataset: [1, 2,\n")
    assert main([str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("train.py: error: ")
    assert "bad.yaml:" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3


def test_unknown_class_names_the_file(tmp_path, clean_env, capsys):
    config = tmp_path / "typo.yaml"
    config.write_text("!obj:pylearn_vae.train.Trian {}\n")
    assert main([str(config)]) == 2
    err = capsys.readouterr().err
    assert "typo.yaml" in err and "Trian" in err and "Traceback" not in err
    with pytest.raises(AttributeError):
        main(["--debug", str(config)])


def test_bin_train_script_runs(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(YAML.replace("max_epochs: 2", "max_epochs: 1"))
    # This checkout's package first, whatever an installed copy elsewhere says.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, TESTS]))
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", "train.py"), "-T", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # One line per monitoring step (Pylearn2's full log is behind --verbose), then the summary.
    assert "epoch 0/1  train" in result.stdout and "epoch 1/1  train" in result.stdout
    assert "Monitoring step:" not in result.stdout
    assert (tmp_path / "tiny.pkl").exists()
