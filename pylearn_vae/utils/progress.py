"""A progress bar that appears only when someone is watching.

``progress(iterable)`` wraps the iterable in a tqdm bar on stderr when tqdm is installed
and stderr is a terminal; otherwise it returns the iterable unchanged, so logs written
to files or pipes stay clean. The bar goes to stderr and is closed when the loop ends,
so lines printed to stdout between loops (e.g. a monitor report) are never garbled.
"""

import sys

__all__ = ["progress"]


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
        enabled = _is_terminal(sys.stderr)
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr)


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False
