"""Train a model described by a YAML file (``pylearn2/scripts/train.py``).

Usage::

    train.py [-T] [-t SECONDS] [-V] [-D] [--allow-module MODULE] [--trust]
             [--resume | --overwrite] config.yaml

Before the file is parsed, ``${PYLEARN2_TRAIN_FILE_FULL_STEM}`` (``foo/bar`` for
``foo/bar.yaml``), ``${PYLEARN2_TRAIN_DIR}`` (``foo/``), ``${PYLEARN2_TRAIN_BASE_NAME}``
(``bar.yaml``) and ``${PYLEARN2_TRAIN_FILE_STEM}`` (``bar``) are set, so the file can
name its outputs after itself. A file whose top object is a list trains each entry in
turn as a phase, with ``PYLEARN2_TRAIN_PHASE`` set to ``phase1``, ``phase2``, ...

Logging: INFO from ``pylearn_vae`` loggers prints the bare message (after a timestamp
with ``-T``), anything else ``LEVEL (logger): message``; DEBUG and INFO go to stdout,
WARNING and above to stderr. ``-V`` prints time, logger and level on every line, ``-D``
shows DEBUG messages. ``-L`` is Pylearn2's option, which its ``train.py`` never read: it
is refused (``docs/quirks.md``).

A configuration error (bad YAML, a bad argument value) prints one line naming the file
(and line, when known) and exits with status 2; an error while training (a non-finite
cost or monitoring value, a failing save) prints one line and exits with status 1.
``-D`` or ``PYLEARN_VAE_DEBUG=1`` shows the traceback instead.

Stopping, resuming, re-running (see :mod:`pylearn_vae.train`): a run keeps a checkpoint
beside its save path (``exp.pkl`` -> ``exp.ckpt.pkl``). Ctrl-C or SIGTERM stops it at
the next batch boundary, writes the checkpoint, prints one line with the command that
resumes it, and exits with status 130 or 143 (a second signal stops at once).
``--resume`` continues from the checkpoint; the result is the same as an uninterrupted
run's; with no checkpoint to continue it is refused with status 2, naming the path it
looked for. A run whose output files exist is not started again: a finished one says so and
exits 0, an unfinished one (or files without a checkpoint) is refused with status 2,
naming ``--resume`` and ``--overwrite``; ``--overwrite`` starts again from scratch.
"""

import shlex
import sys
import time

from pylearn_vae.config.yaml_parse import load_train_file
from pylearn_vae.run import RunFinished, RunRefused, describe_error, load_run, run_phases
from pylearn_vae.run_options import output_mode, use_backend
from pylearn_vae.scripts import _commands
from pylearn_vae.scripts._run_options import summary_lines
from pylearn_vae.utils.logger import configure_run_logging
from pylearn_vae.utils.validation import reject_ignored_option

__all__ = [
    "RunFinished",
    "RunRefused",
    "load_train_file",
    "main",
    "make_argument_parser",
    "train",
]

EXIT_REFUSED = 2

# What --help ends with: commands that run this script (their arguments).
EXAMPLES = [
    "yaml_examples/vae_mnist10k.yaml",
    "yaml_examples/vae_mnist10k.yaml --epochs 5 --out-dir runs/quick   # a quick look",
    "yaml_examples/vae_mnist10k.yaml --seed 3 --tensorboard runs/tb --images-every 10",
]


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
    level_name : None or False
        Pylearn2's ``-L``, which it never read; only None or False is accepted.
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
    _check_level_name(level_name or False)
    run_args = make_argument_parser().parse_args([config]) if run_args is None else run_args
    with use_backend(run_args):
        train_obj = load_run(config, allow_modules, trusted, run_args)
        configure_run_logging(timestamp, verbose_logging, debug, output_mode(run_args))
        _run(train_obj, time_budget, config, resume, overwrite, run_args)


def _check_level_name(level_name):
    """Refuse Pylearn2's ``-L/--level-name`` (its train.py never read it either)."""
    reject_ignored_option(
        _commands.prog("train.py"), "-L/--level-name", level_name, False,
        "did nothing in Pylearn2's train.py either", remedy="leave -L out",
    )


def _run(train_obj, time_budget, config, resume, overwrite, run_args):
    """Train each phase (:func:`pylearn_vae.run.run_phases`), then print the summary."""
    start = time.perf_counter()
    runs = run_phases(train_obj, time_budget, config, resume, overwrite, run_args)
    if output_mode(run_args) != "quiet":
        print("\n".join(summary_lines(runs, time.perf_counter() - start)))


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
        examples=EXAMPLES,
    )
    parser.add_argument(
        "--level-name",
        "-L",
        action="store_true",
        help="Pylearn2's option, which its train.py never read: refused",
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
        "uninterrupted run's; refused when there is no checkpoint",
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


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    from pylearn_vae.scripts import _cli
    from pylearn_vae.scripts._cli import USAGE_ERROR, debugging, exit_status
    from pylearn_vae.train import TrainingInterrupted

    argv = sys.argv[1:] if argv is None else list(argv)
    prog = _commands.prog("train.py")
    args = make_argument_parser().parse_args(argv)
    try:
        _check_level_name(args.level_name)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return USAGE_ERROR
    _cli.keep_freed_memory()  # this process's big arrays reuse freed memory
    # Loading builds every object, so every argument is checked before training starts;
    # the algorithm's setup checks the sizes against memory. A bad file or value exits 2.
    loaded = False
    try:
        with use_backend(args):
            train_obj = load_run(args.config, args.allow_modules, args.trust, args)
            configure_run_logging(
                args.timestamp, args.verbose_logging, args.debug, output_mode(args)
            )
            loaded = True
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
            f"{prog}: error: {type(exc).__name__}: {describe_error(exc, args.config)} "
            "(run with --debug for the full traceback)",
            file=sys.stderr,
        )
        return exit_status(exc) if loaded else USAGE_ERROR
    return 0


def _resume_hint(argv):
    """``'resume with: python bin/train.py exp.yaml --resume'`` (the command run, the way
    the user ran it, plus ``--resume``)."""
    args = [a for a in argv if a not in ("--resume", "--overwrite")]
    command = " ".join([_commands.command("train.py"), shlex.join([*args, "--resume"])])
    return f"resume with: {command}"


if __name__ == "__main__":
    sys.exit(main())
