"""Data-only files: how pylearn-vae saves models, best models and checkpoints.

A pickle names the functions that rebuild it, so opening one can run code the file
chose. A *data file* cannot: it is a ZIP archive in NumPy's ``.npz`` layout holding

- ``description``: a JSON text (as bytes) that describes the saved object graph: plain
  values, containers, and for each object of a class only the class's dotted name and
  its state;
- ``array_0``, ``array_1``, ...: the arrays the description points to, read by
  ``numpy.load(..., allow_pickle=False)`` (no object arrays).

Reading rebuilds each object as pickle would without its ``__reduce__`` callables: the
class is looked up through the same allow-list as YAML files and pickles
(:class:`pylearn_vae.utils.safe_load.LoadPolicy`, checked *before* anything is
imported), created with ``cls.__new__(cls)`` and given its state with ``__setstate__``
(or ``__dict__.update``). No other function named by the file is ever called; NumPy
random generators, dtypes and scalars are rebuilt from fixed tables. Sizes are checked
before anything is allocated (the archive's declared sizes against free memory, the
description's length, nesting depth and integer lengths against fixed limits).

The description, one JSON value per Python value::

    null, true, 1, 2.5, "text"      None, bools, ints, finite floats, str
    {"float": "nan"}                 nan, inf, -inf
    {"list": [...], "id": 3}         list (``id`` keeps shared and cyclic references)
    {"dict": [[k, v], ...], "id": 4} dict ("ordered": true: an OrderedDict; "factory":
                                     "list": a defaultdict(list))
    {"tuple": [...]}                 tuple (also "set", "frozenset")
    {"ref": 3}                       the list, dict or object with ``"id": 3``
    {"array": 0}                     the array ``array_0`` (the same index: the same array)
    {"scalar": ["<f4", 0.5]}         a NumPy scalar ("scalar_array": 1 when not exact in JSON)
    {"dtype": "<f4"}                 a NumPy dtype (plain number, bool and text types)
    {"object": [module, qualname], "id": 5, "state": ..., "args": [...]}
    {"class": [module, qualname]}    a class itself (allow-list, or a NumPy scalar type)
    {"generator": ..., "random_state": ..., "bit_generator": ..., "seed_sequence": ...}
    {"bytes": "base64"}, {"bytearray": ...}, {"complex": [re, im]}, {"slice": [a, b, c]},
    {"path": "...", "kind": "PosixPath"}

Writing refuses, naming the attribute path (``model.monitor.channels['x']...``), what
it cannot describe as data: functions of a module, objects that pickle through their
own ``__reduce__``, object arrays.
"""

import errno
import io
import json
import zipfile

import numpy

from pylearn_vae.utils import safe_load
from pylearn_vae.utils.datafile.decoder import Decoder, LazyArrays
from pylearn_vae.utils.datafile.encoder import Encoder
from pylearn_vae.utils.datafile.values import (
    DESCRIPTION,
    FORMAT,
    MAGIC,
    MAX_ARRAYS,
    MAX_DEPTH,
    MAX_DESCRIPTION_BYTES,
    MAX_INT_DIGITS,
    VERSION,
    UnsavableError,
)
from pylearn_vae.utils.memory import available_memory

__all__ = [
    "DESCRIPTION",
    "FORMAT",
    "MAGIC",
    "MAX_DEPTH",
    "UnsavableError",
    "is_data_file",
    "read",
    "to_bytes",
    "write",
]


def is_data_file(file):
    """Whether the open binary ``file`` (at its start) is a ZIP archive; it is rewound."""
    start = file.tell()
    head = file.read(len(MAGIC))
    file.seek(start)
    return head == MAGIC


# -- writing ---------------------------------------------------------------------------------


def write(file, obj, root="the object"):
    """Write ``obj`` as a data file to the open, seekable binary ``file``.

    Parameters
    ----------
    file : file object
    obj : object
        Plain values, containers, NumPy arrays, scalars, dtypes and generators, and
        objects whose classes pickle by their state (the default, or ``__getstate__``).
    root : str
        How errors name ``obj`` (``'the model'``).

    Raises
    ------
    UnsavableError
        (a TypeError) Naming the attribute path of what cannot be saved as data.
    """
    encoder = Encoder()
    description = {"format": FORMAT, "version": VERSION, "root": encoder.encode(obj, root)}
    text = json.dumps(description, separators=(",", ":"), allow_nan=False)
    arrays = {f"array_{i}": a for i, a in enumerate(encoder.arrays)}
    arrays[DESCRIPTION] = numpy.frombuffer(text.encode("utf-8"), dtype=numpy.uint8)
    archive = io.BytesIO()  # built in memory: ZIP's seeks would flush a file's buffer
    numpy.savez(archive, **arrays)
    file.write(archive.getbuffer())


# -- reading ---------------------------------------------------------------------------------


def read(file, filepath, policy):
    """The object a data file describes.

    Parameters
    ----------
    file : str or file object
        The data file (a path, or an open seekable binary file).
    filepath : str
        Named in errors.
    policy : pylearn_vae.utils.safe_load.LoadPolicy
        Which classes the file may build.

    Raises
    ------
    pylearn_vae.utils.safe_load.UnsafeFileError
        The file names a class outside the allow-list, or asks for more than the limits.
    ValueError
        The file is not a valid data file (truncated, or its description is wrong).
    """
    try:
        archive = numpy.load(file, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise ValueError(f"{filepath}: not a valid data file ({e})") from None
    with archive:
        try:
            description = _description(archive, filepath)
            arrays = _arrays(archive, filepath)
            return Decoder(filepath, policy, arrays).decode_root(description)
        except ValueError:
            raise
        except (TypeError, KeyError, AttributeError, IndexError, OverflowError) as e:
            # The state of an object did not fit its class (__setstate__ refused it).
            raise ValueError(
                f"{filepath}: a value does not fit where it is ({type(e).__name__}: {e})"
            ) from None
        except (zipfile.BadZipFile, EOFError) as e:
            raise ValueError(f"{filepath}: a damaged data file ({e})") from None
        except OSError as e:
            if e.errno not in (None, errno.EINVAL):
                raise  # a real I/O error, which serial.load may retry
            raise ValueError(f"{filepath}: a damaged data file ({e})") from None


def _description(archive, filepath):
    if not isinstance(archive, numpy.lib.npyio.NpzFile) or DESCRIPTION not in archive.files:
        raise ValueError(f"{filepath}: a ZIP archive without a pylearn_vae description")
    info = archive.zip.getinfo(DESCRIPTION + ".npy")
    if info.file_size > MAX_DESCRIPTION_BYTES:
        raise safe_load.UnsafeFileError(
            f"{filepath}: its description is {info.file_size} bytes, over the limit of "
            f"{MAX_DESCRIPTION_BYTES}: not a file pylearn_vae wrote"
        )
    free = available_memory()
    if free is not None and 30 * info.file_size > free:  # Python objects of parsed JSON
        raise safe_load.UnsafeFileError(
            f"{filepath}: reading its description of {info.file_size / 2**20:.0f} MiB could "
            f"take more than the {free / 2**30:.1f} GiB of free memory"
        )
    raw = LazyArrays(archive, filepath).read_member(DESCRIPTION)
    if raw.dtype != numpy.uint8 or raw.ndim != 1:
        raise ValueError(f"{filepath}: its description is not text")
    try:
        description = json.loads(
            raw.tobytes().decode("utf-8"), parse_int=_int, parse_constant=_constant
        )
    except RecursionError:
        raise safe_load.UnsafeFileError(
            f"{filepath}: its description is nested too deeply to read"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{filepath}: its description is not valid JSON ({e})") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise ValueError(f"{filepath}: not a pylearn_vae data file")
    if description.get("version") != VERSION:
        raise ValueError(
            f"{filepath} is a data file of version {description.get('version')!r}; this "
            f"pylearn_vae reads version {VERSION}: use the pylearn_vae that wrote it"
        )
    return description


def _int(text):
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits (the limit is {MAX_INT_DIGITS})")
    return int(text)


def _constant(name):
    raise ValueError(f"{name} is not JSON")


def _arrays(archive, filepath):
    """The archive's arrays, lazily, once their declared sizes are known to fit."""
    infos = archive.zip.infolist()
    if len(infos) > MAX_ARRAYS:
        raise safe_load.UnsafeFileError(f"{filepath}: {len(infos)} arrays, over {MAX_ARRAYS}")
    total = sum(info.file_size for info in infos)
    free = available_memory()
    if free is not None and total > free:
        raise safe_load.UnsafeFileError(
            f"{filepath}: its arrays take {total / 2**30:.1f} GiB, more than the "
            f"{free / 2**30:.1f} GiB of free memory"
        )
    return LazyArrays(archive, filepath)



def to_bytes(obj):
    """``obj`` as the bytes of a data file (for tests and fuzzing)."""
    buffer = io.BytesIO()
    write(buffer, obj)
    return buffer.getvalue()
