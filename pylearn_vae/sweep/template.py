"""A sweep's template: its placeholders and how the sweep's values fill them.

The template is a training YAML with ``${NAME}`` (or Pylearn2's ``%(name)s``, with any
``%`` conversion such as ``%(lr).4f``) placeholders; ``${PYLEARN2_...}`` names are left
for ``train.py`` to fill. A value fills a placeholder as YAML text
(:func:`format_value`): numbers round-trip, strings go in as they are.
"""

import dataclasses
import math
import re

from pylearn_vae.sweep.errors import SweepError

__all__ = ["TRAIN_PREFIX", "Placeholder", "format_value", "placeholders", "render"]

#: Placeholders with this prefix are ``train.py``'s (environment variables).
TRAIN_PREFIX = "PYLEARN2_"

_DOLLAR = re.compile(r"\$\{([^}]*)\}")
_PERCENT = re.compile(r"%\(([^)]*)\)([-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa])")


@dataclasses.dataclass(frozen=True)
class Placeholder:
    """One ``${name}`` or ``%(name)s`` in the template (``line`` counts from 1)."""

    name: str
    line: int
    text: str


def placeholders(text):
    """Every ``${name}`` / ``%(name)s`` of ``text`` except ``${PYLEARN2_...}``."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _DOLLAR.finditer(line):
            if not match.group(1).startswith(TRAIN_PREFIX):
                found.append(Placeholder(match.group(1), number, match.group(0)))
        for match in _PERCENT.finditer(line):
            found.append(Placeholder(match.group(1), number, match.group(0)))
    return found


def format_value(value):
    """A value as YAML text: numbers round-trip, strings are inserted as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    raise SweepError(
        f"a {type(value).__name__} ({value!r}) cannot fill a placeholder: give a number, "
        "a boolean or a string (YAML text such as '!obj:...' is a string)"
    )


def render(text, values):
    """``text`` with its ``${name}`` and ``%(name)X`` placeholders filled from ``values``.

    ``${PYLEARN2_...}`` stays for ``train.py``; when ``%(name)`` placeholders are used,
    ``%%`` becomes ``%`` as with Python's ``%`` operator (how Pylearn2 filled templates).
    """

    def dollar(match):
        name = match.group(1)
        if name.startswith(TRAIN_PREFIX):
            return match.group(0)
        return _fill(match.group(0), name, values, format_value)

    def percent(match):
        name, conversion = match.group(1), match.group(2)
        if conversion.endswith("s"):
            return _fill(match.group(0), name, values, format_value)
        return _fill(match.group(0), name, values, lambda v: ("%" + conversion) % v)

    out = _DOLLAR.sub(dollar, text)
    if _PERCENT.search(out):
        pieces = out.split("%%")
        out = "%".join(_PERCENT.sub(percent, piece) for piece in pieces)
    return out


def _fill(text, name, values, formatter):
    if name not in values:
        raise SweepError(f"placeholder {text} is not defined by the sweep")
    try:
        return formatter(values[name])
    except SweepError as exc:
        raise SweepError(f"placeholder {text}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise SweepError(
            f"placeholder {text}: value {values[name]!r} does not fit: {exc}"
        ) from None
