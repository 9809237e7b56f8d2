"""Every script's argument parser: one-line usage errors, and --help with examples.

A script builds its parser with :class:`ArgumentParser` (``train.py``, whose options
differ, with :class:`OneLineErrors`), passing its ``EXAMPLES``: the commands its --help
ends with, written the way the user runs the scripts
(:func:`pylearn_vae.scripts._commands.command`). The help is formatted by argparse's
public :class:`argparse.RawDescriptionHelpFormatter`; the parser wraps the description
and the epilog itself, paragraph by paragraph, keeping indented lines (the
``examples:``) as written. An option whose default is worth showing says so in its help
(``(default: %(default)s)``, argparse's own placeholder).
"""

import argparse
import math
import re
import shutil
import sys
import textwrap

from pylearn_vae.scripts import _commands, _load_options
from pylearn_vae.scripts._errors import USAGE_ERROR

__all__ = [
    "ArgumentParser",
    "OneLineErrors",
    "examples_epilog",
    "help_paragraphs",
    "nonnegative_float",
    "nonnegative_int",
    "positive_float",
    "positive_int",
]


def examples_epilog(prog, examples):
    """The ``examples:`` block of the --help of ``prog`` (a script's file in ``bin/``
    or its console script): each of ``examples`` (the arguments of one command) after
    the command that runs the script the way the user runs them; None without examples."""
    if not examples:
        return None
    script = _commands.script_of(prog)
    run = prog if script is None else _commands.command(script)
    return "examples:\n" + "\n".join(f"  {run} {example}" for example in examples)


_WHITESPACE = re.compile(r"\s+", re.ASCII)  # what argparse's own wrapping collapses


def help_paragraphs(text, width):
    """``text`` (a description or an epilog) as --help prints it: each paragraph
    (separated by a blank line) filled to ``width`` columns, except paragraphs with
    indented lines, kept as written; reStructuredText's double backticks dropped."""
    if not text:
        return text
    paragraphs = []
    for paragraph in text.replace("``", "").split("\n\n"):
        lines = paragraph.splitlines()
        if any(line.startswith("  ") for line in lines):
            paragraphs.append("\n".join(lines))
        else:
            paragraphs.append(textwrap.fill(_WHITESPACE.sub(" ", paragraph).strip(), width))
    return "\n\n".join(paragraphs)


class OneLineErrors(argparse.ArgumentParser):
    """``argparse`` whose usage errors are one line, ``prog: error: ... (see --help)``,
    with exit status 2, and whose --help ends with the script's ``examples``.

    Parameters
    ----------
    examples : sequence of str, optional
        The arguments of commands that run the script, e.g. ``'model.pkl -k 100'``,
        shown under ``examples:`` after the epilog (:func:`examples_epilog`).
    *args, **kw
        As :class:`argparse.ArgumentParser`; ``formatter_class`` defaults to
        :class:`argparse.RawDescriptionHelpFormatter`.
    """

    def __init__(self, *args, examples=(), **kw):
        kw.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kw)
        self.epilog = "\n\n".join(
            filter(None, [self.epilog, examples_epilog(self.prog, examples)])
        )

    def format_help(self):
        """The --help text, the description and epilog wrapped by :func:`help_paragraphs`
        to argparse's width (the terminal's, less 2)."""
        written = self.description, self.epilog
        width = max(shutil.get_terminal_size().columns - 2, 11)
        self.description, self.epilog = (help_paragraphs(text, width) for text in written)
        try:
            return super().format_help()
        finally:
            self.description, self.epilog = written

    def error(self, message):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(USAGE_ERROR)


class ArgumentParser(OneLineErrors):
    """:class:`OneLineErrors` with the options of
    :func:`~pylearn_vae.scripts._load_options.add_load_options` (hand the parsed
    arguments to :func:`~pylearn_vae.scripts._loading.load_model` and
    :func:`~pylearn_vae.scripts._loading.load_dataset`) and ``--debug`` (tracebacks
    instead of one line)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        _load_options.add_load_options(self)
        self.add_argument(
            "--debug",
            action="store_true",
            help="show the traceback of an error (or set PYLEARN_VAE_DEBUG=1)",
        )


def _number_type(convert, lowest, strict, what):
    """An argparse type: ``convert(text)``, finite, ``> lowest`` (``strict``) or ``>=``."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value) or (value <= lowest if strict else value < lowest):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what.replace(" ", "_")  # argparse names the type in some messages
    return parse


positive_int = _number_type(int, 0, True, "a positive integer")
nonnegative_int = _number_type(int, 0, False, "a non-negative integer")
positive_float = _number_type(float, 0, True, "a positive number")
nonnegative_float = _number_type(float, 0, False, "a non-negative number")
