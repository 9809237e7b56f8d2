"""One trial: train its rendered YAML in a fresh process, then record what it gave.

:func:`run_trial` is the task a Dask worker runs. It starts
``python -m pylearn_vae.sweep.trial FOLDER ...`` with the BLAS thread counts pinned to 1
(set in the environment before NumPy loads), its output going to ``FOLDER/train.log``,
and returns the trial's record, which that process wrote to ``FOLDER/result.json``.
The process trains ``FOLDER/trial.yaml`` with :func:`pylearn_vae.run.train_file` (as
``train.py`` does; the saves land in FOLDER),
then reads the channels of the saved model and, when asked, the importance-sampled NLL
of its best save on the template's ``test`` monitoring dataset.

``result.json`` holds ``status`` (``queued``, ``running``, ``done``, ``failed``,
``interrupted``), ``error`` (one line), the trial's ``values`` and their ``labels``,
``epochs``, ``final`` (every channel's last value), ``best`` (every channel's value at
the epoch where ``channel`` was lowest, ``best_epoch``), ``nll``, ``train_time`` and
``wall_time`` (seconds) and ``host``.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

from pylearn_vae.utils import serial

__all__ = [
    "CONFIG",
    "LOG",
    "RESULT",
    "THREAD_VARIABLES",
    "WORKER_ONLY_VARIABLES",
    "evaluate",
    "read_result",
    "run_trial",
    "trial_environment",
    "write_result",
]

CONFIG, LOG, RESULT = "trial.yaml", "train.log", "result.json"
#: Set to 1 in a trial's environment: one BLAS/OpenMP thread per single-threaded worker.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
#: Set by Dask's nanny in its workers (``distributed.nanny.pre-spawn-environ``) and not
#: passed on to a trial: ``MALLOC_TRIM_THRESHOLD_=65536`` makes glibc hand freed memory
#: back to the system at once, so every batch's arrays are mapped anew, and an epoch of
#: the main job took 2.6 s instead of 0.57 s (4.5 times as long, most of it in the kernel).
WORKER_ONLY_VARIABLES = ("MALLOC_TRIM_THRESHOLD_",)


def read_result(folder):
    """The trial's ``result.json`` as a dict, or None when there is none (or it is torn)."""
    try:
        with open(os.path.join(folder, RESULT), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_result(folder, result):
    """Write ``result.json`` atomically (a reader never sees half a file)."""
    path = os.path.join(folder, RESULT)
    temporary = f"{path}.{os.getpid()}.tmp"
    serial.check_output_path(path)
    with serial.open_output(temporary, encoding="utf-8") as f:
        json.dump(result, f, indent=1, sort_keys=True, allow_nan=True)
        f.write("\n")
    os.replace(temporary, path)


def run_trial(folder, mode, channel, nll=None, load_flags=()):
    """Train the trial in ``folder`` in a subprocess; its record (also in ``result.json``).

    Parameters
    ----------
    folder : str
        Absolute path of ``SWEEP_DIR/trial-NNN`` holding ``trial.yaml``.
    mode : {'new', 'restart', 'resume'}
        ``restart`` (a failed trial) trains again from scratch (``overwrite``);
        ``resume`` (an interrupted one) continues from its checkpoint (``resume``).
    channel : str
        Its lowest value picks the best epoch.
    nll : int, optional
        Importance samples for the test NLL.
    load_flags : sequence of str
        ``--allow-module MODULE`` and ``--trust``, for loading the YAML file and the
        saves (see ``docs/security.md``).
    """
    started = time.time()
    result = read_result(folder) or {}
    result.update(status="running", error=None, host=socket.gethostname(), started=started)
    write_result(folder, result)
    env = trial_environment(os.environ)
    command = [sys.executable, "-m", "pylearn_vae.sweep.trial", folder, "--mode", mode]
    command += ["--channel", channel] + ([] if nll is None else ["--nll", str(nll)])
    command += list(load_flags)
    with serial.open_output(os.path.join(folder, LOG), "a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        status = subprocess.call(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=folder,
            # Out of the terminal's process group: Ctrl-C reaches the sweep, which stops
            # its workers; the trial then gets one SIGTERM (_die_with_parent) and stops at a
            # batch boundary with a checkpoint.
            start_new_session=True,
        )
    result = read_result(folder) or {}
    if result.get("status") == "running":  # the process died before it could say why
        result.update(
            status="failed",
            error=f"the trial's process ended with status {status} "
            f"(killed?); see {os.path.join(folder, LOG)}",
        )
    result["wall_time"] = time.time() - started
    write_result(folder, result)
    return result


def trial_environment(environ):
    """The environment of a trial's process, from the worker's ``environ`` (a mapping).

    The BLAS thread counts are pinned to 1 (:data:`THREAD_VARIABLES`), this package is put
    first on ``PYTHONPATH``, matplotlib draws without a display, and the variables in
    :data:`WORKER_ONLY_VARIABLES` are left out.
    """
    import pylearn_vae

    root = os.path.dirname(os.path.dirname(os.path.abspath(pylearn_vae.__file__)))
    paths = [root] + [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = {k: v for k, v in environ.items() if k not in WORKER_ONLY_VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update({name: "1" for name in THREAD_VARIABLES})
    env.setdefault("MPLBACKEND", "Agg")
    return env


def train_arguments(mode):
    """The ``resume`` and ``overwrite`` of :func:`pylearn_vae.run.train_file` for ``mode``."""
    return {"resume": mode == "resume", "overwrite": mode == "restart"}


def _train(config, mode, allow_modules, trusted):
    """Train ``config`` in this process; ``(status, one-line error or None)``.

    ``status`` is ``'done'`` (trained, or finished earlier), ``'interrupted'`` (a signal
    stopped it; its checkpoint is written) or ``'failed'``. A resume that is refused (no
    checkpoint to continue from) trains again from scratch.
    """
    from pylearn_vae.run import RunFinished, RunRefused, describe_error, train_file
    from pylearn_vae.train import TrainingInterrupted
    from pylearn_vae.utils.logger import configure_run_logging

    configure_run_logging()
    load = {"allow_modules": allow_modules, "trusted": trusted}
    print(f"training {config} ({mode})", flush=True)
    try:
        try:
            runs = train_file(config, **train_arguments(mode), **load)
        except RunRefused as exc:
            if mode != "resume":
                raise
            print(f"resuming was refused ({exc}): training again from scratch", flush=True)
            runs = train_file(config, overwrite=True, **load)
    except RunFinished as exc:
        print(exc, flush=True)
        return "done", None
    except TrainingInterrupted as exc:
        return "interrupted", str(exc)
    except KeyboardInterrupt:
        return "interrupted", "interrupted"
    except Exception as exc:  # recorded on the trial's line, with the log for details
        error = f"training: {type(exc).__name__}: {describe_error(exc, config)}"
        print(error, file=sys.stderr, flush=True)
        return "failed", error
    for run in runs:
        print("\n".join(run["reached"]), flush=True)
    return "done", None


def evaluate(config, channel, nll=None, allow_modules=None, trusted=False):
    """Channel values of the trained model of ``config`` and, with ``nll``, its test NLL.

    Call after ``config`` was trained in this process (its ``${PYLEARN2_...}``
    variables are set). Returns the fields ``epochs``, ``final``, ``best``,
    ``best_epoch`` and ``nll`` of ``result.json``. ``allow_modules`` and ``trusted``
    are passed to the YAML and pickle loaders (see ``docs/security.md``).
    """
    from pylearn_vae.config import yaml_parse
    from pylearn_vae.train_extensions.best_params import MonitorBasedSaveBest
    from pylearn_vae.utils import serial
    from pylearn_vae.utils.string_utils import preprocess

    options = {"allow_modules": allow_modules, "trusted": trusted}
    graph = yaml_parse.load_path(config, instantiate=False, **options)
    phase = graph[-1] if isinstance(graph, list) else graph
    keywords = getattr(phase, "keywords", None) or {}
    if "save_path" not in keywords:
        raise ValueError(
            f"{config}: the training saves no model (no save_path), so its channels "
            "cannot be read: give the template's Train a save_path"
        )
    save_path = preprocess(keywords["save_path"])
    model = serial.load(save_path, **options)
    channels = model.monitor.channels
    if channel not in channels:
        raise ValueError(
            f"the sweep's channel {channel!r} is not monitored (channels: "
            f"{', '.join(sorted(channels))}): set 'channel' in the sweep file"
        )
    record = channels[channel].val_record
    best = channels[channel].lowest_index()
    if best is None:
        best = len(record) - 1
    result = {
        "epochs": int(model.monitor.get_epochs_seen()),
        "final": {name: float(c.val_record[-1]) for name, c in channels.items() if c.val_record},
        "best": {
            name: float(c.val_record[best])
            for name, c in channels.items()
            if len(c.val_record) == len(record)
        },
        "best_epoch": int(channels[channel].epoch_record[best]),
        "nll": None,
    }
    if nll is not None:
        best_path = None
        for extension in keywords.get("extensions") or []:
            callable_ = getattr(extension, "callable", None)
            if isinstance(callable_, type) and issubclass(callable_, MonitorBasedSaveBest):
                best_path = preprocess(extension.keywords["save_path"])
        if best_path is None or not os.path.exists(best_path):
            best_path = save_path
        result["nll"] = _test_nll(serial.load(best_path, **options), keywords, nll, config)
        result["nll"]["model"] = os.path.basename(best_path)
    return result


def _test_nll(model, keywords, k, config):
    from pylearn_vae.config import yaml_parse
    from pylearn_vae.evaluation.nll import importance_sampled_nll

    algorithm = getattr(keywords.get("algorithm"), "keywords", {})
    datasets = algorithm.get("monitoring_dataset")
    if not isinstance(datasets, dict) or "test" not in datasets:
        raise ValueError(
            f"{config}: --nll needs the test set, read from the algorithm's "
            "monitoring_dataset entry 'test', which the template does not have"
        )
    dataset = yaml_parse.instantiate(datasets["test"])
    got = importance_sampled_nll(model, dataset.get_design_matrix(), k, seed=1234)
    return {"k": k, "value": got.nll, "stderr": got.nll_stderr, "examples": got.num_examples}


def _die_with_parent():
    """On Linux, get SIGTERM when the worker that started this process dies (a stopped
    sweep or cluster then leaves no training behind; with checkpoints it can resume)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


def _one_line(exc):
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def main(argv=None):
    """The trial's process: train, evaluate, write ``result.json``; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m pylearn_vae.sweep.trial")
    parser.add_argument("folder")
    parser.add_argument("--mode", choices=("new", "restart", "resume"), default="new")
    parser.add_argument("--channel", default="valid_objective")
    parser.add_argument("--nll", type=int)
    parser.add_argument("--allow-module", action="append", default=[], dest="allow_modules")
    parser.add_argument("--trust", action="store_true")
    args = parser.parse_args(argv)
    _die_with_parent()
    folder = os.path.abspath(args.folder)
    config = os.path.join(folder, CONFIG)
    started = time.time()
    status, error = _train(config, args.mode, args.allow_modules, args.trust)
    result = read_result(folder) or {}
    result["train_time"] = time.time() - started
    if status == "interrupted":
        # Running the sweep again is what resumes a trial.
        result.update(status=status, error=f"{error}; the next run of the sweep resumes it")
    elif status == "failed":
        result.update(status=status, error=error)
    else:
        try:
            got = evaluate(config, args.channel, args.nll, args.allow_modules, args.trust)
            result.update(got, status="done", error=None)
        except Exception as exc:  # recorded on the trial's line, with the log for details
            print(f"evaluating the trial failed: {_one_line(exc)}", file=sys.stderr)
            result.update(status="failed", error=f"after training: {_one_line(exc)}")
    write_result(folder, result)
    return 0 if result["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
