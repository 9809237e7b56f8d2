"""Train a model described by a YAML file (``pylearn2/scripts/train.py``).

Usage::

    train.py [-L] [-T] [-t SECONDS] [-V] [-D] [--allow-module MODULE] [--trust]
             [--resume | --overwrite] config.yaml

Before the file is parsed, ``${PYLEARN2_TRAIN_FILE_FULL_STEM}`` (``foo/bar`` for
``foo/bar.yaml``), ``${PYLEARN2_TRAIN_DIR}`` (``foo/``), ``${PYLEARN2_TRAIN_BASE_NAME}``
(``bar.yaml``) and ``${PYLEARN2_TRAIN_FILE_STEM}`` (``bar``) are set, so the file can
name its outputs after itself. A file whose top object is a list trains each entry in
turn as a phase, with ``PYLEARN2_TRAIN_PHASE`` set to ``phase1``, ``phase2``, ...

Logging: INFO from ``pylearn_vae`` loggers prints the bare message (after a timestamp
with ``-T``), anything else ``LEVEL (logger): message``; DEBUG and INFO go to stdout,
WARNING and above to stderr. ``-V`` prints time, logger and level on every line, ``-D``
shows DEBUG messages. ``-L`` is accepted for Pylearn2 compatibility and does nothing.

A configuration error (bad YAML, a bad argument value) prints one line naming the file
(and line, when known) and exits with status 2; an error while training (a non-finite
cost or monitoring value, a failing save) prints one line and exits with status 1.
``-D`` or ``PYLEARN_VAE_DEBUG=1`` shows the traceback instead.

Stopping, resuming, re-running (see :mod:`pylearn_vae.train`): a run keeps a checkpoint
beside its save path (``exp.pkl`` -> ``exp.ckpt.pkl``). Ctrl-C or SIGTERM stops it at
the next batch boundary, writes the checkpoint, prints one line with the command that
resumes it, and exits with status 130 or 143 (a second signal stops at once).
``--resume`` continues from the checkpoint; the result is the same as an uninterrupted
run's. A run whose output files exist is not started again: a finished one says so and
exits 0, an unfinished one (or files without a checkpoint) is refused with status 2,
naming ``--resume`` and ``--overwrite``; ``--overwrite`` starts again from scratch.
"""

import functools
import gc
import logging
import os
import shlex
import sys
import time

from pylearn_vae.config.yaml_parse import load_train_file
from pylearn_vae.scripts import _commands

__all__ = ["load_train_file", "main", "make_argument_parser", "train"]

EXIT_REFUSED = 2

_OWN_LOGGERS = "pylearn_vae"


class _Formatter(logging.Formatter):
    """Bare INFO messages from our loggers, ``LEVEL (logger): msg`` for the rest."""

    def __init__(self, prefix=""):
        super().__init__()
        self._bare = logging.Formatter(prefix + "%(message)s")
        self._full = logging.Formatter(prefix + "%(levelname)s (%(name)s): %(message)s")

    def format(self, record):
        ours = record.name == _OWN_LOGGERS or record.name.startswith(_OWN_LOGGERS + ".")
        if ours and record.levelno == logging.INFO:
            return self._bare.format(record)
        return self._full.format(record)


class _StreamHandler(logging.Handler):
    """DEBUG/INFO to ``sys.stdout``, WARNING and above to ``sys.stderr`` (read at emit)."""

    def emit(self, record):
        try:
            stream = sys.stdout if record.levelno < logging.WARNING else sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def _configure_logging(timestamp, verbose_logging, debug, output="lines"):
    from pylearn_vae.scripts._run_options import OutputFilter

    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _StreamHandler):
            root.removeHandler(handler)
    handler = _StreamHandler()
    handler.addFilter(OutputFilter(output))
    if verbose_logging:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    else:
        handler.setFormatter(_Formatter("%(asctime)s " if timestamp else ""))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)


class RunRefused(Exception):
    """Starting the run would replace the results of an earlier one."""


class RunFinished(Exception):
    """The run finished earlier: there is nothing to do."""


def train(
    config,
    level_name=None,
    timestamp=None,
    time_budget=None,
    verbose_logging=None,
    debug=None,
    allow_modules=None,
    trusted=False,
    resume=False,
    overwrite=False,
    run_args=None,
):
    """Load ``config`` and run its ``main_loop`` (each phase's, for a list).

    Parameters
    ----------
    config : str
        Path of the YAML file.
    level_name : bool, optional
        Unused (as in Pylearn2).
    timestamp : bool, optional
        Prefix messages with the time.
    time_budget : float, optional
        Seconds; training stops at the end of the epoch that exceeds it.
    verbose_logging : bool, optional
    debug : bool, optional
        Show DEBUG messages.
    allow_modules : list of str, optional
        Modules the file may build from besides ``pylearn_vae`` (``--allow-module``).
    trusted : bool
        Build whatever the file names (``--trust``).
    resume : bool
        Continue from the checkpoints (phases whose run finished are restored, not
        trained again); start from scratch where there is no checkpoint nor output.
    overwrite : bool
        Start from scratch even if output files exist (their checkpoints are deleted).
    run_args : argparse.Namespace, optional
        The run controls and output options of :func:`make_argument_parser` (``--epochs``,
        ``--seed``, ``--quiet``, ...); default: none given.

    Raises
    ------
    RunRefused
        Output files exist and neither ``resume`` nor ``overwrite`` was given, or
        ``resume`` was given but the outputs have no checkpoint.
    RunFinished
        Without ``overwrite``: every phase had finished already.
    pylearn_vae.train.TrainingInterrupted
        A signal stopped the run (its checkpoint is written).
    """
    from pylearn_vae.scripts._run_options import output_mode, use_backend

    run_args = make_argument_parser().parse_args([config]) if run_args is None else run_args
    with use_backend(run_args):
        train_obj = _load(config, allow_modules, trusted, run_args.seed)
        _configure_logging(timestamp, verbose_logging, debug, output_mode(run_args))
        _run(train_obj, time_budget, config, resume, overwrite, run_args)


def _load(config, allow_modules=None, trusted=False, seed=None):
    """The file's objects, with ``seed`` (``--seed``) given to them when not None."""
    from pylearn_vae.scripts import _run_options

    if os.environ.get("DISPLAY") is None:
        os.environ.setdefault("MPLBACKEND", "Agg")
    _run_options.check_config_path(config)
    load = functools.partial(load_train_file, allow_modules=allow_modules, trusted=trusted)
    return _run_options.load_with_seed(load, config, seed)


def _run(train_obj, time_budget, config=None, resume=False, overwrite=False, run_args=None):
    """Train each phase with the run options (default: none given), then print the
    summary; see :func:`train` for ``resume`` and ``overwrite``."""
    from pylearn_vae.scripts import _run_options

    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")
    run_args = make_argument_parser().parse_args(["-"]) if run_args is None else run_args
    start = time.perf_counter()
    is_list = isinstance(train_obj, (list, tuple))
    phases = list(train_obj) if is_list else [train_obj]
    del train_obj
    # --out-dir moves the outputs (and checkpoints) before they are looked for.
    reports = [
        _run_options.apply_run_options(phase, run_args, f"phase{n + 1}" if is_list else None)
        for n, phase in enumerate(phases)
    ]
    runs = []
    _check_output_kinds(phases)
    if overwrite:
        for phase in phases:
            _remove_checkpoint(phase)
    else:
        _check_outputs(config, phases, resume)
    for number in range(len(phases)):
        if is_list:
            os.environ["PYLEARN2_TRAIN_PHASE"] = f"phase{number + 1}"
        phase = phases[number]
        if resume and _checkpoint_state(phase) is not None:
            phase.load_checkpoint()
        phase.main_loop(time_budget=time_budget)
        runs.append(_run_options.describe_run(phase, reports[number]))
        phases[number] = phase = None  # free this phase before the next one starts
        gc.collect()
    if _run_options.output_mode(run_args) != "quiet":
        print("\n".join(_run_options.summary_lines(runs, time.perf_counter() - start)))


def _check_output_kinds(phases):
    """Refuse, before anything is written or removed, an output path where a symbolic
    link, a device, a FIFO or a folder is (``--overwrite`` included)."""
    from pylearn_vae.utils.serial import NotARegularFileError, check_output_path

    for phase in phases:
        paths = phase.output_paths() if hasattr(phase, "output_paths") else []
        paths += [getattr(phase, "checkpoint_path", None)]
        extensions = list(getattr(phase, "extensions", ()))
        extensions += [e for ext in extensions for e in getattr(ext, "extensions", ())]
        paths += [getattr(ext, "path", None) for ext in extensions]
        for path in [p for p in paths if isinstance(p, str)]:
            try:
                check_output_path(path)
            except NotARegularFileError as exc:
                raise RunRefused(str(exc)) from None


def _checkpoint_state(phase):
    """The phase's checkpoint, or None if it has none (a broken one is refused)."""
    from pylearn_vae.utils.checkpoint import read_checkpoint

    path = getattr(phase, "checkpoint_path", None)
    if path is None or not os.path.exists(path):
        return None
    try:
        return read_checkpoint(path)
    except (OSError, ValueError) as exc:
        raise RunRefused(
            f"the checkpoint {path} cannot be read ({_one_line(exc)}): use --overwrite to "
            "start again from scratch"
        ) from exc


def _existing_outputs(phase):
    """The phase's output files that exist (a top object that is not a Train has none)."""
    paths = phase.output_paths() if hasattr(phase, "output_paths") else []
    return [path for path in paths if os.path.exists(path)]


def _check_outputs(config, phases, resume):
    """Refuse (or report a finished run) when earlier results would be replaced."""
    states = [_checkpoint_state(phase) for phase in phases]
    if all(state is not None and state["finished"] for state in states):
        outputs = ", ".join(path for phase in phases for path in _existing_outputs(phase))
        raise RunFinished(
            f"{config} has finished already ({_describe_state(states[-1])}); its outputs: "
            f"{outputs}. Use --overwrite to train it again."
        )
    for phase, state in zip(phases, states, strict=True):
        if state is None:
            existing = _existing_outputs(phase)
            if existing:
                path = getattr(phase, "checkpoint_path", None)
                missing = f"needs {path}, which is missing" if path else "has no checkpoint"
                raise RunRefused(
                    f"{existing[0]} exists already and would be replaced: use --overwrite to "
                    f"train again from scratch (--resume {missing})"
                )
        elif not state["finished"] and not resume:
            raise RunRefused(
                f"an unfinished run of {config} stopped at {_describe_state(state)} "
                f"({phase.checkpoint_path}): use --resume to continue it, or --overwrite "
                "to start again from scratch"
            )


def _describe_state(state):
    from pylearn_vae.train import describe_position

    return describe_position(state["epochs_done"], state["batch"])


def _remove_checkpoint(phase):
    path = getattr(phase, "checkpoint_path", None)
    if path is not None and os.path.exists(path):
        os.remove(path)


def make_argument_parser():
    from pylearn_vae.scripts._cli import OneLineErrors, add_load_options, positive_int

    parser = OneLineErrors(
        prog=_commands.prog("train.py"),
        description="Launch an experiment from a YAML configuration file.",
        epilog="Stopping: Ctrl-C or SIGTERM finishes the current batch, writes the run's "
        "checkpoint (<save_path stem>.ckpt.pkl) and prints the command that resumes it "
        "(exit status 130 or 143); a second Ctrl-C stops at once, leaving every file "
        "whole. Running again: a finished run only says so (exit status 0); a run whose "
        "output files exist is refused (exit status 2) unless --resume or --overwrite is "
        "given.",
    )
    parser.add_argument(
        "--level-name",
        "-L",
        action="store_true",
        help="accepted for compatibility with Pylearn2; has no effect",
    )
    parser.add_argument(
        "--timestamp", "-T", action="store_true", help="display a timestamp on each message"
    )
    parser.add_argument(
        "--time-budget",
        "-t",
        type=positive_int,
        help="stop training at the end of the epoch during which this many seconds passed",
    )
    parser.add_argument(
        "--verbose-logging",
        "-V",
        action="store_true",
        help="display timestamp, logger and level of every message",
    )
    parser.add_argument(
        "--debug",
        "-D",
        action="store_true",
        help="display DEBUG messages, and tracebacks on errors",
    )
    again = parser.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run from its checkpoint (<save_path stem>.ckpt.pkl, "
        "written at every save and on Ctrl-C/SIGTERM); the result is the same as an "
        "uninterrupted run's",
    )
    again.add_argument(
        "--overwrite",
        action="store_true",
        help="train from scratch even though the run's output files exist (without "
        "--resume or --overwrite, existing outputs are never replaced)",
    )
    add_load_options(parser)
    from pylearn_vae.scripts._run_options import add_run_arguments

    add_run_arguments(parser)
    parser.add_argument("config", help="a YAML configuration file specifying the training")
    return parser


def _describe(exc, config):
    """One line: ``file:line:column: problem`` for YAML errors, else the message."""
    seen, cause = set(), exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        mark = getattr(cause, "problem_mark", None) or getattr(cause, "context_mark", None)
        if mark is not None and getattr(mark, "line", None) is not None:
            name = getattr(mark, "name", None)
            name = config if not name or name.startswith("<") else name
            where = f"{name}:{mark.line + 1}:{mark.column + 1}"
            parts = [getattr(cause, "context", None), getattr(cause, "problem", None)]
            problem = ": ".join(p for p in parts if p)
            if cause is exc or not problem:
                return f"{where}: {problem or type(cause).__name__}"
            return f"{where}: {_one_line(exc)}"
        cause = cause.__cause__ or cause.__context__
    message = _one_line(exc)
    return message if config in message else f"{config}: {message}"


def _one_line(exc):
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) or "(no message)"


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    from pylearn_vae.scripts import _cli
    from pylearn_vae.scripts._cli import RUNTIME_ERROR, USAGE_ERROR, debugging
    from pylearn_vae.scripts._run_options import output_mode, use_backend
    from pylearn_vae.train import TrainingInterrupted

    argv = sys.argv[1:] if argv is None else list(argv)
    prog = _commands.prog("train.py")
    args = make_argument_parser().parse_args(argv)
    _cli.keep_freed_memory()  # this process's big arrays reuse freed memory
    # Loading builds every object, so every argument is checked before training starts.
    status = USAGE_ERROR
    try:
        with use_backend(args):
            train_obj = _load(args.config, args.allow_modules, args.trust, args.seed)
            _configure_logging(args.timestamp, args.verbose_logging, args.debug, output_mode(args))
            status = RUNTIME_ERROR
            _run(train_obj, args.time_budget, args.config, args.resume, args.overwrite, args)
    except RunFinished as exc:
        print(f"{prog}: {exc}")
        return 0
    except RunRefused as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except TrainingInterrupted as exc:
        hint = "" if exc.checkpoint_path is None else f"; {_resume_hint(argv)}"
        print(f"{prog}: {exc}{hint}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; {_resume_hint(argv)}", file=sys.stderr)
        return 130
    except Exception as exc:
        if debugging(args.debug):
            raise
        print(
            f"{prog}: error: {type(exc).__name__}: {_describe(exc, args.config)} "
            "(run with --debug for the full traceback)",
            file=sys.stderr,
        )
        return status
    return 0


def _resume_hint(argv):
    """``'resume with: python bin/train.py exp.yaml --resume'`` (the command run, the way
    the user ran it, plus ``--resume``)."""
    args = [a for a in argv if a not in ("--resume", "--overwrite")]
    command = " ".join([_commands.command("train.py"), shlex.join([*args, "--resume"])])
    return f"resume with: {command}"


if __name__ == "__main__":
    sys.exit(main())
