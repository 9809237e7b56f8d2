"""Scripts name themselves as the user called them, and suggest commands that run there."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from pylearn_vae.scripts import _commands

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(REPO, "docs", "tutorial_tiny.yaml")


def test_the_table_is_setup_pys_console_scripts():
    with open(os.path.join(REPO, "setup.py"), encoding="utf-8") as f:
        declared = dict(
            re.findall(r'"(pylearn-vae-[a-z-]+)=pylearn_vae\.scripts\.(\w+):main"', f.read())
        )
    assert declared == dict(_commands.SCRIPTS.values())
    for script in _commands.SCRIPTS:
        assert os.path.isfile(os.path.join(REPO, "bin", script)), script


@pytest.mark.parametrize(
    "argv0,expected",
    [
        ("/venv/bin/pylearn-vae-train", "pylearn-vae-nll"),
        ("pylearn-vae-samples", "pylearn-vae-nll"),
        (os.path.join("bin", "train.py"), "python bin/vae_nll.py"),
        (os.path.join(REPO, "bin", "train.py"), f"python {REPO}/bin/vae_nll.py"),
        (
            os.path.join(REPO, "pylearn_vae", "scripts", "train.py"),
            "python -m pylearn_vae.scripts.nll",
        ),
    ],
)
def test_next_commands_follow_how_the_user_ran_this_one(argv0, expected, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("sys.argv", [argv0])
    assert _commands.command("vae_nll.py") == expected


def test_called_from_python_the_command_is_one_that_runs_here(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", [""])
    monkeypatch.chdir(REPO)
    assert _commands.command("vae_nll.py") == "python bin/vae_nll.py"
    monkeypatch.chdir(tmp_path)  # no bin/ here: the console script, or python -m
    monkeypatch.setenv("PATH", str(tmp_path))
    assert _commands.command("vae_nll.py") == "python -m pylearn_vae.scripts.nll"
    console = tmp_path / "pylearn-vae-nll"
    console.write_text("#!/bin/sh\n")
    console.chmod(0o755)
    assert _commands.command("vae_nll.py") == "pylearn-vae-nll"


def test_a_script_signs_with_the_name_it_was_called_by(monkeypatch):
    monkeypatch.setattr("sys.argv", ["/venv/bin/pylearn-vae-samples"])
    assert _commands.prog("vae_samples.py") == "pylearn-vae-samples"
    assert _commands.prog("vae_nll.py") == "vae_nll.py"
    monkeypatch.setattr("sys.argv", ["bin/vae_samples.py"])
    assert _commands.prog("vae_samples.py") == "vae_samples.py"


def _console_script(folder, name, module):
    """A console script as pip writes one: a file named NAME that calls MODULE's main."""
    path = folder / name
    path.write_text(
        f"import sys\nfrom pylearn_vae.scripts.{module} import main\nsys.exit(main())\n"
    )
    return path


@pytest.mark.slow
def test_console_scripts_name_themselves_and_suggest_console_scripts(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(TINY, run / "tiny.yaml")
    samples = _console_script(tmp_path, "pylearn-vae-samples", "samples")
    done = subprocess.run(
        [sys.executable, str(samples), "missing.pkl", "-o", "s.png"],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("pylearn-vae-samples: error: missing.pkl: no such file")
    train = _console_script(tmp_path, "pylearn-vae-train", "train")
    done = subprocess.run(
        [sys.executable, str(train), "tiny.yaml", "--epochs", "1"],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    next_steps = done.stdout[done.stdout.index("Next:") :]
    assert "\n  pylearn-vae-nll tiny_best.pkl -k 1000\n" in next_steps
    assert "\n  pylearn-vae-plot-monitor tiny.monitor.csv -o curves.png" in next_steps
    assert "bin/" not in next_steps and "python" not in next_steps
    done = subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", "vae_samples.py"), "missing.pkl"],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.stderr.startswith("vae_samples.py: error: missing.pkl")
