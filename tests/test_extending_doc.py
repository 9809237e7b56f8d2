"""Every code block of docs/extending.md runs: the modules and YAML it defines are
written to a temporary folder, its Python snippets and commands run there."""

import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(REPO, "docs", "extending.md")
BLOCK = re.compile(r"```(bash|python|yaml)\n(.*?)```", re.S)


def blocks():
    with open(GUIDE, encoding="utf-8") as f:
        return BLOCK.findall(f.read())


def test_the_guide_has_its_blocks_and_names_every_extension():
    kinds = [kind for kind, _ in blocks()]
    assert kinds.count("python") >= 3 and kinds.count("yaml") == 1 and kinds.count("bash") == 1
    with open(GUIDE, encoding="utf-8") as f:
        text = f.read()
    for name in ("MixtureOfGaussiansPrior", "VampPrior", "ContinuousBernoulli", "LaplaceKL",
                 "kl_warmup_epochs", "free_bits", "binarize='dynamic'",
                 "PYLEARN_VAE_ALLOW_MODULES", "--allow-module"):
        assert name in text, name
    with open(os.path.join(REPO, "docs", "results.md"), encoding="utf-8") as f:
        results = f.read()
    for example in re.findall(r"`(vae_mnist10k\w*\.yaml)`", text + results):
        assert os.path.exists(os.path.join(REPO, "yaml_examples", example)), example


@pytest.mark.slow
def test_every_block_of_the_guide_runs(tmp_path):
    for name in ("bin", "data", "pylearn_vae"):
        os.symlink(os.path.join(REPO, name), tmp_path / name)
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{tmp_path}", MPLBACKEND="Agg")
    outputs = []
    for kind, body in blocks():
        first = body.splitlines()[0]
        if first.startswith("# file: "):
            (tmp_path / first[len("# file: ") :].strip()).write_text(body)
            continue
        assert kind != "yaml", "a YAML block must name its file"
        if kind == "python":
            command = [sys.executable, "-c", body]
        else:
            command = ["bash", "-euo", "pipefail", "-c", body]
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{body}\n---\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    assert "closed-form KL per digit" in outputs[0]
    assert "-ELBO with the Monte Carlo KL" in outputs[1]
    assert "train_kl_weight" in outputs[2] and (tmp_path / "my_extended_vae.pkl").exists()
