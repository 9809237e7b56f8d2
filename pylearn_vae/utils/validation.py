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
    "check_probability",
    "check_positive_int_tuple",
    "reject_ignored_option",
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


def reject_ignored_option(owner, name, value, default, reason):
    """Raise ``ValueError`` when an option that would change nothing is given.

    Pylearn2's constructors take some options that pylearn_vae does not implement, or
    that only act together with another option. Accepting and ignoring one would build a
    different model than the YAML asks for, so any value other than `default` (the value
    that asks for nothing) is refused, naming the option and saying why.

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
    """
    if value is default or (isinstance(value, (str, numbers.Number)) and value == default):
        return
    raise ValueError(
        f"{owner}: {name}={value!r} {reason}, so it would be silently ignored; "
        f"remove {name} (or set it to {default!r})"
    )
