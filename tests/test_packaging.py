"""A non-editable ``pip install .`` carries the embedded digits as package data, and its
console scripts are the registered scripts."""

import os
import shutil
import subprocess
import sys
import venv
import zipfile

import pytest

from pylearn_vae.scripts import _commands

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SKIP = {".git", "build", "dist", "out", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _copy_source(target):
    """The source tree without build outputs or trained models."""

    def ignore(directory, names):
        return [
            name
            for name in names
            if name in _SKIP or name.endswith((".pkl", ".bak", ".egg-info", ".png"))
        ]

    shutil.copytree(REPO, target, ignore=ignore)


def _outer_site_packages():
    """The folders this test run imports installed packages from (numpy, autograd, ...)."""
    return [p for p in sys.path if p and os.path.basename(p) == "site-packages"]


@pytest.mark.slow
def test_non_editable_install_finds_the_embedded_data(tmp_path):
    source = tmp_path / "source"
    _copy_source(source)
    environ = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYLEARN_VAE_MNIST10K")
    }
    # The wheel is built by this test run's own Python and its setuptools and wheel (the
    # [test] extra installs them), never the base Python's: no build isolation (no
    # download), no index.
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(dist),
            str(source),
        ],
        check=True,
        env=environ,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("pylearn_vae-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        declared = archive.read(name).decode().split("\n")
    for module in _commands.SCRIPTS.values():
        entry = f"{_commands.console_script(module)} = pylearn_vae.scripts.{module}:main"
        assert entry in declared, (entry, declared)
    # A venv of its own, without the base Python's packages; it sees this run's packages
    # (numpy, autograd, ...) through a .pth file, after its own site-packages, so the
    # installed pylearn_vae is the one it imports (a .pth line adds a folder, not the
    # editable-install hooks inside it).
    env_dir = tmp_path / "env"
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    python = str(env_dir / "bin" / "python")
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        env=environ,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with open(os.path.join(site_packages, "outer_packages.pth"), "w") as f:
        f.write("".join(folder + "\n" for folder in _outer_site_packages()))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        env=environ,
        cwd=tmp_path,
    )
    shutil.rmtree(source)  # nothing may be read from the source tree any more
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import pylearn_vae\n"
        "from pylearn_vae.datasets.mnist10k import MNIST10k\n"
        "d = MNIST10k('train')\n"
        "print(pylearn_vae.__file__)\n"
        "print(d.path)\n"
        "print(d.X.shape)\n"
    )
    out = subprocess.run(
        [python, "-c", script],
        check=True,
        env=environ,
        cwd=elsewhere,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert out[0].startswith(str(env_dir)), out
    assert out[1].startswith(str(env_dir)) and out[1].endswith("pylearn_vae/data/mnist10k.npz")
    assert out[2] == "(8000, 784)"
    done = subprocess.run(
        [str(env_dir / "bin" / "pylearn-vae-nll"), "--help"],
        check=True,
        env=dict(environ, COLUMNS="200"),
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert done.stdout.startswith("usage: pylearn-vae-nll ")
    assert "\nexamples:\n  pylearn-vae-nll yaml_examples/" in done.stdout
