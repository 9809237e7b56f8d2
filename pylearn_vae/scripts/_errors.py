"""How a script fails: one line on stderr and an exit status, never a traceback.

A script runs its body inside :func:`clear_errors`, which turns every error into one
line, ``prog: error: <message>``, and exits with status 2 (:data:`USAGE_ERROR`) for a
usage or input error (a bad option, a missing or wrong file, a bad ``--dataset`` YAML, a
corrupt data file) or 1 (:data:`RUNTIME_ERROR`) for a runtime failure (not enough
memory, a model whose parameters are not finite, a failing disk, a missing optional
library). ``--debug`` (every script has it) or ``PYLEARN_VAE_DEBUG=1``
(``PYLEARN_VAE_TRACEBACK=1`` too) shows the traceback instead.
"""

import contextlib
import functools
import os
import sys
import zipfile

from pylearn_vae.datasets.dataset import NotInstalledError
from pylearn_vae.utils.images import MissingLibraryError

__all__ = [
    "RUNTIME_ERROR",
    "USAGE_ERROR",
    "CliError",
    "RuntimeFailure",
    "clear_errors",
    "debugging",
    "exit_status",
    "one_line",
    "quiet_on_broken_pipe",
]

USAGE_ERROR = 2  # a bad option, file or input: the user can fix the command
RUNTIME_ERROR = 1  # the command was fine but running it failed


class CliError(Exception):
    """A problem with the user's input; its message is shown as one line (exit status 2)."""

    status = USAGE_ERROR


class RuntimeFailure(CliError):
    """The input was fine but the work cannot be done (exit status 1)."""

    status = RUNTIME_ERROR


def debugging(debug=False):
    """Whether to show tracebacks: ``--debug``, or ``PYLEARN_VAE_DEBUG`` (or the older
    ``PYLEARN_VAE_TRACEBACK``) set to anything but ``''``/``0``."""
    flags = (os.environ.get(name, "") for name in ("PYLEARN_VAE_DEBUG", "PYLEARN_VAE_TRACEBACK"))
    return bool(debug) or any(flag not in ("", "0") for flag in flags)


# Errors that mean the user's input is wrong (exit status 2); anything else is 1.
_INPUT_ERRORS = (ValueError, TypeError, KeyError, NotInstalledError, EOFError, zipfile.BadZipFile)


def exit_status(exc):
    """2 for an input error, 1 for a runtime failure (see the module docstring)."""
    if isinstance(exc, CliError):
        return exc.status
    if isinstance(exc, MissingLibraryError):
        return RUNTIME_ERROR
    return USAGE_ERROR if isinstance(exc, _INPUT_ERRORS) else RUNTIME_ERROR


def one_line(prog, exc):
    """``prog: error: <message>`` on one line; the exception's class name is added
    when the message alone would not say what happened."""
    message = " ".join(str(exc).split())
    if isinstance(exc, MemoryError):
        message = f"not enough memory ({message or 'MemoryError'}): ask for less"
    elif isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        message = " ".join(exc.args[0].split())
    elif not isinstance(exc, (CliError, OSError, ValueError)):
        message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"{prog}: error: {message or type(exc).__name__}"


@contextlib.contextmanager
def clear_errors(prog, debug=False):
    """Turn any error raised inside the block into one line on stderr and
    ``SystemExit(status)`` (:func:`exit_status`), unless :func:`debugging`."""
    try:
        yield
    except Exception as exc:
        if debugging(debug):
            raise
        print(one_line(prog, exc), file=sys.stderr)
        raise SystemExit(exit_status(exc)) from exc


def quiet_on_broken_pipe(main):
    """Decorate a ``main(argv=None)`` that prints: a reader that stops early (``| head``)
    ends it quietly with status 1, as Unix tools do, instead of a BrokenPipeError."""

    @functools.wraps(main)
    def wrapped(argv=None):
        try:
            return main(argv)
        except BrokenPipeError:
            # Python flushes stdout again at exit; point it at /dev/null so that is silent.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1

    return wrapped
