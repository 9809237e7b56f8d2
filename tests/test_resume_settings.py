"""A run belongs to its YAML file: the checkpoint records the run's settings, --resume
refuses a change that alters the model, the data or the optimization (naming each),
lets run controls change, and --epochs N --resume continues a finished run to N epochs
with the numbers of a run of N epochs."""

import os
import subprocess
import sys

import pytest
from resume_helpers import channel_histories, recipe, same_params, saved_params

from pylearn_vae import run
from pylearn_vae.config import settings, yaml_parse
from pylearn_vae.run_options import RunOptions
from pylearn_vae.train import TrainingInterrupted
from pylearn_vae.utils import serial
from pylearn_vae.utils.checkpoint import read_checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(folder, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "exp.yaml"
    config.write_text(recipe(str(folder), **kwargs))
    return str(config)


def quiet(**kwargs):
    return RunOptions(quiet=True, **kwargs)


def test_the_checkpoint_records_the_files_settings(tmp_path):
    config = write(tmp_path, stop_batch=6)
    with pytest.raises(TrainingInterrupted):
        run.train_file(config, quiet())
    recorded = read_checkpoint(str(tmp_path / "m.ckpt.pkl"))["settings"]
    assert recorded["class"] == "pylearn_vae.train.Train"
    assert recorded["algorithm"]["learning_rate"] == 0.01
    assert recorded["model"]["conditional"]["mlp"]["layers"][0]["dim"] == 20
    graph = yaml_parse.load(recipe(str(tmp_path), stop_batch=6), instantiate=False)
    assert settings.describe(graph) == recorded


def test_resume_refuses_each_changed_setting_and_names_it(tmp_path):
    config = write(tmp_path, stop_batch=6)
    with pytest.raises(TrainingInterrupted):
        run.train_file(config, quiet())
    text = recipe(str(tmp_path), stop_batch=6, hidden=21).replace(
        "learning_rate: 1e-2", "learning_rate: 0.5"
    )
    (tmp_path / "exp.yaml").write_text(text)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(run.RunRefused) as info:
        run.train_file(config, quiet(), resume=True)
    message = str(info.value)
    assert "the file.algorithm.learning_rate: 0.01 -> 0.5" not in message
    assert "algorithm.learning_rate: 0.01 -> 0.5" in message
    assert "model.conditional.mlp.layers[0].dim: 20 -> 21" in message
    assert "--overwrite" in message and "\n" not in message
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # nothing written


def test_run_controls_may_change_between_sittings(tmp_path):
    config = write(tmp_path, stop_batch=6, epochs=4)
    with pytest.raises(TrainingInterrupted):
        run.train_file(config, quiet())
    # The file's epoch count and save frequency are run controls, as is --epochs.
    text = recipe(str(tmp_path), stop_batch=6, epochs=9).replace("save_freq: 1", "save_freq: 2")
    (tmp_path / "exp.yaml").write_text(text)
    reports = run.train_file(config, quiet(epochs=3), resume=True)
    assert reports and read_checkpoint(str(tmp_path / "m.ckpt.pkl"))["epochs_done"] == 3


def test_settings_changes_ignore_run_controls_and_class_renames():
    def node(max_epochs, path, cls="pylearn_vae.train.Train"):
        return {
            "class": cls,
            "save_path": path,
            "save_freq": 1,
            "algorithm": {
                "class": "pylearn_vae.training_algorithms.sgd.SGD",
                "termination_criterion": {
                    "class": "pylearn_vae.termination_criteria.EpochCounter",
                    "max_epochs": max_epochs,
                },
                "batch_size": 100,
            },
        }

    assert settings.changes(node(5, "a.pkl"), node(8, "b/a.pkl")) == []
    changed = node(5, "a.pkl")
    changed["algorithm"]["batch_size"] = 20
    changed["algorithm"]["momentum"] = 0.5
    assert settings.changes(node(5, "a.pkl"), changed) == [
        "algorithm.batch_size: 100 -> 20",
        "algorithm.momentum: (not given) -> 0.5",
    ]
    assert settings.changes(node(5, "a"), node(5, "a", "x.Other")) == [
        "the run: Train(...) -> Other(...)"
    ]


def test_epochs_extend_a_finished_run_bit_for_bit(tmp_path):
    reference = tmp_path / "reference"
    run.train_file(write(reference, epochs=4), quiet())
    folder = tmp_path / "run"
    config = write(folder, epochs=4)
    run.train_file(config, quiet(epochs=2))
    assert read_checkpoint(str(folder / "m.ckpt.pkl"))["finished"]
    with pytest.raises(run.RunFinished, match="--resume with more --epochs"):
        run.train_file(config, quiet(epochs=2))
    with pytest.raises(run.RunFinished):
        run.train_file(config, quiet(epochs=2), resume=True)
    run.train_file(config, quiet(), resume=True)  # the file's 4 epochs
    state = read_checkpoint(str(folder / "m.ckpt.pkl"))
    assert state["finished"] and state["epochs_done"] == 4
    for name in ("m.pkl", "m_best.pkl"):
        assert same_params(saved_params(folder / name), saved_params(reference / name)), name
    ours, theirs = serial.load(str(folder / "m.pkl")), serial.load(str(reference / "m.pkl"))
    assert channel_histories(_Holder(ours)) == channel_histories(_Holder(theirs))
    assert (folder / "m.monitor.csv").read_text().count("\n") == 5 + 1  # epochs 0..4, header


class _Holder:
    def __init__(self, model):
        self.model = model


def test_an_unrecorded_checkpoint_resumes_with_a_warning(tmp_path, caplog):
    config = write(tmp_path, stop_batch=6)
    with pytest.raises(TrainingInterrupted):
        run.train_file(config, quiet())
    path = str(tmp_path / "m.ckpt.pkl")
    state = read_checkpoint(path)
    state.update(version=1, settings=None)  # as an earlier pylearn-vae wrote it
    serial.save(path, state)
    run.train_file(config, quiet(), resume=True)
    assert "did not record the run's settings" in caplog.text


@pytest.mark.slow
def test_train_py_exits_2_naming_the_change(tmp_path):
    config = write(tmp_path, epochs=1)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, os.path.join(REPO, "tests")]))
    command = [sys.executable, os.path.join(REPO, "bin", "train.py"), config, "--quiet"]
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    (tmp_path / "exp.yaml").write_text(
        recipe(str(tmp_path), epochs=1).replace("batch_size: 50", "batch_size: 40")
    )
    out = subprocess.run(
        command + ["--resume", "--epochs", "2"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "algorithm.batch_size: 50 -> 40" in lines[0]
