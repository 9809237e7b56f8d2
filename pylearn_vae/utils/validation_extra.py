"""More argument checks, beside those of :mod:`pylearn_vae.utils.validation`.

Same message shape, ``"{owner}: {name} must be {what}, got {value!r}"``: numbers in an
interval (a momentum in ``[0, 1)``, a decay factor ``>= 1``), optional arguments, the
iteration modes of :mod:`pylearn_vae.utils.iteration`, a file that can be written, and
data that must be finite (or binary) before a model trains on it.
"""

import math
import numbers
import os

import numpy

from pylearn_vae.utils.validation import check_positive_int

__all__ = [
    "check_data_values",
    "outside_0_1",
    "check_iteration_mode",
    "check_number_in",
    "check_optional_positive_int",
    "check_seed",
    "check_writable_file",
    "to_number",
]


def to_number(owner, name, value):
    """``value`` as a float; numeric strings (``'1e-3'``, as YAML gives) are converted.

    Raises ValueError for a string that is not a number, TypeError for a bool or any
    other non-number.
    """
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{owner}: {name} must be a number, got {value!r}") from None
    if isinstance(value, (bool, numpy.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    return float(value)


def check_number_in(owner, name, value, low=None, high=None, low_open=False, high_open=False):
    """``value`` as a finite float in the interval ``low .. high`` (either end may be None).

    ``low_open``/``high_open`` exclude that end: ``check_number_in(o, 'momentum', m, 0, 1,
    high_open=True)`` accepts ``[0, 1)``.
    """
    number = to_number(owner, name, value)
    ok = math.isfinite(number)
    ok = ok and (low is None or (number > low if low_open else number >= low))
    ok = ok and (high is None or (number < high if high_open else number <= high))
    if not ok:
        raise ValueError(
            f"{owner}: {name} must be {_interval(low, high, low_open, high_open)}, got {value!r}"
        )
    return number


def _interval(low, high, low_open, high_open):
    if low is None and high is None:
        return "a finite number"
    if high is None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"a number in {left}{low:g}, {high:g}{right}"


def check_optional_positive_int(owner, name, value):
    """None, or ``value`` checked by :func:`check_positive_int`."""
    return None if value is None else check_positive_int(owner, name, value)


def check_seed(owner, name, seed):
    """``seed`` when it can seed a NumPy generator: a non-negative integer or a list of
    them (not a bool)."""
    try:
        if isinstance(seed, (bool, numpy.bool_)):
            raise TypeError
        numpy.random.SeedSequence(seed)
    except (TypeError, ValueError):
        raise ValueError(
            f"{owner}: {name} must be a non-negative integer or a list of them, got {seed!r}"
        ) from None
    return seed


def check_iteration_mode(owner, name, mode):
    """``mode`` when it names an iteration mode (or is a SubsetIterator class)."""
    from pylearn_vae.utils.iteration import resolve_iterator_class

    try:
        resolve_iterator_class(mode)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: {name} is not an iteration mode: {exc}") from None
    return mode


def check_writable_file(owner, name, path):
    """``path`` when a file can be written there: not a folder, and its nearest existing
    parent folder writable (missing folders are created when saving)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{owner}: {name} must be a file path, got {path!r}")
    full = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if os.path.isdir(full):
        raise ValueError(f"{owner}: {name} {path!r} is a folder: give a file name in it")
    folder = os.path.dirname(full)
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise ValueError(f"{owner}: {name} {path!r} cannot be written: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(
            f"{owner}: {name} {path!r} cannot be written: folder {folder} is not writable "
            "(choose another save_path)"
        )
    return path


def check_data_values(what, X):
    """Raise ValueError unless every value of the array ``X`` is a finite number;
    ``what`` names the data in the message."""
    X = numpy.asarray(X)
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{what} holds {X.dtype} values, not numbers")
    if X.dtype.kind == "f":
        bad = ~numpy.isfinite(X)
        if bad.any():
            row = int(numpy.argwhere(bad)[0][0]) if X.ndim else 0
            raise ValueError(
                f"{what} holds {int(bad.sum())} non-finite values (NaN or inf), the first in "
                f"row {row}: fix or drop them before training"
            )
    return X


def outside_0_1(what, X):
    """None when every value of ``X`` is in ``[0, 1]``, else a sentence saying so, with
    the fix (for data a Bernoulli distribution models)."""
    X = numpy.asarray(X)
    if not X.size:
        return None
    low, high = X.min(), X.max()
    if low >= 0 and high <= 1:
        return None
    return (
        f"{what} holds values in [{low:g}, {high:g}], but a BernoulliVector conditional "
        "models pixels in [0, 1]: scale the data to [0, 1] (the dataset's scale argument) "
        "or binarize it"
    )
