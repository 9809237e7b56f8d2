"""Checking constructor arguments, so that a bad YAML value fails when the object is built.

Every check takes the object's name (`owner`, usually its class name), the argument's name and
its value, returns the value when it is acceptable and otherwise raises ``ValueError`` with one
message shape::

    "{owner}: {name} must be {what}, got {value!r}"

e.g. ``RectifiedLinear: dim must be a positive integer, got 2.5``.

Integers are Python or NumPy integers only. ``True``/``False`` are not sizes, and an integral
float such as ``200.0`` is rejected too (with a hint to write ``200``), because accepting it
means also deciding what ``2.5`` truncates to.
"""

import math
import numbers

import numpy as np

__all__ = [
    "check_positive_int",
    "check_nonnegative_int",
    "check_positive_float",
    "check_nonnegative_float",
    "check_choice",
    "check_unused_option",
]


def _fail(owner, name, what, value, hint=""):
    raise ValueError(f"{owner}: {name} must be {what}, got {value!r}{hint}")


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


def check_unused_option(owner, name, value, default=None, why=""):
    """Raise ``ValueError`` when an option this implementation does not support is set.

    Pylearn2 constructors take some options that pylearn_vae does not implement. Accepting
    and ignoring them would give a different model than the YAML asks for, so a value other
    than `default` (the setting that means "off") is refused, naming the option.

    Parameters
    ----------
    owner, name : str
        The class and the argument, for the message.
    value : object
        The value given.
    default : object
        The value that asks for nothing (usually None).
    why : str
        What to do instead, appended to the message.
    """
    if value is not default and value != default:
        raise ValueError(f"{owner}: {name}={value!r} is not supported by pylearn_vae; "
                         f"leave it unset{'; ' + why if why else ''}")
