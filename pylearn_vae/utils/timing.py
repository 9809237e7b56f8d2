"""Timing a block of work in the log (``pylearn2/utils/timing.py``)."""

import contextlib
import datetime
import logging
import time

__all__ = ["log_timing", "time_string"]


def time_string(seconds):
    """``'%f seconds'`` below a minute, else ``str(timedelta)`` (``'0:01:05.5'``)."""
    if seconds < 60:
        return f"{seconds:f} seconds"
    return str(datetime.timedelta(seconds=seconds))


@contextlib.contextmanager
def log_timing(logger, task, level=logging.INFO, final_msg=None, callbacks=None):
    """Log ``'<task>...'`` then ``'<task> done. Time elapsed: <t>'`` around a block.

    With ``final_msg`` the closing line is ``'<final_msg> <t>'``; each callback gets
    the elapsed seconds.
    """
    if task is not None:
        logger.log(level, "%s...", task)
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    if final_msg is None:
        logger.log(level, "%s done. Time elapsed: %s", task, time_string(elapsed))
    else:
        logger.log(level, "%s %s", final_msg, time_string(elapsed))
    for callback in callbacks or ():
        callback(elapsed)
