"""How the user runs the scripts, so that messages name them and suggest commands that way.

Every script can be run three ways: as a file of the repository's ``bin/``
(``python bin/vae_samples.py``), as the console script ``pip install`` puts on the
``PATH`` (``pylearn-vae-samples``), or as a module (``python -m
pylearn_vae.scripts.samples``). A script's errors are signed with the name the user
called it by (:func:`prog`), and the next commands it prints (``train.py``'s ``Next:``,
the resume hint, ``--help``'s examples) are written the way the user ran this one
(:func:`command`): ``pylearn-vae-nll ...`` after ``pylearn-vae-train``, ``python
bin/vae_nll.py ...`` after ``python bin/train.py``, and ``python ../clone/bin/vae_nll.py``
after ``python ../clone/bin/train.py``.
"""

import os
import shlex
import shutil
import sys

__all__ = ["SCRIPTS", "command", "prog"]

# Each script: its file in bin/, its console script (setup.py's entry_points) and module.
SCRIPTS = {
    "train.py": ("pylearn-vae-train", "train"),
    "vae_nll.py": ("pylearn-vae-nll", "nll"),
    "vae_samples.py": ("pylearn-vae-samples", "samples"),
    "vae_reconstruct.py": ("pylearn-vae-reconstruct", "reconstruct"),
    "vae_latent_report.py": ("pylearn-vae-latent-report", "latent_report"),
    "print_monitor.py": ("pylearn-vae-print-monitor", "print_monitor"),
    "plot_monitor.py": ("pylearn-vae-plot-monitor", "plot_monitor"),
    "summarize_model.py": ("pylearn-vae-summarize-model", "summarize_model"),
    "show_weights.py": ("pylearn-vae-show-weights", "show_weights"),
    "vae_manifold.py": ("pylearn-vae-manifold", "manifold"),
    "vae_latent_scatter.py": ("pylearn-vae-latent-scatter", "latent_scatter"),
    "vae_interpolate.py": ("pylearn-vae-interpolate", "interpolate"),
    "vae_demo.py": ("pylearn-vae-demo", "demo"),
    "sweep.py": ("pylearn-vae-sweep", "sweep"),
    "download_binarized_mnist.py": (
        "pylearn-vae-download-binarized-mnist",
        "download_binarized_mnist",
    ),
    "download_mnist.py": ("pylearn-vae-download-mnist", "download_mnist"),
}

_ENTRY_POINTS = {entry for entry, _ in SCRIPTS.values()}


def _called():
    """The program the user started (``sys.argv[0]``), or ``''`` (embedded Python)."""
    return (sys.argv[0] if sys.argv else "") or ""


def prog(script):
    """The name to sign ``script``'s messages with (``script`` is its file in ``bin/``,
    e.g. ``'vae_samples.py'``): its console-script name when the user ran that
    (``'pylearn-vae-samples'``), otherwise ``script``."""
    entry = SCRIPTS[script][0]
    return entry if os.path.basename(_called()) == entry else script


def command(script):
    """The shell command, as a string, that runs ``script`` (``'vae_nll.py'``) from
    where the user is, in the way the user ran this process.

    - after a console script (``pylearn-vae-train``): ``script``'s console script;
    - after ``python -m pylearn_vae.scripts.train``: ``python -m`` and ``script``'s module;
    - after a file of ``bin/``: ``python`` and the neighbouring file, by the path the user
      typed (``python bin/vae_nll.py``);
    - otherwise (called from Python: a notebook, a test): ``python bin/SCRIPT`` when there
      is such a file in the current folder, else the console script when it is on the
      ``PATH``, else ``python -m pylearn_vae.scripts.MODULE``.
    """
    entry, module = SCRIPTS[script]
    called = _called()
    name = os.path.basename(called)
    if name in _ENTRY_POINTS:
        return entry
    here = os.path.dirname(os.path.abspath(__file__))
    if called and os.path.dirname(os.path.abspath(called)) == here:  # python -m ...
        return f"python -m pylearn_vae.scripts.{module}"
    neighbour = os.path.join(os.path.dirname(called), script)
    if name in SCRIPTS and os.path.isfile(neighbour):
        return shlex.join(["python", neighbour])
    if os.path.isfile(os.path.join("bin", script)):
        return f"python bin/{script}"
    if shutil.which(entry):
        return entry
    return f"python -m pylearn_vae.scripts.{module}"
