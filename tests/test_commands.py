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


SHIM = os.path.join("bin", "train.py")  # every file of bin/ is this one, byte for byte


def test_setup_py_declares_the_registry_as_console_scripts(tmp_path):
    # setup.py reads the registry on a machine without the package's dependencies:
    # run it where neither pylearn_vae nor numpy can be imported, setuptools.setup caught.
    probe = (
        "import runpy, sys\n"
        "sys.modules['numpy'] = sys.modules['pylearn_vae'] = None\n"
        "import setuptools\n"
        "def setup(**kw):\n"
        "    print('\\n'.join(kw['entry_points']['console_scripts']))\n"
        "setuptools.setup = setup\n"
        f"runpy.run_path({os.path.join(REPO, 'setup.py')!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    declared = done.stdout.split()
    expected = [
        f"{_commands.console_script(module)}=pylearn_vae.scripts.{module}:main"
        for module in _commands.SCRIPTS.values()
    ]
    assert declared == expected
    assert _commands.console_script("latent_report") == "pylearn-vae-latent-report"


@pytest.mark.parametrize("script", sorted(_commands.SCRIPTS))
def test_every_registered_script_runs_three_ways(script):
    module = _commands.SCRIPTS[script]
    path = os.path.join(REPO, "pylearn_vae", "scripts", f"{module}.py")
    assert os.path.isfile(path), f"{script} is registered but {path} is missing"
    with open(path, encoding="utf-8") as f:
        source = f.read()
    assert re.search(r"^def main\(argv=None\):", source, re.M), f"give {path} main(argv=None)"
    guard = r'^if __name__ == "__main__":\n(    .*\n|\n)*?    sys\.exit\(main\(\)\)'
    assert re.search(guard, source, re.M), (
        f"python -m pylearn_vae.scripts.{module} runs nothing: end {path} with "
        'if __name__ == "__main__": sys.exit(main())'
    )
    assert os.path.isfile(os.path.join(REPO, "bin", script)), (
        f"{script} is registered but bin/{script} is missing: cp {SHIM} bin/{script}"
    )


def test_bin_holds_the_same_shim_for_each_registered_script_and_nothing_else():
    with open(os.path.join(REPO, SHIM), "rb") as f:
        shim = f.read()
    for name in sorted(os.listdir(os.path.join(REPO, "bin"))):
        path = os.path.join(REPO, "bin", name)
        assert name in _commands.SCRIPTS, (
            f'bin/{name} is not registered: add its line, "{name}": "MODULE", to SCRIPTS '
            f"in pylearn_vae/scripts/_commands.py (or remove bin/{name})"
        )
        with open(path, "rb") as f:
            assert f.read() == shim, f"bin/{name} differs from {SHIM}: cp {SHIM} bin/{name}"
        assert os.access(path, os.X_OK), f"bin/{name} is not executable: chmod +x bin/{name}"


def test_a_file_of_bin_runs_the_module_registered_under_its_name(tmp_path, capsys, monkeypatch):
    from pylearn_vae.scripts import summarize_model

    seen = []
    monkeypatch.setattr(summarize_model, "main", lambda: seen.append("ran") or 7)
    assert _commands.run_file(os.path.join("somewhere", "summarize_model.py")) == 7
    assert seen == ["ran"]
    assert _commands.run_file(str(tmp_path / "vae_new.py")) == 2
    err = capsys.readouterr().err
    assert err == (
        "vae_new.py: error: vae_new.py is not a registered script: add its line, "
        '"vae_new.py": "MODULE", to SCRIPTS in pylearn_vae/scripts/_commands.py\n'
    )


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


def test_a_file_of_bin_without_the_dependencies_says_how_to_install_them(tmp_path):
    # python -S: no site-packages, so the clone's package is found but not its dependencies.
    done = subprocess.run(
        [sys.executable, "-S", os.path.join(REPO, "bin", "vae_nll.py"), "--help"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert re.fullmatch(
        rf"vae_nll\.py: error: No module named '\w+' \(pip install -e {re.escape(REPO)} "
        r"installs the package's dependencies\)\n",
        done.stderr,
    ), done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(_commands.SCRIPTS))
def test_each_file_of_bin_and_each_module_prints_its_help(script, tmp_path):
    module = _commands.SCRIPTS[script]
    env = dict(os.environ, PYTHONPATH=REPO, COLUMNS="200")
    ways = {
        os.path.join(REPO, "bin", script): f"python {REPO}/bin/{script}",
        "-m": f"python -m pylearn_vae.scripts.{module}",
    }
    for way, command in ways.items():
        argv = ["-m", f"pylearn_vae.scripts.{module}"] if way == "-m" else [way]
        done = subprocess.run(
            [sys.executable, *argv, "--help"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"usage: {script} "), done.stdout
        assert f"\nexamples:\n  {command} " in done.stdout, done.stdout
