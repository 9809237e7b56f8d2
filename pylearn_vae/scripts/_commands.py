"""The scripts' registry, and how the user runs them, so that messages name them and
suggest commands that way.

:data:`SCRIPTS` registers every script: its file in ``bin/`` and its module. Every
script can be run three ways: as a file of the repository's ``bin/`` (``python
bin/vae_samples.py``), as the console script ``pip install`` puts on the ``PATH``
(``pylearn-vae-samples``), or as a module (``python -m pylearn_vae.scripts.samples``).
A script's errors are signed with the name the user called it by (:func:`prog`), and
the next commands it prints (``train.py``'s ``Next:``, the resume hint, ``--help``'s
examples) are written the way the user ran this one (:func:`command`): ``pylearn-vae-nll
...`` after ``pylearn-vae-train``, ``python bin/vae_nll.py ...`` after ``python
bin/train.py``, and ``python ../clone/bin/vae_nll.py`` after ``python
../clone/bin/train.py``.
"""

import importlib
import os
import shlex
import shutil
import sys

__all__ = ["SCRIPTS", "command", "console_script", "prog", "run_file", "script_of"]

# The registry of the scripts: the name of each one's file in bin/ -> its module in
# pylearn_vae/scripts/. Its console script is console_script(module). A new script is its
# module plus one line here (docs/contributing.md); setup.py reads this dict (without
# importing the package) for its console scripts, and tests/test_commands.py checks that
# bin/ has the file. Keep it a literal dict of strings: setup.py parses it with ast.
SCRIPTS = {
    "train.py": "train",
    "vae_nll.py": "nll",
    "vae_samples.py": "samples",
    "vae_reconstruct.py": "reconstruct",
    "vae_latent_report.py": "latent_report",
    "print_monitor.py": "print_monitor",
    "plot_monitor.py": "plot_monitor",
    "summarize_model.py": "summarize_model",
    "show_weights.py": "show_weights",
    "vae_manifold.py": "manifold",
    "vae_latent_scatter.py": "latent_scatter",
    "vae_interpolate.py": "interpolate",
    "vae_demo.py": "demo",
    "sweep.py": "sweep",
    "download_binarized_mnist.py": "download_binarized_mnist",
    "download_mnist.py": "download_mnist",
}


def console_script(module):
    """The console script ``pip install`` puts on the ``PATH`` for the script module
    ``module``: ``'pylearn-vae-'`` and the module's name with dashes
    (``'latent_report'`` -> ``'pylearn-vae-latent-report'``); setup.py names them so."""
    return "pylearn-vae-" + module.replace("_", "-")


_ENTRY_POINTS = {console_script(module): script for script, module in SCRIPTS.items()}


def script_of(name):
    """The registered script (its file in ``bin/``) that ``name`` (that file's name or
    its console script's) runs, or None."""
    return name if name in SCRIPTS else _ENTRY_POINTS.get(name)


def run_file(path):
    """Run the script registered under the file name of ``path`` (a file of ``bin/``,
    each of which calls this with its own path); returns its exit status."""
    script = os.path.basename(path)
    if script not in SCRIPTS:
        print(
            f"{script}: error: {script} is not a registered script: add its line, "
            f'"{script}": "MODULE", to SCRIPTS in pylearn_vae/scripts/_commands.py',
            file=sys.stderr,
        )
        return 2
    return importlib.import_module(f"pylearn_vae.scripts.{SCRIPTS[script]}").main()


def _called():
    """The program the user started (``sys.argv[0]``), or ``''`` (embedded Python)."""
    return (sys.argv[0] if sys.argv else "") or ""


def prog(script):
    """The name to sign ``script``'s messages with (``script`` is its file in ``bin/``,
    e.g. ``'vae_samples.py'``): its console-script name when the user ran that
    (``'pylearn-vae-samples'``), otherwise ``script``."""
    entry = console_script(SCRIPTS[script])
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
    module = SCRIPTS[script]
    entry = console_script(module)
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
