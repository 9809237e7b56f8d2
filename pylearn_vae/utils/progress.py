"""A progress bar that appears only when someone is watching.

``progress(iterable)`` wraps the iterable in a tqdm bar on stderr when tqdm is installed
and stderr is a terminal; otherwise it returns the iterable unchanged, so logs written
to files or pipes stay clean. The bar goes to stderr and is closed when the loop ends,
so lines printed to stdout between loops (e.g. a monitor report) are never garbled.

:func:`format_duration` and :func:`format_number` write times and monitored values for
people (units, no float noise).
"""

import math
import sys

__all__ = ["format_duration", "format_number", "is_terminal", "progress"]


def progress(iterable, total=None, desc=None, enabled=None):
    """``iterable``, wrapped in a tqdm progress bar where that makes sense.

    Parameters
    ----------
    iterable : iterable
    total : int, optional
        Number of items (default ``len(iterable)`` where it exists).
    desc : str, optional
        Label shown before the bar.
    enabled : bool, optional
        Force the bar on (True, still needs tqdm) or off (False); by default it is on
        when stderr is a terminal.

    Returns
    -------
    iterable
        A tqdm bar, or ``iterable`` itself.
    """
    if enabled is None:
        enabled = is_terminal(sys.stderr)
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr)


def is_terminal(stream):
    """Whether ``stream`` is a terminal (False for pipes, files, replaced or closed streams)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def format_duration(seconds):
    """A duration for people: ``'0.42 s'``, ``'12 s'``, ``'6 min 05 s'``, ``'2 h 03 min'``."""
    seconds = float(seconds)
    if seconds < 10:
        return f"{seconds:.2g} s" if seconds < 1 else f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_number(value, digits=4):
    """A monitored value for people: ``digits`` significant digits, no float noise.

    ``9.999999747378752e-05`` -> ``'1e-04'``, ``205.61234`` -> ``'205.6'``,
    ``0.0006121789`` -> ``'6.122e-04'``, ``12345.6`` -> ``'1.235e+04'`` (4 digits).
    """
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return str(value)
    if 1e-3 <= abs(value) < 10**digits:
        return f"{value:.{digits}g}"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"
