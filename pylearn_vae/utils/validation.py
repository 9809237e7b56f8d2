"""Checking constructor arguments, so that a bad YAML value fails when the object is built.

Every check takes the object's name (`owner`, usually its class name), the argument's name and
its value, returns the value when it is acceptable and otherwise raises ``ValueError`` with one
message shape::

    "{owner}: {name} must be {what}, got {value!r}"

e.g. ``RectifiedLinear: dim must be a positive integer, got 2.5``.

Integers are Python or NumPy integers only. ``True``/``False`` are not sizes, and an integral
float such as ``200.0`` is rejected too (with a hint to write ``200``), because accepting it
means also deciding what ``2.5`` truncates to.

:func:`reject_ignored_option` is the one check of another kind: it refuses an option that
the object accepts (Pylearn2 does) but that would change nothing, naming it and saying why.

The same message shape serves numbers in an interval (a momentum in ``[0, 1)``, a decay
factor ``>= 1``), optional arguments, seeds, the iteration modes of
:mod:`pylearn_vae.utils.iteration`, a file that can be written, and data that must be
finite (or binary) before a model trains on it.
"""

import math
import numbers
import os
import reprlib

import numpy as np

__all__ = [
    "check_positive_int",
    "check_nonnegative_int",
    "check_positive_float",
    "check_nonnegative_float",
    "check_choice",
    "check_probability",
    "check_positive_int_tuple",
    "reject_ignored_option",
    "check_data_values",
    "outside_0_1",
    "check_iteration_mode",
    "check_number_in",
    "check_optional_positive_int",
    "check_seed",
    "check_writable_file",
    "check_fits_in_memory",
    "format_bytes",
    "short_repr",
    "to_number",
]


_REPR = reprlib.Repr()
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 6
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlevel = 2
_REPR_CHARACTERS = 160


def short_repr(value):
    """``repr(value)`` cut short (a few items per container, 80 characters per string),
    built without walking the whole value: a message never spells out a huge value."""
    text = _REPR.repr(value)
    return text if len(text) <= _REPR_CHARACTERS else text[: _REPR_CHARACTERS - 3] + "..."


def _fail(owner, name, what, value, hint=""):
    raise ValueError(f"{owner}: {name} must be {what}, got {short_repr(value)}{hint}")


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_int(owner, name, value, lowest, what):
    if not _is_int(value):
        hint = ""
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            hint = f" (write {int(value)} without the decimal point)"
        _fail(owner, name, what, value, hint)
    if value < lowest:
        _fail(owner, name, what, value)
    return int(value)


def check_positive_int(owner, name, value):
    """Return `value` as an ``int`` when it is an integer >= 1, else raise ``ValueError``."""
    return _check_int(owner, name, value, 1, "a positive integer")


def check_nonnegative_int(owner, name, value):
    """Return `value` as an ``int`` when it is an integer >= 0, else raise ``ValueError``."""
    return _check_int(owner, name, value, 0, "a non-negative integer")


def _check_float(owner, name, value, positive, what):
    ok = (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
          and math.isfinite(value) and (value > 0 if positive else value >= 0))
    if not ok:
        _fail(owner, name, what, value)
    return float(value)


def check_positive_float(owner, name, value):
    """Return `value` as a ``float`` when it is a finite real > 0, else raise ``ValueError``."""
    return _check_float(owner, name, value, True, "a positive finite number")


def check_nonnegative_float(owner, name, value):
    """Return `value` as a ``float`` when it is a finite real >= 0, else raise ``ValueError``."""
    return _check_float(owner, name, value, False, "a non-negative finite number")


def check_choice(owner, name, value, choices):
    """Return `value` when it is one of `choices`, else raise ``ValueError`` listing them."""
    if value not in choices:
        _fail(owner, name, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def check_probability(owner, name, value):
    """Return `value` as a ``float`` when it is a real in [0, 1], else raise ``ValueError``."""
    if not (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
            and 0 <= value <= 1):
        _fail(owner, name, "a probability in [0, 1]", value)
    return float(value)


def check_positive_int_tuple(owner, name, value, length):
    """Return `value` as a tuple of ``length`` ints >= 1 (a shape or stride), else raise.

    A list is accepted (YAML has no tuples); ``ValueError`` names the whole value.
    """
    what = f"a sequence of {length} positive integers"
    if not isinstance(value, (tuple, list)) or len(value) != length:
        _fail(owner, name, what, value)
    if not all(_is_int(v) and v >= 1 for v in value):
        _fail(owner, name, what, value)
    return tuple(int(v) for v in value)


def reject_ignored_option(owner, name, value, default, reason, remedy=None):
    """Raise ``ValueError`` when an option that would change nothing is given.

    The one rule for compatibility arguments (listed in ``docs/quirks.md``): Pylearn2's
    signatures take some options that pylearn_vae does not implement, or that only act
    together with another option. Accepting and ignoring one would build a different
    model (or run) than the file or command asks for, so any value other than `default`
    (the value that asks for nothing) is refused in one line, naming the option and
    saying why.

    Parameters
    ----------
    owner, name : str
        The class (and layer) and the argument, for the message.
    value : object
        The value given.
    default : object
        The value that asks for nothing (None, False, the documented default).
    reason : str
        Why the option would have no effect, e.g. ``"is not implemented"``.
    remedy : str, optional
        What to do instead; default ``"remove NAME (or set it to DEFAULT)"``.
    """
    if value is default or (isinstance(value, (str, numbers.Number)) and value == default):
        return
    remedy = f"remove {name} (or set it to {default!r})" if remedy is None else remedy
    raise ValueError(
        f"{owner}: {name}={short_repr(value)} {reason}, so it would be silently ignored; "
        f"{remedy}"
    )

def to_number(owner, name, value):
    """``value`` as a float; numeric strings (``'1e-3'``, as YAML gives) are converted.

    Raises ValueError for a string that is not a number, TypeError for a bool or any
    other non-number.
    """
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(
                f"{owner}: {name} must be a number, got {short_repr(value)}"
            ) from None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {short_repr(value)}")
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
            f"{owner}: {name} must be {_interval(low, high, low_open, high_open)}, got "
            f"{short_repr(value)}"
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
        if isinstance(seed, (bool, np.bool_)):
            raise TypeError
        np.random.SeedSequence(seed)
    except (TypeError, ValueError):
        raise ValueError(
            f"{owner}: {name} must be a non-negative integer or a list of them, "
            f"got {short_repr(seed)}"
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
    """``path`` when a file can be written there: nothing or a regular file is there (not
    a folder, a symbolic link, a device or a FIFO), and its nearest existing parent
    folder is writable (missing folders are created when saving)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{owner}: {name} must be a file path, got {short_repr(path)}")
    full = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if os.path.isdir(full):
        raise ValueError(f"{owner}: {name} {path!r} is a folder: give a file name in it")
    from pylearn_vae.utils.serial import check_output_path  # serial imports no validation

    try:
        check_output_path(full)
    except ValueError as exc:
        raise ValueError(f"{owner}: {name}: {exc}") from None
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
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{what} holds {X.dtype} values, not numbers")
    if X.dtype.kind == "f":
        bad = ~np.isfinite(X)
        if bad.any():
            row = int(np.argwhere(bad)[0][0]) if X.ndim else 0
            raise ValueError(
                f"{what} holds {int(bad.sum())} non-finite values (NaN or inf), the first in "
                f"row {row}: fix or drop them before training"
            )
    return X


def outside_0_1(what, X):
    """None when every value of ``X`` is in ``[0, 1]``, else a sentence saying so, with
    the fix (for data a Bernoulli distribution models)."""
    X = np.asarray(X)
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


def format_bytes(n):
    """``'1.5 GiB'``: a byte count for messages."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"


def check_fits_in_memory(owner, names, needed, what, available=None):
    """Refuse, before allocating, what needs more memory than the process has left.

    Parameters
    ----------
    owner : str
        The object, for the message.
    names : str
        The arguments whose values set the size (``'nhid'``, ``'batch_size (1000000000)'``),
        named in the message as what to make smaller.
    needed : int
        Bytes the allocation needs.
    what : str
        What would be allocated (``'its 784 x 100000000 weight matrix'``).
    available : int, optional
        Bytes available; default :func:`pylearn_vae.utils.memory.available_memory` (no
        check where it is unknown).

    Raises
    ------
    ValueError
        ``"{owner}: {what} would need 14.9 GiB, more than the 9.8 GiB of memory available:
        make {names} smaller"``.
    """
    if available is None:
        from pylearn_vae.utils.memory import available_memory

        available = available_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"{owner}: {what} would need {format_bytes(needed)}, more than the "
            f"{format_bytes(available)} of memory available: make {names} smaller"
        )
