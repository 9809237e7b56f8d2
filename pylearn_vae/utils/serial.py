"""Saving and loading objects: pickles, ``.npy``/``.npz``, text matrices and ``.mat``.

Every ``save`` is atomic: the object is written to a temporary file in the target's folder,
flushed and fsynced, then moved onto the target with ``os.replace``. An interrupted save
(an exception while pickling, Ctrl-C) leaves the previous file untouched and removes the
temporary file, so a training run's last good checkpoint is never half-overwritten.
Only a process killed outright (SIGKILL, power loss) leaves its hidden temporary file
(``.<name>.<random>.tmp``) behind; :func:`remove_stale_temporaries` removes those.

Outputs go only to regular files: :func:`check_output_path` refuses a path where a
symbolic link, a device node (``/dev/null``), a FIFO, a socket or a folder is, and
:func:`open_output` (for the files written in place: ``monitor.csv``, sweep tables)
opens without following a link or blocking on a FIFO and checks what it opened. Every
writer of this package goes through one of them, or through :func:`save`, which calls
the first; so a file that names its outputs cannot make a run replace a device, feed a
FIFO, or write through a link to somewhere else.
"""

import errno
import importlib.util
import logging
import os
import pickle
import stat
import struct
import tempfile
import time

import numpy as np

from pylearn_vae.utils import datafile, safe_load
from pylearn_vae.utils.safe_unpickle import safe_unpickle
from pylearn_vae.utils.string_utils import preprocess

__all__ = [
    "NotARegularFileError",
    "check_output_path",
    "load",
    "mkdir_p",
    "open_output",
    "remove_stale_temporaries",
    "save",
]

logger = logging.getLogger(__name__)

_LOAD_ATTEMPTS = 4  # first try plus retries after 0.5, 1 and 2 seconds


class NotARegularFileError(ValueError):
    """An output path holds something other than a regular file (a link, a device...)."""


def _kind(mode):
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _refuse(path, mode):
    kind = _kind(mode)
    target = ""
    if stat.S_ISLNK(mode):
        try:
            target = f" to {os.readlink(path)}"
        except OSError:
            pass
    return NotARegularFileError(
        f"{path} is {kind}{target}, not a regular file: outputs are written only to "
        "regular files; remove it or choose another path"
    )


def check_output_path(path):
    """Refuse to write at ``path`` unless nothing or a regular file is there.

    A symbolic link is refused whatever it points to (writing would replace the link or
    its target); so are device nodes, FIFOs, sockets and folders. The folders above
    ``path`` may be links.

    Raises
    ------
    NotARegularFileError
        (a ValueError) Naming the path, what is there, and the fix.
    """
    path = os.fspath(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    except OSError:
        return path  # unreadable folder: the write itself reports it
    if not stat.S_ISREG(mode):
        raise _refuse(path, mode)
    return path


def open_output(path, mode="w", **kw):
    """``open(path, mode)`` for writing a file in place, only if it is a regular file.

    Opens without following a symbolic link (``O_NOFOLLOW``) and without blocking on a
    FIFO (``O_NONBLOCK``), then checks what was opened before writing a byte: no race
    between the check and the write. ``mode`` is ``'w'``, ``'a'``, ``'wb'`` or ``'ab'``;
    ``kw`` go to ``open`` (``encoding``, ``newline``).

    Raises
    ------
    NotARegularFileError
        ``path`` is a link, a device, a FIFO, a socket or a folder.
    """
    path = os.fspath(path)
    check_output_path(path)
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_APPEND if mode.startswith("a") else 0
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise _refuse(path, os.lstat(path).st_mode) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, info.st_mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        if not mode.startswith("a"):
            os.ftruncate(fd, 0)
        return open(fd, mode.replace("x", "w"), closefd=True, **kw)
    except BaseException:
        os.close(fd)
        raise


def mkdir_p(path):
    """Create folder `path` and its parents; do nothing if it already exists.

    Raises
    ------
    IOError
        `path` exists and is not a folder, or cannot be created.
    """
    if os.path.isdir(path):
        return
    if os.path.exists(path):
        raise OSError(errno.ENOTDIR, f"Cannot create folder {path!r}: a file is in the way")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise OSError(e.errno, f"Cannot create folder {path!r}: {e.strerror}", path) from e


def save(filepath, obj, on_overwrite="ignore"):
    """Save `obj` to `filepath`, atomically.

    ``.npy`` files are written with ``numpy.save``, ``.joblib`` files with joblib when it
    is installed, anything else (``.pkl`` included) as a data file that cannot carry
    code (:mod:`pylearn_vae.utils.datafile`: arrays in ``.npz`` layout plus a JSON
    description of the objects; Pylearn2 pickled, docs/quirks.md). Missing parent
    folders are created.

    Parameters
    ----------
    filepath : str
        Destination; ``${NAME}`` and ``~`` are expanded.
    obj : object
        What to save.
    on_overwrite : {'ignore', 'backup'}
        Both keep the previous file safe: the new one is written to a temporary file and
        renamed over it, so an interrupted save leaves the old file whole. (Pylearn2's
        ``'backup'`` copied the old file to ``<filepath>.bak`` first; the rename makes
        that copy unnecessary, so the value is accepted for compatibility.)

    Raises
    ------
    IOError
        The parent is not a folder or is not writable.
    NotARegularFileError
        A symbolic link, a device, a FIFO, a socket or a folder is at ``filepath``.
    pylearn_vae.utils.datafile.UnsavableError
        (a TypeError) ``obj`` holds something that is not data (a function, an object
        that pickles through its own ``__reduce__``); the message names where it is.
    """
    if on_overwrite not in ("ignore", "backup"):
        raise ValueError(f"on_overwrite must be 'ignore' or 'backup', got {on_overwrite!r}")
    filepath = preprocess(filepath)
    folder = os.path.dirname(os.path.abspath(filepath))
    mkdir_p(folder)
    _save_atomic(filepath, obj)


def _save_atomic(filepath, obj):
    folder = os.path.dirname(os.path.abspath(filepath))
    check_output_path(filepath)
    try:
        prefix, suffix = _temporary_name_parts(filepath)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    except OSError as e:
        raise OSError(
            e.errno, f"Cannot save {filepath!r}: folder {folder!r} is not writable", filepath
        ) from e
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _target_mode(filepath))
        with os.fdopen(fd, "wb") as f:
            _write(f, filepath, obj)
            f.flush()
            os.fsync(f.fileno())
        check_output_path(filepath)  # nothing put there while the object was written
        os.replace(tmp, filepath)
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_folder(folder)


def _write(f, filepath, obj):
    if filepath.endswith(".npy"):
        np.save(f, obj)
    elif filepath.endswith(".joblib") and importlib.util.find_spec("joblib") is not None:
        import joblib

        joblib.dump(obj, f)
    else:
        datafile.write(f, obj, root=os.path.basename(filepath))


def _target_mode(filepath):
    """Permissions for the new file: the old file's, else what ``open`` would give."""
    try:
        return os.stat(filepath).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX only; harmless to skip elsewhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temporary_name_parts(filepath):
    """The prefix and suffix of the temporary files :func:`save` writes for ``filepath``."""
    return "." + os.path.basename(filepath) + ".", ".tmp"


def remove_stale_temporaries(filepath):
    """Remove the temporary files that killed saves of ``filepath`` left behind.

    Call it when nothing else is saving to ``filepath`` (e.g. when a training run
    starts): a save in progress would lose its temporary file.

    Returns
    -------
    list of str
        The files removed.
    """
    filepath = preprocess(filepath)
    folder = os.path.dirname(os.path.abspath(filepath))
    prefix, suffix = _temporary_name_parts(filepath)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in sorted(names):
        if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix + suffix):
            path = os.path.join(folder, name)
            _remove_quietly(path)
            removed.append(path)
    return removed


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def load(filepath, retry=True, allow_modules=None, trusted=False):
    """Load an object saved by `save` (or a NumPy, text or MATLAB file), safely.

    A data file (what :func:`save` writes, whatever its extension) is rebuilt by
    :func:`pylearn_vae.utils.datafile.read`: arrays read with ``allow_pickle=False``,
    objects only of this package's classes and those of `allow_modules`, nothing
    called. Other ``.npy``/``.npz`` files go through ``numpy.load``
    (``allow_pickle=False``), ``.amat`` and ``*txt`` through ``numpy.loadtxt``, ``.mat``
    through ``scipy.io.loadmat``; anything else is a pickle (an earlier version of
    pylearn-vae wrote them; ``latin-1`` for Python 2 pickles), read by an unpickler that
    builds only this package's classes, NumPy arrays, dtypes and random generators,
    plain containers and the classes and functions of `allow_modules` (see
    :mod:`pylearn_vae.utils.safe_load` and ``docs/security.md``). Objects without a
    ``yaml_src`` get ``yaml_src = '!pkl: "<absolute path>"'``.

    Parameters
    ----------
    filepath : str
        File to load; ``${NAME}`` and ``~`` are expanded.
    retry : bool
        Retry transient I/O errors (e.g. on network file systems) after 0.5, 1 and 2
        seconds. Pylearn2 ignored this flag (docs/quirks.md#quirk-25).
    allow_modules : str or list of str, optional
        Modules whose classes and functions the pickle may also build (besides
        ``$PYLEARN_VAE_ALLOW_MODULES``), e.g. the module of one's own ``Prior``.
    trusted : bool
        The file is trusted: unpickle it unrestricted (this runs whatever it holds), and
        allow pickled Python objects in ``.npy``/``.npz`` and ``.joblib`` files.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is not a valid pickle (e.g. truncated, or another format).
    pylearn_vae.utils.safe_load.UnsafeFileError
        (a ValueError) The file names a global outside the allowed ones; nothing it
        names was called.
    """
    policy = safe_load.LoadPolicy(allow_modules, trusted)
    filepath = preprocess(filepath)
    attempts = _LOAD_ATTEMPTS if retry else 1
    for attempt in range(attempts):
        try:
            obj = _read(filepath, policy)
            break
        except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
            raise type(e)(e.errno, f"Cannot load {filepath!r}: {e.strerror}", filepath) from e
        except OSError as e:
            if attempt + 1 == attempts:
                raise OSError(e.errno, f"Cannot load {filepath!r}: {e}", filepath) from e
            delay = 0.5 * 2**attempt
            logger.warning("Error loading %s (%s); retrying in %.1f s", filepath, e, delay)
            time.sleep(delay)
    if not hasattr(obj, "yaml_src"):
        try:
            obj.yaml_src = f'!pkl: "{os.path.abspath(filepath)}"'
        except AttributeError:
            pass
    return obj


def _read(filepath, policy):
    _, ext = os.path.splitext(filepath)
    if ext == ".npy" or (ext == ".npz" and not _is_data_file(filepath)):
        return _read_numpy(filepath, policy)
    if ext == ".amat" or filepath.endswith("txt"):
        return np.loadtxt(filepath)
    if ext == ".mat":
        import scipy.io

        return scipy.io.loadmat(filepath)
    if ext == ".joblib" and importlib.util.find_spec("joblib") is not None:
        if not policy.trusted:
            raise safe_load.UnsafeFileError(
                f"{filepath}: refused to load a .joblib file: joblib unpickles without "
                "restriction, which could run any code. If you trust this file, load it "
                "with --trust (trusted=True)"
            )
        import joblib

        return joblib.load(filepath)
    with open(filepath, "rb") as f:
        if datafile.is_data_file(f):
            return datafile.read(f, filepath, policy)
        return _unpickle(f, filepath, policy)


def _is_data_file(filepath):
    with open(filepath, "rb") as f:
        if not datafile.is_data_file(f):
            return False
    with np.load(filepath, allow_pickle=False) as archive:
        return datafile.DESCRIPTION in archive.files


def _read_numpy(filepath, policy):
    try:
        return np.load(filepath, allow_pickle=policy.trusted)
    except ValueError as e:
        if "allow_pickle" not in str(e):
            raise
        raise safe_load.UnsafeFileError(
            f"{filepath}: refused to load an array of pickled Python objects: unpickling "
            "them could run any code. If you trust this file, load it with --trust "
            "(trusted=True)"
        ) from None


def _unpickle(f, filepath, policy):
    try:
        return safe_unpickle(f, filepath, policy)
    except safe_load.UnsafeFileError:
        raise
    except (
        pickle.UnpicklingError, EOFError, ValueError, IndexError, KeyError, OverflowError,
        struct.error,
    ) as e:
        raise ValueError(
            f"{filepath!r} is not a valid pickle file ({type(e).__name__}: {e}); it may "
            "be truncated or in another format"
        ) from e
