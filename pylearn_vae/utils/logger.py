"""How a run prints its log records (``train.py``, sweep trials); after
``pylearn2/utils/logger.py``.

INFO from ``pylearn_vae`` loggers prints the bare message (after a timestamp on
request), anything else ``LEVEL (logger): message``; DEBUG and INFO go to stdout,
WARNING and above to stderr. :class:`pylearn_vae.run_options.OutputFilter` picks the
records of each output mode.
"""

import logging
import sys

__all__ = ["configure_run_logging"]

_OWN_LOGGERS = "pylearn_vae"


class _Formatter(logging.Formatter):
    """Bare INFO messages from our loggers, ``LEVEL (logger): msg`` for the rest."""

    def __init__(self, prefix=""):
        super().__init__()
        self._bare = logging.Formatter(prefix + "%(message)s")
        self._full = logging.Formatter(prefix + "%(levelname)s (%(name)s): %(message)s")

    def format(self, record):
        ours = record.name == _OWN_LOGGERS or record.name.startswith(_OWN_LOGGERS + ".")
        if ours and record.levelno == logging.INFO:
            return self._bare.format(record)
        return self._full.format(record)


class _StreamHandler(logging.Handler):
    """DEBUG/INFO to ``sys.stdout``, WARNING and above to ``sys.stderr`` (read at emit)."""

    def emit(self, record):
        try:
            stream = sys.stdout if record.levelno < logging.WARNING else sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def configure_run_logging(timestamp=False, verbose_logging=False, debug=False, output="lines"):
    """Print log records on stdout/stderr, replacing an earlier call's handler.

    Parameters
    ----------
    timestamp : bool
        Prefix messages with the time.
    verbose_logging : bool
        Time, logger and level on every line.
    debug : bool
        Show DEBUG messages.
    output : {'lines', 'verbose', 'quiet'}
        The output mode (:class:`pylearn_vae.run_options.OutputFilter`).
    """
    from pylearn_vae.run_options import OutputFilter

    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _StreamHandler):
            root.removeHandler(handler)
    handler = _StreamHandler()
    handler.addFilter(OutputFilter(output))
    if verbose_logging:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    else:
        handler.setFormatter(_Formatter("%(asctime)s " if timestamp else ""))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
