"""bin/sweep.py: sweep files, placeholders, the results table, and real sweeps on Dask.

The slow tests run a 4-trial sweep of a tiny VAE (1 epoch on 60 MNIST10k digits), one
trial made to fail, on a LocalCluster of 2 workers and through a `dask scheduler` with
two `dask worker` processes started on 127.0.0.1.
"""

import csv
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from pylearn_vae.scripts import sweep as sweep_script
from pylearn_vae.sweep import results, spec
from pylearn_vae.sweep.trial import write_result

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEEP = os.path.join(REPO, "bin", "sweep.py")

TEMPLATE = """\
!obj:pylearn_vae.train.Train {
    dataset: &train !obj:pylearn_vae.datasets.mnist10k.MNIST10k {which_set: 'train', stop: 60},
    model: !obj:pylearn_vae.models.vae.VAE {
        nvis: 784,
        nhid: ${nhid},
        seed: ${seed},
        prior: !obj:pylearn_vae.models.vae.prior.DiagonalGaussianPrior {},
        conditional: !obj:pylearn_vae.models.vae.conditional.BernoulliVector {
            name: 'conditional',
            mlp: !obj:pylearn_vae.models.mlp.MLP {
                layer_name: 'decoder',
                layers: [!obj:pylearn_vae.models.mlp.RectifiedLinear {
                    layer_name: 'h_d', dim: 8, irange: 0.01}],
            },
        },
        posterior: !obj:pylearn_vae.models.vae.conditional.DiagonalGaussian {
            name: 'posterior',
            mlp: !obj:pylearn_vae.models.mlp.MLP {
                layer_name: 'encoder',
                layers: [!obj:pylearn_vae.models.mlp.RectifiedLinear {
                    layer_name: 'h_e', dim: 8, irange: 0.01}],
            },
        },
    },
    algorithm: !obj:pylearn_vae.training_algorithms.sgd.SGD {
        batch_size: 20,
        learning_rate: %(learning_rate)s,
        monitoring_dataset: {
            'train': *train,
            'valid': !obj:pylearn_vae.datasets.mnist10k.MNIST10k {which_set: 'valid', stop: 40},
            'test': !obj:pylearn_vae.datasets.mnist10k.MNIST10k {which_set: 'test', stop: 40},
        },
        cost: !obj:pylearn_vae.costs.vae.VAECriterion {num_samples: 1},
        termination_criterion: !obj:pylearn_vae.termination_criteria.EpochCounter {
            max_epochs: 1},
    },
    extensions: [
        !obj:pylearn_vae.train_extensions.best_params.MonitorBasedSaveBest {
            channel_name: 'valid_objective',
            save_path: "${PYLEARN2_TRAIN_FILE_FULL_STEM}_best.pkl",
        },
    ],
    save_path: "${PYLEARN2_TRAIN_FILE_FULL_STEM}.pkl",
    save_freq: 1,
}
"""

# Four trials; `bad` gives SGD a string learning rate, so trial-003 fails in train.py.
SWEEP_FILE = """\
template: tiny.yaml
nll: 3
fixed: {nhid: 2}
grid:
  learning_rate: {lr_01: 0.01, lr_003: 0.003, lr_001: 0.001, bad: "'abc'"}
seeds: [1]
"""


def write_sweep(folder, sweep_text=SWEEP_FILE, template=TEMPLATE):
    (folder / "tiny.yaml").write_text(template)
    path = folder / "sweep.yaml"
    path.write_text(sweep_text)
    return path


# -- the sweep file -------------------------------------------------------------------------


def test_grid_random_and_seeds_make_every_combination(tmp_path):
    text = """\
template: tiny.yaml
fixed: {nhid: 2}
grid:
  learning_rate: [0.01, 0.001]
random:
  trials: 3
  seed: 7
  values:
    decay: log-uniform(1e-4, 1e-1)
    width: choice([8, 16])
seeds: [1, 2]
"""
    template = TEMPLATE.replace("dim: 8", "dim: ${width}") + "# decay: ${decay}\n"
    sweep = spec.load_sweep(write_sweep(tmp_path, text, template))
    trials = sweep.trials()
    assert len(trials) == 2 * 3 * 2
    assert [t.name for t in trials[:2]] == ["trial-000", "trial-001"]
    assert sweep.varied == ["learning_rate", "decay", "width", "seed"]
    assert [t.values["seed"] for t in trials[:4]] == [1, 2, 1, 2]  # seeds innermost
    assert {t.values["learning_rate"] for t in trials} == {0.01, 0.001}
    decays = [t.values["decay"] for t in trials]
    assert all(1e-4 <= d <= 1e-1 for d in decays)
    assert len(set(decays)) == 3  # three draws, shared by both grid points
    assert {t.values["width"] for t in trials} <= {8, 16}
    assert [t.values for t in spec.load_sweep(tmp_path / "sweep.yaml").trials()] == [
        t.values for t in trials
    ]  # the random seed fixes the draws
    rendered = dict((t.name, text) for t, text in sweep.check())
    assert "nhid: 2," in rendered["trial-000"] and "seed: 1," in rendered["trial-000"]
    assert "learning_rate: 0.01," in rendered["trial-000"]
    assert "${PYLEARN2_TRAIN_FILE_FULL_STEM}.pkl" in rendered["trial-000"]  # train.py's


def test_render_fills_dollar_and_percent_placeholders():
    values = {"lr": 0.001, "name": "x", "flag": True, "n": 3, "tiny": 1e-05}
    text = "a: ${lr}, b: %(lr).2e, c: '%(name)s', d: ${flag}, e: %(n)d, f: ${tiny}, g: 5%%"
    assert spec.render(text, values) == (
        "a: 0.001, b: 1.00e-03, c: 'x', d: true, e: 3, f: 1e-05, g: 5%"
    )
    assert spec.render("keep ${PYLEARN2_TRAIN_DIR} and 5%%", {}) == (
        "keep ${PYLEARN2_TRAIN_DIR} and 5%%"
    )


def test_undefined_placeholder_is_refused_naming_trial_and_placeholder(tmp_path):
    path = write_sweep(tmp_path, SWEEP_FILE.replace("fixed: {nhid: 2}\n", ""))
    with pytest.raises(spec.SweepError) as info:
        spec.load_sweep(path).check()
    message = str(info.value)
    assert "trial-000" in message and "${nhid}" in message
    assert "tiny.yaml:5" in message and "add it to fixed, grid or random" in message


def test_a_value_that_fills_no_placeholder_is_refused(tmp_path):
    path = write_sweep(tmp_path, SWEEP_FILE.replace("{nhid: 2}", "{nhid: 2, nhdi: 3}"))
    with pytest.raises(spec.SweepError, match="'nhdi' fills no placeholder"):
        spec.load_sweep(path).check()


def test_a_value_that_breaks_the_yaml_is_refused_naming_trial_and_placeholder(tmp_path):
    text = SWEEP_FILE.replace("bad: \"'abc'\"", 'bad: "0.1}, oops: {"')
    with pytest.raises(spec.SweepError) as info:
        spec.load_sweep(write_sweep(tmp_path, text)).check()
    message = str(info.value)
    assert message.startswith("trial-003 (learning_rate=bad, seed=1)")
    assert "%(learning_rate)s = '0.1}, oops: {'" in message and "does not fit" in message
    assert "tiny.yaml:" in message


def test_a_list_value_is_refused(tmp_path):
    with pytest.raises(spec.SweepError, match="'nhid' is a list"):
        spec.load_sweep(write_sweep(tmp_path, SWEEP_FILE.replace("{nhid: 2}", "{nhid: [2]}")))


@pytest.mark.parametrize(
    "draw, message",
    [
        ("log-uniform(0, 1)", "needs 0 < low"),
        ("uniform(2, 1)", "needs low < high"),
        ("choice(3)", "one non-empty list"),
        ("normal(0, 1)", "is not log-uniform"),
    ],
)
def test_bad_random_draws_are_refused(tmp_path, draw, message):
    text = SWEEP_FILE + f"random:\n  trials: 2\n  values:\n    nhid: {draw}\n"
    text = text.replace("fixed: {nhid: 2}\n", "")
    with pytest.raises(spec.SweepError, match=message):
        spec.load_sweep(write_sweep(tmp_path, text))


def test_set_overrides_fixed_grid_and_seeds(tmp_path):
    sweep = spec.load_sweep(write_sweep(tmp_path))
    sweep.override(
        [spec.parse_assignment(a) for a in ("nhid=[2, 3]", "learning_rate=0.5", "seed=[4]")]
    )
    assert sweep.varied == ["nhid", "seed"] and sweep.fixed == {"learning_rate": 0.5}
    assert [t.values["nhid"] for t in sweep.trials()] == [2, 3]
    sweep = spec.load_sweep(write_sweep(tmp_path))
    sweep.override([spec.parse_assignment("learning_rate=[bad, lr_01, 0.5]")])
    assert sweep.grid["learning_rate"] == [("bad", "'abc'"), ("lr_01", 0.01), ("0.5", 0.5)]
    sweep = spec.load_sweep(write_sweep(tmp_path))
    sweep.override([spec.parse_assignment("learning_rate=lr_003")])
    assert sweep.fixed["learning_rate"] == 0.003 and "learning_rate" not in sweep.grid
    with pytest.raises(spec.SweepError, match="defines no 'nhd'"):
        sweep.override([spec.parse_assignment("nhd=3")])
    with pytest.raises(spec.SweepError, match="expected NAME=VALUE"):
        spec.parse_assignment("nhid")


def test_cli_refuses_before_running_and_dry_run_lists_trials(tmp_path, capsys):
    path = write_sweep(tmp_path, SWEEP_FILE.replace("fixed: {nhid: 2}\n", ""))
    assert sweep_script.main([str(path)]) == 2
    assert "${nhid}" in capsys.readouterr().err
    assert not (tmp_path / "sweep").exists()
    path = write_sweep(tmp_path)
    assert sweep_script.main([str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "trial-003: learning_rate=bad, seed=1" in out and "4 trials would run" in out


def test_without_dask_the_command_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails
    assert sweep_script.main([str(write_sweep(tmp_path)), "--out", str(tmp_path / "s")]) == 2
    assert "pip install 'pylearn-vae[sweep]'" in capsys.readouterr().err


# -- the table ------------------------------------------------------------------------------


def fake_sweep_folder(folder):
    """A sweep folder with records written by hand: 2 settings x 2 seeds, one failed."""
    trials = {
        "trial-000": {"lr": "0.1", "seed": "1"},
        "trial-001": {"lr": "0.1", "seed": "2"},
        "trial-002": {"lr": "0.01", "seed": "1"},
        "trial-003": {"lr": "0.01", "seed": "2"},
    }
    manifest = {"name": "fake", "channel": "valid_objective", "nll": 10, "varied": ["lr", "seed"]}
    manifest["trials"] = trials
    folder.mkdir()
    (folder / results.MANIFEST).write_text(json.dumps(manifest))
    nlls = {"trial-000": 90.0, "trial-001": 94.0, "trial-002": 80.0}
    for name in trials:
        (folder / name).mkdir()
        record = {"status": "failed", "error": "boom", "wall_time": 1.0}
        if name in nlls:
            record = {
                "status": "done",
                "epochs": 3,
                "final": {"valid_objective": nlls[name] + 2},
                "best": {"valid_objective": nlls[name] + 1},
                "best_epoch": 2,
                "nll": {"k": 10, "value": nlls[name], "stderr": 0.5},
                "wall_time": 2.0,
            }
        write_result(str(folder / name), record)
    return folder


def test_table_sorts_by_nll_puts_failures_last_and_summarises_seeds(tmp_path, capsys):
    folder = fake_sweep_folder(tmp_path / "fake")
    assert sweep_script.main(["--report", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out == (folder / "results.md").read_text()
    assert "| 0.01 | 1 | 80.00 | 80.00 | 80.00 |" in out  # one seed: no spread shown
    assert "| 0.1 | 2 | 92.00 ± 2.83 | 90.00 | 94.00 |" in out  # sample sd of 90, 94
    assert out.index("| 0.01 | 1 |") < out.index("| 0.1 | 2 |")
    with open(folder / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["trial"] for r in rows] == ["trial-002", "trial-000", "trial-001", "trial-003"]
    assert rows[0]["test NLL"] == "80.0" and rows[0]["lr"] == "0.01"
    assert rows[-1]["status"] == "failed" and rows[-1]["error"] == "boom"
    from PIL import Image

    with Image.open(folder / "results.png") as image:
        assert image.size[0] >= 640 and image.size[1] >= 480  # readable, not 320x300


def test_report_of_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        sweep_script.main(["--report", str(tmp_path)])
    assert info.value.code == 2
    assert "is not a sweep folder (it has no sweep.json)" in capsys.readouterr().err


def test_a_template_class_outside_the_package_needs_allow_module(tmp_path, capsys, monkeypatch):
    from test_train_script import YAML

    monkeypatch.delenv("PYLEARN_VAE_ALLOW_MODULES")
    template = YAML.replace("learning_rate: 1e-2", "learning_rate: ${learning_rate}")
    path = write_sweep(tmp_path, "template: tiny.yaml\ngrid: {learning_rate: [0.1, 0.01]}\n")
    (tmp_path / "tiny.yaml").write_text(template)
    assert sweep_script.main([str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "trial-000" in err and "test_train_helpers" in err and "--allow-module" in err
    args = [str(path), "--dry-run", "--allow-module", "test_train_helpers"]
    assert sweep_script.main(args) == 0
    sweep = spec.load_sweep(path)
    sweep.allow_modules = ("test_train_helpers",)
    assert sweep.load_flags == ["--allow-module=test_train_helpers"]


# -- real sweeps on Dask ---------------------------------------------------------------------


def run_sweep(*args, timeout=240):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run(
        [sys.executable, SWEEP, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def check_sweep_folder(folder):
    """4 trials: 3 done with their files and records, trial-003 failed with its error."""
    for name in ("trial-000", "trial-001", "trial-002"):
        trial = folder / name
        for file in ("trial.yaml", "train.log", "trial.pkl", "trial_best.pkl"):
            assert (trial / file).exists(), (name, file)
        record = json.loads((trial / "result.json").read_text())
        assert record["status"] == "done" and record["epochs"] == 1
        assert record["nll"]["k"] == 3 and record["nll"]["value"] > 0
        assert record["best"]["valid_objective"] == record["final"]["valid_objective"]
        assert record["wall_time"] > 0
    failed = json.loads((folder / "trial-003" / "result.json").read_text())
    assert failed["status"] == "failed"
    assert "learning_rate must be a number, got 'abc'" in failed["error"]
    assert "\n" not in failed["error"]
    with open(folder / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["done", "done", "done", "failed"]
    assert rows[-1]["learning_rate"] == "bad"
    nlls = [float(r["test NLL"]) for r in rows[:3]]
    assert nlls == sorted(nlls)


@pytest.mark.slow
def test_local_cluster_sweep_records_failure_and_skips_finished_trials_on_rerun(tmp_path):
    pytest.importorskip("distributed")
    path = write_sweep(tmp_path)
    out = tmp_path / "out"
    args = [str(path), "--out", str(out), "--workers", "2", "--dashboard", ":0", "--no-progress"]
    first = run_sweep(*args)
    assert first.returncode == 1, first.stderr  # one trial failed
    assert (
        "LocalCluster of 2 single-threaded workers; TLS with temporary credentials; "
        "dashboard http://127.0.0.1:" in first.stdout
    )
    assert "trial-003 failed: training: " in first.stdout
    check_sweep_folder(out)
    assert "seeds done" in (out / "results.md").read_text()
    pickle_time = (out / "trial-000" / "trial.pkl").stat().st_mtime_ns

    second = run_sweep(*args)
    assert second.returncode == 1
    assert "3 done earlier (skipped), 1 to run" in second.stdout
    assert (out / "trial-000" / "trial.pkl").stat().st_mtime_ns == pickle_time
    log = (out / "trial-003" / "train.log").read_text()
    assert log.count("--mode new") == 1 and log.count("--mode restart") == 1
    check_sweep_folder(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dask_command(name):
    """``dask scheduler`` / ``dask worker`` of this Python's distributed."""
    return [sys.executable, "-m", f"distributed.cli.dask_{name}"]


@pytest.mark.slow
def test_sweep_through_a_dask_scheduler_and_two_workers(tmp_path):
    pytest.importorskip("distributed")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=REPO)
    logs = open(tmp_path / "dask.log", "w")
    processes = [
        subprocess.Popen(
            dask_command("scheduler")
            + ["--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=logs,
            stderr=subprocess.STDOUT,
            env=env,
        )
    ]
    try:
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    dask_command("worker")
                    + [address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                    stdout=logs,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            )
        path = write_sweep(tmp_path)
        out = tmp_path / "out"
        result = run_sweep(str(path), "--out", str(out), "--scheduler", address, "--no-progress")
        assert result.returncode == 1, result.stderr
        assert f"Dask: {address}" in result.stdout
        check_sweep_folder(out)
        hosts = {
            json.loads((out / f"trial-00{i}" / "result.json").read_text())["host"]
            for i in range(4)
        }
        assert hosts == {socket.gethostname()}
    finally:
        for process in reversed(processes):
            process.terminate()
        deadline = time.time() + 20
        for process in processes:
            try:
                process.wait(timeout=max(1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        logs.close()


@pytest.mark.parametrize("name", ["vae_mnist10k.yaml", "vae_fashion_mnist.yaml"])
def test_example_sweeps_render_every_trial(name):
    """yaml_examples/sweeps/: every trial of the full sweeps renders and loads."""
    sweep = spec.load_sweep(os.path.join(REPO, "yaml_examples", "sweeps", name))
    rendered = sweep.check()
    assert len(rendered) == {"vae_mnist10k.yaml": 24, "vae_fashion_mnist.yaml": 12}[name]
    assert all("${PYLEARN2_TRAIN_FILE_FULL_STEM}_best.pkl" in text for _, text in rendered)


def test_prepare_skips_done_trials_restarts_failed_and_resumes_interrupted(tmp_path):
    from pylearn_vae.sweep import runner

    sweep = spec.load_sweep(write_sweep(tmp_path))
    rendered = sweep.check()
    out = tmp_path / "out"
    todo = runner.prepare(sweep, str(out), rendered)
    assert [(t.name, mode) for t, _, mode in todo] == [(f"trial-00{i}", "new") for i in range(4)]
    manifest = json.loads((out / results.MANIFEST).read_text())
    assert manifest["varied"] == ["learning_rate", "seed"]
    assert manifest["trials"]["trial-003"] == {"learning_rate": "bad", "seed": "1"}
    for name, status in [("trial-000", "done"), ("trial-001", "failed"), ("trial-002", "running")]:
        write_result(str(out / name), {"status": status})
    todo = runner.prepare(sweep, str(out), rendered)
    assert [(t.name, mode) for t, _, mode in todo] == [
        ("trial-001", "restart"),
        ("trial-002", "resume"),
        ("trial-003", "resume"),  # queued when the sweep stopped
    ]
    record = json.loads((out / "trial-001" / "result.json").read_text())
    assert record["status"] == "queued" and record["values"]["learning_rate"] == 0.003

    sweep.override([("nhid", 3)])
    with pytest.raises(spec.SweepError, match="trial.yaml differs from what"):
        runner.prepare(sweep, str(out), sweep.check())


def trial_processes(folder):
    """Pids of live processes whose command line names ``folder``."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if str(folder).encode() in f.read():
                    pids.append(int(entry))
        except (OSError, ValueError):
            continue
    return pids


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_stops_the_sweep_and_its_trials(tmp_path):
    pytest.importorskip("distributed")
    template = TEMPLATE.replace("max_epochs: 1}", "max_epochs: ${max_epochs}}")
    text = SWEEP_FILE.replace("{nhid: 2}", "{nhid: 2, max_epochs: 100000}").replace(
        ", lr_001: 0.001, bad: \"'abc'\"", ""
    )
    path = write_sweep(tmp_path, text, template)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=REPO)
    command = [sys.executable, SWEEP, str(path), "--out", str(out), "--workers", "2"]
    output = tmp_path / "sweep.log"
    with open(output, "w") as stdout:
        sweep = subprocess.Popen(
            command + ["--dashboard", ":0", "--no-progress"],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        # train.py writes a checkpoint once its first epoch is done
        checkpoints = [out / f"trial-00{i}" / "trial.ckpt.pkl" for i in range(2)]
        deadline = time.time() + 120
        while not all(p.exists() for p in checkpoints):
            assert sweep.poll() is None and time.time() < deadline, output.read_text()
            time.sleep(0.2)
        sweep.terminate()
        assert sweep.wait(timeout=60) == 130, output.read_text()
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait()
    deadline = time.time() + 30
    while trial_processes(out) and time.time() < deadline:
        time.sleep(0.2)
    assert trial_processes(out) == []
    for i in range(2):
        record = json.loads((out / f"trial-00{i}" / "result.json").read_text())
        assert record["status"] == "interrupted"  # the next run resumes it
        assert "SIGTERM" in record["error"] and record["error"].endswith("sweep resumes it")
        assert (out / f"trial-00{i}" / "trial.ckpt.pkl").exists()


def test_trials_restart_and_resume_through_the_library():
    from pylearn_vae.sweep.trial import train_arguments

    assert train_arguments("new") == {"resume": False, "overwrite": False}
    # a failed trial starts again, an interrupted one continues
    assert train_arguments("restart") == {"resume": False, "overwrite": True}
    assert train_arguments("resume") == {"resume": True, "overwrite": False}


def test_a_trial_gets_one_blas_thread_and_not_the_dask_workers_malloc_setting():
    # Dask's nanny exports MALLOC_TRIM_THRESHOLD_=65536 in its workers; inherited by a
    # training process it made every epoch several times slower (sweep/trial.py).
    import pylearn_vae
    from pylearn_vae.sweep.trial import THREAD_VARIABLES, trial_environment

    worker = {"MALLOC_TRIM_THRESHOLD_": "65536", "OMP_NUM_THREADS": "4", "HOME": "/h"}
    env = trial_environment(worker)
    assert "MALLOC_TRIM_THRESHOLD_" not in env
    assert all(env[name] == "1" for name in THREAD_VARIABLES)
    assert env["HOME"] == "/h"
    root = os.path.dirname(os.path.dirname(os.path.abspath(pylearn_vae.__file__)))
    assert env["PYTHONPATH"].split(os.pathsep)[0] == root
    assert worker["MALLOC_TRIM_THRESHOLD_"] == "65536"  # the worker's own is untouched
