"""Stopping train.py (SIGINT, SIGTERM, SIGKILL) and running it again.

* A signal finishes the current batch, writes the checkpoint, prints one line naming
  it and the command that resumes, and exits with 128 + the signal number; the
  resumed run ends exactly where an uninterrupted one does.
* A second signal stops at once, leaving every file whole.
* SIGKILL at any moment, even in the middle of a save, leaves files that all load; the
  next start removes the temporary file of the killed save.
* Running a YAML file whose outputs exist never replaces them silently.
"""

import errno
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from resume_helpers import recipe, same_params, saved_params

from pylearn_vae import run
from pylearn_vae.config import yaml_parse
from pylearn_vae.scripts import train as train_script
from pylearn_vae.utils import serial
from pylearn_vae.utils.checkpoint import read_checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(REPO, "tests")
TRAIN = os.path.join(REPO, "bin", "train.py")


def write_config(folder, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "exp.yaml"
    config.write_text(recipe(str(folder), **kwargs))
    return str(config)


def start(config, *args, **env):
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, TESTS]), **env)
    for name in ("RESUME_TEST_WAIT", "RESUME_TEST_KILL_SAVE"):
        if name not in env:
            environ.pop(name, None)
    return subprocess.Popen(
        [sys.executable, TRAIN, config, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def wait_for(proc, word):
    for line in proc.stdout:
        if line.strip() == word:
            return
    raise AssertionError(f"the run ended without printing {word}: {proc.stderr.read()}")


def temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def assert_same_results(folder, ref_folder):
    for name in ("m.pkl", "m_best.pkl"):
        assert same_params(saved_params(folder / name), saved_params(ref_folder / name)), name


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted 4-epoch run (in this process: the numbers are the same)."""
    folder = tmp_path_factory.mktemp("reference")
    # Module scope: before conftest's per-test allowance of the helper modules.
    yaml_parse.load(recipe(str(folder)), allow_modules=["resume_helpers"]).main_loop()
    return folder


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_checkpoints_prints_one_line_and_the_run_resumes(tmp_path, reference, signame):
    config = write_config(tmp_path, wait_batch=6)
    proc = start(config, RESUME_TEST_WAIT="once")
    wait_for(proc, "READY")
    proc.send_signal(getattr(signal, signame))
    status, _, err = finish(proc)
    assert status == 128 + getattr(signal, signame)
    assert "Traceback" not in err
    assert "Stopping after the current batch" not in err  # only said on a terminal
    checkpoint = tmp_path / "m.ckpt.pkl"
    assert err.strip().splitlines()[-1] == (
        f"train.py: stopped by {signame} at epoch 2, batch 2; checkpoint saved to "
        f"{checkpoint}; resume with: python {TRAIN} {config} --resume"
    )
    state = read_checkpoint(str(checkpoint))
    assert (state["epochs_done"], state["batch"], state["finished"]) == (1, 2, False)

    status, out, err = finish(start(config, "--resume"))
    assert status == 0, err
    assert "Resuming from the checkpoint written at epoch 2, batch 2." in out
    assert_same_results(tmp_path, reference)
    assert read_checkpoint(str(checkpoint))["finished"]


def test_a_second_signal_stops_at_once_and_leaves_files_whole(tmp_path, reference):
    config = write_config(tmp_path, wait_batch=6)
    proc = start(config, RESUME_TEST_WAIT="twice")
    wait_for(proc, "READY")
    proc.send_signal(signal.SIGINT)
    wait_for(proc, "AGAIN")
    proc.send_signal(signal.SIGINT)
    status, _, err = finish(proc)
    assert status == 130
    assert err.strip().splitlines()[-1] == (
        "train.py: stopped at once by a second SIGINT; no new checkpoint written (the last "
        f"one is {tmp_path / 'm.ckpt.pkl'}); resume with: python {TRAIN} {config} --resume"
    )
    assert temporaries(tmp_path) == []
    # The checkpoint of the last save (epoch 1) is whole, and the run resumes from it.
    assert read_checkpoint(str(tmp_path / "m.ckpt.pkl"))["epochs_done"] == 1
    status, _, err = finish(start(config, "--resume"))
    assert status == 0, err
    assert_same_results(tmp_path, reference)


def run_main(*args):
    return train_script.main(list(args))


def file_bytes(folder):
    return {
        name: (folder / name).read_bytes()
        for name in sorted(os.listdir(folder))
        if name.endswith(".pkl")
    }


def test_a_finished_run_is_not_trained_again(tmp_path, capsys):
    config = write_config(tmp_path)
    assert run_main(config) == 0
    before = file_bytes(tmp_path)
    assert sorted(before) == ["m.ckpt.pkl", "m.pkl", "m_best.pkl"]
    capsys.readouterr()
    for args in ([], ["--resume"]):
        assert run_main(config, *args) == 0
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1
        assert out[0].startswith(f"train.py: {config} has finished already (the end of epoch 4)")
        assert "--overwrite" in out[0]
        assert file_bytes(tmp_path) == before


def test_an_unfinished_run_is_refused_without_resume(tmp_path, capsys):
    config = write_config(tmp_path, stop_batch=6)
    assert run_main(config) == 130
    before = file_bytes(tmp_path)
    capsys.readouterr()
    assert run_main(config) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "unfinished run" in err[0] and "epoch 2, batch 2" in err[0]
    assert "--resume" in err[0] and "--overwrite" in err[0]
    assert file_bytes(tmp_path) == before


def test_outputs_without_a_checkpoint_are_never_replaced(tmp_path, capsys):
    """The 4-epoch best model of an earlier run is not replaced by a new epoch-0 one."""
    config = write_config(tmp_path)
    assert run_main(config) == 0
    os.remove(tmp_path / "m.ckpt.pkl")
    best = (tmp_path / "m_best.pkl").read_bytes()
    capsys.readouterr()
    for args in ([], ["--resume"]):
        assert run_main(config, *args) == 2
        err = capsys.readouterr().err.strip()
        assert "exists already" in err and "--overwrite" in err and "--resume" in err
        assert (tmp_path / "m_best.pkl").read_bytes() == best
        assert not (tmp_path / "m.ckpt.pkl").exists()


def test_overwrite_starts_again_and_drops_the_old_checkpoint(tmp_path, reference):
    config = write_config(tmp_path)
    assert run_main(config) == 0
    config = write_config(tmp_path, stop_batch=2)
    assert run_main(config, "--overwrite") == 130
    state = read_checkpoint(str(tmp_path / "m.ckpt.pkl"))
    assert (state["epochs_done"], state["batch"]) == (0, 2)
    assert run_main(config, "--resume") == 0
    assert_same_results(tmp_path, reference)


def test_resume_without_a_checkpoint_is_refused_naming_the_path(tmp_path, capsys, reference):
    config = write_config(tmp_path)
    assert run_main(config, "--resume") == 2
    err = capsys.readouterr().err.strip()
    assert "--resume: nothing to continue" in err and str(tmp_path / "m.ckpt.pkl") in err
    assert len(err.splitlines()) == 1 and not list(tmp_path.glob("m*.pkl"))
    assert run_main(config) == 0  # without --resume it trains
    assert_same_results(tmp_path, reference)


def test_resume_and_overwrite_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        run_main(write_config(tmp_path), "--resume", "--overwrite")
    assert info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_an_unreadable_checkpoint_is_refused(tmp_path, capsys):
    config = write_config(tmp_path)
    (tmp_path / "m.ckpt.pkl").write_bytes(b"\x80\x05broken")
    assert run_main(config, "--resume") == 2
    err = capsys.readouterr().err
    assert "cannot be read" in err and "--overwrite" in err


def test_temporary_files_of_killed_saves_are_removed_at_the_next_start(tmp_path):
    config = write_config(tmp_path, epochs=1)
    stale = [".m.pkl.k3j_x1.tmp", ".m.ckpt.pkl.abc.tmp", ".m_best.pkl.zz.tmp"]
    for name in stale:
        (tmp_path / name).write_bytes(b"half a pickle")
    (tmp_path / ".other.pkl.q.tmp").write_bytes(b"not ours")
    assert serial.remove_stale_temporaries(str(tmp_path / "m.pkl")) == [
        str(tmp_path / ".m.pkl.k3j_x1.tmp")
    ]
    (tmp_path / ".m.pkl.k3j_x1.tmp").write_bytes(b"half a pickle")
    assert run_main(config) == 0
    assert temporaries(tmp_path) == [".other.pkl.q.tmp"]


def check_every_file_loads(folder):
    for name in os.listdir(folder):
        path = str(folder / name)
        if name == "m.ckpt.pkl":
            read_checkpoint(path)
        elif name.endswith(".pkl"):
            assert serial.load(path).get_params()


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_loadable_files_and_the_same_result(tmp_path):
    """Kill a save-every-epoch run during saves and at 20 random moments, resuming it
    each time: every file loads after every kill, the next start removes the killed
    save's temporary file, and the run ends exactly where an uninterrupted one does."""
    epochs = 80
    ref_folder = tmp_path / "reference"
    ref_folder.mkdir()
    yaml_parse.load(recipe(str(ref_folder), epochs=epochs)).main_loop()
    folder = tmp_path / "run"
    config = write_config(folder, epochs=epochs)

    def restart_args():
        # A run killed before its first checkpoint may leave only its best model; one
        # that finished between two kills is trained again from scratch.
        try:
            phase = yaml_parse.load(open_text(config))
            run._check_outputs(config, [phase], True)
        except (train_script.RunRefused, train_script.RunFinished):
            return ["--overwrite"]
        return ["--resume"]

    # In the middle of the model's save, of the checkpoint's, of the best model's.
    for epoch, nth in ((1, 1), (2, 2), (3, 3)):
        kill = f"{epoch},{nth}"
        status, _, err = finish(start(config, *restart_args(), RESUME_TEST_KILL_SAVE=kill))
        assert status == -signal.SIGKILL, err
        assert len(temporaries(folder)) == 1
        check_every_file_loads(folder)
    rng = np.random.default_rng(2024)
    kills = 0
    while kills < 20:
        proc = start(config, *restart_args())
        try:
            proc.wait(timeout=rng.uniform(0.3, 1.6))
        except subprocess.TimeoutExpired:
            proc.kill()
            kills += 1
        status, _, err = finish(proc)
        assert status in (0, -signal.SIGKILL), err
        check_every_file_loads(folder)
    status, _, err = finish(start(config, "--resume"))
    assert status == 0, err
    assert temporaries(folder) == []
    assert read_checkpoint(str(folder / "m.ckpt.pkl"))["finished"]
    assert_same_results(folder, ref_folder)


def open_text(path):
    with open(path) as f:
        return f.read()


@pytest.mark.slow
def test_a_list_of_phases_resumes_at_the_phase_that_was_stopped(tmp_path, reference, capsys):
    first, second = tmp_path / "one", tmp_path / "two"
    for folder in (first, second):
        folder.mkdir()

    # A YAML list of two Train objects (anchors are global: the second has its own).
    items = [recipe(str(first)), recipe(str(second), stop_batch=6)]
    items[1] = items[1].replace("&train", "&train2").replace("*train", "*train2")
    path = tmp_path / "phases.yaml"
    path.write_text("".join("- " + item.strip().replace("\n", "\n  ") + "\n" for item in items))
    config = str(path)
    assert run_main(config) == 130
    assert read_checkpoint(str(first / "m.ckpt.pkl"))["finished"]
    phase_one = file_bytes(first)
    capsys.readouterr()
    assert run_main(config) == 2
    assert "unfinished run" in capsys.readouterr().err
    assert run_main(config, "--resume") == 0
    assert "This run had finished at the end of epoch 4" in capsys.readouterr().out
    assert file_bytes(first) == phase_one  # restored, not trained again
    assert_same_results(first, reference)
    assert_same_results(second, reference)


def test_a_full_disk_while_checkpointing_names_the_checkpoint(tmp_path, monkeypatch):
    real_save = serial._save_atomic

    def no_space(filepath, obj):
        if filepath.endswith(".ckpt.pkl"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(filepath, obj)

    monkeypatch.setattr(serial, "_save_atomic", no_space)
    with pytest.raises(OSError) as info:
        yaml_parse.load(recipe(str(tmp_path))).main_loop()
    assert info.value.errno == errno.ENOSPC
    assert f"Cannot save the checkpoint to {tmp_path / 'm.ckpt.pkl'}" in str(info.value)


def test_a_second_process_on_the_same_run_is_refused_naming_the_first(tmp_path, capsys):
    import fcntl

    config = write_config(tmp_path)
    lock_path = tmp_path / "m.ckpt.pkl.lock"
    with open(lock_path, "w") as held:  # another process training the run holds this
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        assert run_main(config) == 2
        err = capsys.readouterr().err.strip()
        assert "being trained by another process (pid 4242" in err and str(lock_path) in err
        assert len(err.splitlines()) == 1 and not list(tmp_path.glob("m*.pkl"))
    assert run_main(config) == 0  # once it is gone, the run trains, and leaves no lock
    assert not lock_path.exists()
