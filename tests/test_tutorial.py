"""Every command of docs/tutorial.md runs (on a tiny model, with small settings)."""

import os
import re
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIAL = os.path.join(REPO, "docs", "tutorial.md")
# Small settings: each key must appear in the tutorial (so this list cannot go stale).
SMALL = {"-k 5000": "-k 10"}
BLOCK = re.compile(r"```(bash|python)\n(.*?)```", re.S)


def read_tutorial():
    with open(TUTORIAL, encoding="utf-8") as f:
        return f.read()


def blocks():
    return BLOCK.findall(read_tutorial())


def test_small_settings_are_used_by_the_tutorial():
    text = read_tutorial()
    for key in SMALL:
        assert key in text
    kinds = [kind for kind, _ in blocks()]
    assert kinds.count("bash") >= 6 and kinds.count("python") >= 4


@pytest.mark.slow
def test_tutorial_commands_run(tmp_path):
    for name in ("bin", "docs", "data", "pylearn_vae"):
        os.symlink(os.path.join(REPO, name), tmp_path / name)
    # The full tutorial YAML replaced by the tiny one with the same structure.
    (tmp_path / "yaml_examples").mkdir()
    shutil.copy(
        os.path.join(REPO, "docs", "tutorial_tiny.yaml"),
        tmp_path / "yaml_examples" / "vae_mnist10k.yaml",
    )
    tiny = (tmp_path / "yaml_examples" / "vae_mnist10k.yaml").read_text()
    assert "nhid: 5," in tiny
    (tmp_path / "yaml_examples" / "vae_mnist10k_2d.yaml").write_text(
        tiny.replace("nhid: 5,", "nhid: 2,")
    )
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{tmp_path}", MPLBACKEND="Agg")
    for kind, body in blocks():
        if kind == "python":
            first = body.splitlines()[0]
            if first.startswith("# file: "):
                (tmp_path / first[len("# file: ") :].strip()).write_text(body)
                continue
            command = [sys.executable, "-c", body]
        else:
            for key, value in SMALL.items():
                body = body.replace(key, value)
            command = ["bash", "-euo", "pipefail", "-c", body]
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{body}\n---\n{done.stdout}\n{done.stderr}"
    for picture in ("curves.png", "samples.png", "recon.png", "weights.png", "latent.png"):
        assert (tmp_path / picture).stat().st_size > 0
    for picture in ("manifold.png", "scatter.png", "interp.png", "manifold_200.png"):
        assert (tmp_path / picture).stat().st_size > 0
    assert "window.vaeDemo" in (tmp_path / "demo" / "index.html").read_text(encoding="utf-8")
