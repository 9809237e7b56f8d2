"""String helpers: ``${NAME}`` substitution of environment variables, natural sort keys.

``preprocess`` is what makes ``${PYLEARN2_DATA_PATH}/binarized_mnist/train.npy`` in a YAML
file or a save path point at the user's data folder; ``number_aware_alphabetical_key``
orders channel names as the monitor logs them.
"""

import difflib
import os
import re

__all__ = [
    "EnvironmentVariableError",
    "NoDataPathError",
    "number_aware_alphabetical_key",
    "preprocess",
]

_DIGITS = re.compile(r"(\d+)")


def number_aware_alphabetical_key(name):
    """Sort key comparing digit runs as numbers, before letters (``l2`` < ``l10`` < ``la``)."""
    return tuple(
        (0, int(token), "") if token.isdigit() else (1, 0, token)
        for token in _DIGITS.split(name)
        if token
    )


class EnvironmentVariableError(ValueError):
    """An environment variable that a string refers to is not set.

    A ``ValueError`` subclass (Pylearn2's derived from ``Exception`` only), so callers can
    catch every missing-variable error of ``preprocess`` as ``ValueError``.
    """


class NoDataPathError(EnvironmentVariableError):
    """``PYLEARN2_DATA_PATH`` is needed but not set."""

    def __init__(self, message=None):
        if message is None:
            message = (
                "PYLEARN2_DATA_PATH is not set. Set this environment variable to the folder "
                "that holds your datasets, i.e. the folder containing e.g. binarized_mnist/ "
                "(for example: export PYLEARN2_DATA_PATH=$HOME/data)."
            )
        super().__init__(message)


_VIEWER_MESSAGE = (
    "PYLEARN2_VIEWER_COMMAND is not set. Set it to a command that opens an image file, "
    "with the file name last, e.g. export PYLEARN2_VIEWER_COMMAND='eog --new-instance'."
)


def preprocess(s, environ=None):
    """Replace each ``${NAME}`` in `s` by the value of the variable ``NAME``.

    ``NAME`` is looked up in `environ` first, then in ``os.environ``. A leading ``~`` of
    the result is expanded to the user's home folder (Pylearn2 computed the expansion and
    threw it away, docs/quirks.md#quirk-13).

    Parameters
    ----------
    s : str
        The string to expand.
    environ : dict, optional
        Variables that take precedence over ``os.environ``.

    Returns
    -------
    str
        `s` with every ``${NAME}`` replaced.

    Raises
    ------
    NoDataPathError
        ``PYLEARN2_DATA_PATH`` is used but not set.
    EnvironmentVariableError
        ``PYLEARN2_VIEWER_COMMAND`` is used but not set.
    ValueError
        Any other unset variable (the message suggests the closest set one), or a
        ``${`` without its ``}``.
    """
    environ = {} if environ is None else environ
    pieces = s.split("${")
    out = [pieces[0]]
    for piece in pieces[1:]:
        name, closed, rest = piece.partition("}")
        if not closed:
            raise ValueError(
                f'Open "${{" not followed by "}}" before the end of the string or the next '
                f'"${{" in "{s}"'
            )
        out.append(_lookup(name, environ))
        out.append(rest)
    return os.path.expanduser("".join(out))


def _lookup(name, environ):
    if name in environ:
        return str(environ[name])
    if name in os.environ:
        return os.environ[name]
    if name == "PYLEARN2_DATA_PATH":
        raise NoDataPathError()
    if name == "PYLEARN2_VIEWER_COMMAND":
        raise EnvironmentVariableError(_VIEWER_MESSAGE)
    message = f'Unrecognized environment variable "{name}".'
    close = difflib.get_close_matches(name, list(environ) + list(os.environ), n=1, cutoff=0)
    if close:
        message += f" Did you mean {close[0]}?"
    raise ValueError(message)
