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
    {"dict": [[k, v], ...], "id": 4} dict (also "ordered_dict"; "defaultdict" + "factory")
    {"tuple": [...]}                 tuple (also "set", "frozenset")
    {"ref": 3}                       the list, dict or object with ``"id": 3``
    {"array": 0}                     the array ``array_0`` (the same index: the same array)
    {"scalar": ["<f4", 0.5]}         a NumPy scalar
    {"dtype": "<f4"}                 a NumPy dtype (plain number, bool and text types)
    {"object": [module, qualname], "id": 5, "state": ..., "args": [...]}
    {"class": [module, qualname]}    a class itself (allow-list, or a NumPy scalar type)
    {"generator": ..., "random_state": ..., "bit_generator": ..., "seed_sequence": ...}
    {"bytes": "base64"}, {"complex": [re, im]}, {"slice": [a, b, c]}, {"path": "..."}

Writing refuses, naming the attribute path (``model.monitor.channels['x']...``), what
it cannot describe as data: functions of a module, objects that pickle through their
own ``__reduce__``, object arrays.
"""

import base64
import collections
import copyreg
import io
import json
import numbers
import pathlib
import zipfile

import numpy

from pylearn_vae.utils import safe_load
from pylearn_vae.utils.memory import available_memory

__all__ = ["DESCRIPTION", "FORMAT", "MAGIC", "UnsavableError", "is_data_file", "read", "write"]

FORMAT = "pylearn_vae data"
VERSION = 1
MAGIC = b"PK\x03\x04"  # a ZIP archive's first bytes
DESCRIPTION = "description"

#: Limits on what a file may ask of the reader.
MAXDESCRIPTION_BYTES = 256 * 2**20
MAX_DEPTH = 100
MAX_INT_DIGITS = 400
MAX_ARRAYS = 1_000_000

_BIT_GENERATORS = {
    name: getattr(numpy.random, name)
    for name in ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")
}
_FACTORIES = {"dict": dict, "list": list, "int": int, "float": float, "set": set, "None": None}
_PATHS = {
    cls.__name__: cls
    for cls in (
        pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.PosixPath, pathlib.WindowsPath
    )
}
_SPECIAL_FLOATS = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


class UnsavableError(TypeError):
    """Something in the object to save cannot be described as data (the message names
    where it is, what it is and what to do)."""


def is_data_file(file):
    """Whether the open binary ``file`` (at its start) is a ZIP archive; it is rewound."""
    start = file.tell()
    head = file.read(len(MAGIC))
    file.seek(start)
    return head == MAGIC


# -- writing -----------------------------------------------------------------------------------


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
    encoder = _Encoder()
    description = {"format": FORMAT, "version": VERSION, "root": encoder.encode(obj, root)}
    text = json.dumps(description, separators=(",", ":"), allow_nan=False)
    arrays = {f"array_{i}": a for i, a in enumerate(encoder.arrays)}
    arrays[DESCRIPTION] = numpy.frombuffer(text.encode("utf-8"), dtype=numpy.uint8)
    numpy.savez(file, **arrays)


class _Encoder:
    """One pass over the object graph: JSON values out, arrays collected."""

    def __init__(self):
        self.arrays = []
        self._array_index = {}  # id(array) -> index
        self._ids = {}  # id(object, list, dict) -> its id in the description
        self._alive = []  # what the ids refer to, so no id is reused while writing
        self._tuples = set()  # tuples being written (a cycle through one is refused)
        self._depth = 0

    def encode(self, value, path):
        if value is None or isinstance(value, (bool, str)):
            return value
        kind = type(value)
        if kind is int:
            return value
        if kind is float:
            return _float(value)
        if isinstance(value, numpy.ndarray) or _is_gpu_array(value):
            return {"array": self._array(value, path)}
        if isinstance(value, numpy.generic):
            return self._scalar(value, path)
        if id(value) in self._ids:
            return {"ref": self._ids[id(value)]}
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise UnsavableError(
                f"{path} is nested more than {MAX_DEPTH} containers or objects deep, more "
                "than a data file holds: flatten it"
            )
        try:
            for types, method in _ENCODERS:
                if isinstance(value, types):
                    return method(self, value, path)
            return self._object(value, path)
        finally:
            self._depth -= 1

    def _remember(self, value):
        self._alive.append(value)
        self._ids[id(value)] = len(self._ids)
        return self._ids[id(value)]

    def _array(self, value, path):
        if id(value) in self._array_index:
            return self._array_index[id(value)]
        host = numpy.asarray(value.get() if _is_gpu_array(value) else value)
        if host.dtype.hasobject or host.dtype.names is not None or host.dtype.kind == "V":
            raise UnsavableError(
                f"{path} is an array of {host.dtype} values: only arrays of numbers, bools "
                "and text can be saved as data"
            )
        self._alive.append(value)
        self._array_index[id(value)] = len(self.arrays)
        self.arrays.append(host)
        return self._array_index[id(value)]

    def _scalar(self, value, path):
        if value.dtype.kind in "biuf" and value.dtype.itemsize <= 8:
            return {"scalar": [value.dtype.str, _float(value.item())]}
        return {"scalar_array": self._array(numpy.asarray(value), path)}

    def _sequence(self, value, path):
        return [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]

    def _list(self, value, path):
        if type(value) is not list:
            return self._object(value, path)
        n = self._remember(value)
        return {"list": self._sequence(value, path), "id": n}

    def _tuple(self, value, path):
        if type(value) is not tuple:  # a namedtuple: an object of its class
            return self._object(value, path)
        if id(value) in self._tuples:
            raise UnsavableError(f"{path} is a tuple that contains itself: save a list instead")
        self._tuples.add(id(value))
        try:
            return {"tuple": self._sequence(value, path)}
        finally:
            self._tuples.discard(id(value))

    def _set(self, value, path):
        tag = "frozenset" if isinstance(value, frozenset) else "set"
        if type(value) not in (set, frozenset):
            return self._object(value, path)
        return {tag: [self.encode(v, f"{path}{{...}}") for v in value]}

    def _dict(self, value, path):
        if type(value) is dict:
            tag = {}
        elif type(value) is collections.OrderedDict:
            tag = {"ordered": True}
        elif type(value) is collections.defaultdict:
            factory = value.default_factory
            name = "None" if factory is None else getattr(factory, "__name__", "")
            if _FACTORIES.get(name, 0) is not factory:
                raise UnsavableError(
                    f"{path} is a defaultdict of {factory!r}: only dict, list, int, float "
                    "and set defaults can be saved as data"
                )
            tag = {"factory": name}
        else:
            return self._object(value, path)
        n = self._remember(value)
        pairs = [
            [self.encode(k, f"{path} key"), self.encode(v, f"{path}[{k!r}]")]
            for k, v in value.items()
        ]
        return {"dict": pairs, "id": n, **tag}

    def _bytes(self, value, path):
        tag = "bytes" if type(value) is bytes else "bytearray"
        return {tag: base64.b64encode(bytes(value)).decode("ascii")}

    def _number(self, value, path):
        if type(value) is complex:
            return {"complex": [_float(value.real), _float(value.imag)]}
        return self._object(value, path)

    def _slice(self, value, path):
        parts = (value.start, value.stop, value.step)
        return {"slice": [self.encode(v, f"{path}.slice") for v in parts]}

    def _path(self, value, path):
        return {"path": str(value), "kind": type(value).__name__}

    def _dtype(self, value, path):
        if value.hasobject or value.names is not None or value.kind == "V" or value.subdtype:
            raise UnsavableError(f"{path} is the dtype {value}: only plain dtypes are data")
        return {"dtype": value.str}

    def _generator(self, value, path):
        return {"generator": self.encode(value.bit_generator, f"{path}.bit_generator")}

    def _random_state(self, value, path):
        return {"random_state": self.encode(value.get_state(legacy=False), f"{path}.state")}

    def _bit_generator(self, value, path):
        name = type(value).__name__
        if _BIT_GENERATORS.get(name) is not type(value):
            raise UnsavableError(f"{path} is a {name}: not a bit generator of NumPy")
        seed_seq = getattr(value, "seed_seq", None)
        return {
            "bit_generator": {
                "name": name,
                "state": self.encode(value.state, f"{path}.state"),
                "seed_seq": self.encode(seed_seq, f"{path}.seed_seq"),
            }
        }

    def _seed_sequence(self, value, path):
        return {
            "seed_sequence": {
                "entropy": self.encode(value.entropy, f"{path}.entropy"),
                "spawn_key": self.encode(tuple(value.spawn_key), f"{path}.spawn_key"),
                "pool_size": value.pool_size,
                "n_children_spawned": value.n_children_spawned,
            }
        }

    def _global(self, value, path):
        module = getattr(value, "__module__", None)
        name = getattr(value, "__qualname__", None)
        if not isinstance(value, type) or not module or "<" in (name or "<"):
            raise UnsavableError(
                f"{path} is {value!r}: a function or other code cannot be saved as data; "
                "keep a name or a setting instead"
            )
        return {"class": [module, name]}

    def _object(self, value, path):
        cls = type(value)
        try:
            reduced = value.__reduce_ex__(4)
        except TypeError as e:
            raise UnsavableError(f"{path} ({cls.__name__}) cannot be saved: {e}") from None
        if isinstance(reduced, str) or reduced[0] is not copyreg.__newobj__:
            raise UnsavableError(
                f"{path} is a {cls.__module__}.{cls.__qualname__}, which pickles through "
                "its own __reduce__: it cannot be saved as data; give the class a "
                "__getstate__/__setstate__ pair instead"
            )
        args = reduced[1][1:]
        state = reduced[2] if len(reduced) > 2 else None
        n = self._remember(value)
        out = {"object": [cls.__module__, cls.__qualname__], "id": n}
        if args:
            out["args"] = [self.encode(a, f"{path}(argument {i})") for i, a in enumerate(args)]
        if state is not None:
            self._alive.append(state)
            out["state"] = self.encode(state, path)
        for key, index in (("items", 3), ("dict_items", 4)):
            items = reduced[index] if len(reduced) > index else None
            if items is not None:
                items = list(items)
                self._alive.append(items)
                out[key] = self.encode(items, f"{path} items")
        return out


_ENCODERS = (
    (list, _Encoder._list),
    (tuple, _Encoder._tuple),
    (dict, _Encoder._dict),
    ((set, frozenset), _Encoder._set),
    ((bytes, bytearray), _Encoder._bytes),
    (numbers.Complex, _Encoder._number),
    (slice, _Encoder._slice),
    (pathlib.PurePath, _Encoder._path),
    (numpy.dtype, _Encoder._dtype),
    (numpy.random.Generator, _Encoder._generator),
    (numpy.random.RandomState, _Encoder._random_state),
    (numpy.random.BitGenerator, _Encoder._bit_generator),
    (numpy.random.SeedSequence, _Encoder._seed_sequence),
    (type, _Encoder._global),
    (type(len), _Encoder._global),
    (type(write), _Encoder._global),
)


def _float(value):
    if isinstance(value, float) and value != value:
        return {"float": "nan"}
    if value in (float("inf"), float("-inf")):
        return {"float": "inf" if value > 0 else "-inf"}
    return value


def _is_gpu_array(value):
    return type(value).__module__.split(".")[0] == "cupy" and hasattr(value, "get")


# -- reading -----------------------------------------------------------------------------------


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
        description = _description(archive, filepath)
        arrays = _arrays(archive, filepath)
        try:
            return _Decoder(filepath, policy, arrays).decode_root(description)
        except ValueError:
            raise
        except (TypeError, KeyError, AttributeError, IndexError, OverflowError) as e:
            # The state of an object did not fit its class (__setstate__ refused it).
            raise ValueError(
                f"{filepath}: a value does not fit where it is ({type(e).__name__}: {e})"
            ) from None


def _description(archive, filepath):
    if not isinstance(archive, numpy.lib.npyio.NpzFile) or DESCRIPTION not in archive.files:
        raise ValueError(f"{filepath}: a ZIP archive without a pylearn_vae description")
    info = archive.zip.getinfo(DESCRIPTION + ".npy")
    if info.file_size > MAXDESCRIPTION_BYTES:
        raise safe_load.UnsafeFileError(
            f"{filepath}: its description is {info.file_size} bytes, over the limit of "
            f"{MAXDESCRIPTION_BYTES}: not a file pylearn_vae wrote"
        )
    raw = archive[DESCRIPTION]
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
    return _LazyArrays(archive, filepath)


class _LazyArrays:
    def __init__(self, archive, filepath):
        self._archive = archive
        self._filepath = filepath
        self._loaded = {}

    def __getitem__(self, index):
        if type(index) is not int or index < 0:
            raise ValueError(f"{self._filepath}: array index {index!r} is not an index")
        if index not in self._loaded:
            name = f"array_{index}"
            if name not in self._archive.files:
                raise ValueError(f"{self._filepath}: it refers to {name}, which it lacks")
            try:
                self._check_size(name)
                self._loaded[index] = self._archive[name]
            except zipfile.BadZipFile as e:
                raise ValueError(f"{self._filepath}: {name} is damaged ({e})") from None
            except ValueError as e:
                if "allow_pickle" in str(e):
                    raise safe_load.UnsafeFileError(
                        f"{self._filepath}: {name} is an array of Python objects; data "
                        "files hold only arrays of numbers, bools and text"
                    ) from None
                raise ValueError(f"{self._filepath}: {name} is not a valid array ({e})") from None
        return self._loaded[index]


    def _check_size(self, name):
        """Refuse an array whose header asks for more bytes than its member holds (so
        the bytes allocated stay within the sizes checked against free memory)."""
        info = self._archive.zip.getinfo(name + ".npy")
        with self._archive.zip.open(info) as member:
            version = numpy.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = numpy.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = numpy.lib.format.read_array_header_2_0(member)
            data_bytes = info.file_size - member.tell()
        count = 1
        for n in shape:
            count *= n
        if count * dtype.itemsize > data_bytes:
            raise ValueError(
                f"{self._filepath}: {name} claims {count * dtype.itemsize} bytes of "
                f"{shape} {dtype} values but holds {data_bytes}"
            )


class _Decoder:
    def __init__(self, filepath, policy, arrays):
        self.filepath = filepath
        self.policy = policy
        self.arrays = arrays
        self.ids = {}

    def decode_root(self, description):
        if "root" not in description:
            raise ValueError(f"{self.filepath}: its description has no root")
        return self.decode(description["root"], 0)

    def fail(self, message):
        return ValueError(f"{self.filepath}: {message}")

    def decode(self, value, depth):
        if depth > MAX_DEPTH:
            raise safe_load.UnsafeFileError(
                f"{self.filepath}: values nested deeper than {MAX_DEPTH}: not a file "
                "pylearn_vae wrote"
            )
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            raise self.fail("a bare JSON list where a tagged value was expected")
        for tag, method in _DECODERS.items():
            if tag in value:
                return method(self, value, depth + 1)
        raise self.fail(f"a value with the unknown tags {sorted(value)[:5]}")

    def many(self, values, depth):
        if not isinstance(values, list):
            raise self.fail(f"a {type(values).__name__} where a list was expected")
        return [self.decode(v, depth) for v in values]

    def register(self, value, node):
        n = node.get("id")
        if type(n) is not int or n in self.ids:
            raise self.fail(f"the id {n!r} is missing or given twice")
        self.ids[n] = value

    def _ref(self, node, depth):
        n = node["ref"]
        if type(n) is not int or n not in self.ids:
            raise self.fail(f"a reference to {n!r}, which is not defined before it")
        return self.ids[n]

    def _list(self, node, depth):
        out = []
        self.register(out, node)
        out.extend(self.many(node["list"], depth))
        return out

    def _dict(self, node, depth):
        if "factory" in node:
            factory = node["factory"]
            if not isinstance(factory, str) or factory not in _FACTORIES:
                raise self.fail(
                    f"the defaultdict factory {factory!r} is not one of {sorted(_FACTORIES)}"
                )
            out = collections.defaultdict(_FACTORIES[factory])
        else:
            out = collections.OrderedDict() if node.get("ordered") else {}
        self.register(out, node)
        for pair in self.many_pairs(node["dict"]):
            key = self.decode(pair[0], depth)
            try:
                out[key] = self.decode(pair[1], depth)
            except TypeError as e:  # an unhashable key
                raise self.fail(f"a dict key that cannot be one ({e})") from None
        return out

    def many_pairs(self, pairs):
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 for p in pairs
        ):
            raise self.fail("a dict that is not a list of [key, value] pairs")
        return pairs

    def _tuple(self, node, depth):
        return tuple(self.many(node["tuple"], depth))

    def _set(self, node, depth):
        kind = set if "set" in node else frozenset
        try:
            return kind(self.many(node.get("set", node.get("frozenset")), depth))
        except TypeError as e:
            raise self.fail(f"a set of unhashable values ({e})") from None

    def _float(self, node, depth):
        name = node["float"]
        if name not in _SPECIAL_FLOATS:
            raise self.fail(f"the float {name!r} (expected nan, inf or -inf)")
        return _SPECIAL_FLOATS[name]

    def _complex(self, node, depth):
        parts = self.many(node["complex"], depth)
        if len(parts) != 2 or not all(isinstance(p, (int, float)) for p in parts):
            raise self.fail("a complex number that is not [real, imaginary]")
        return complex(*parts)

    def _bytes(self, node, depth):
        text = node.get("bytes", node.get("bytearray"))
        try:
            data = base64.b64decode(text, validate=True)
        except (TypeError, ValueError) as e:
            raise self.fail(f"bytes that are not base64 ({e})") from None
        return data if "bytes" in node else bytearray(data)

    def _slice(self, node, depth):
        parts = self.many(node["slice"], depth)
        if len(parts) != 3:
            raise self.fail("a slice that is not [start, stop, step]")
        return slice(*parts)

    def _path(self, node, depth):
        kind = _PATHS.get(node.get("kind"))
        if kind is None or not isinstance(node["path"], str):
            raise self.fail(f"a path of kind {node.get('kind')!r}")
        try:
            return kind(node["path"])
        except NotImplementedError:  # a WindowsPath read on POSIX, or the reverse
            return pathlib.PurePath(node["path"])

    def _array(self, node, depth):
        return self.arrays[node["array"]]

    def _scalar(self, node, depth):
        spec = node["scalar"]
        if not isinstance(spec, list) or len(spec) != 2:
            raise self.fail("a scalar that is not [dtype, value]")
        dtype = self.dtype(spec[0])
        value = self.decode(spec[1], depth)
        if dtype.kind not in "biuf" or not isinstance(value, (bool, int, float)):
            raise self.fail(f"a {dtype} scalar of value {value!r}")
        try:
            return dtype.type(value)
        except (OverflowError, ValueError) as e:
            raise self.fail(f"a {dtype} scalar of value {value!r} ({e})") from None

    def _scalar_array(self, node, depth):
        array = self.arrays[node["scalar_array"]]
        if array.ndim != 0:
            raise self.fail("a scalar stored as an array of more than one value")
        return array[()]

    def dtype(self, spec):
        if not isinstance(spec, str) or len(spec) > 40:
            raise self.fail(f"the dtype {str(spec)[:40]!r}")
        return safe_load.checked_dtype(self.filepath, spec)

    def _dtype(self, node, depth):
        return self.dtype(node["dtype"])

    def _seed_sequence(self, node, depth):
        spec = node["seed_sequence"]
        fields = ("entropy", "spawn_key", "pool_size", "n_children_spawned")
        if not isinstance(spec, dict) or set(spec) != set(fields):
            raise self.fail(f"a SeedSequence without the fields {fields}")
        entropy = self.decode(spec["entropy"], depth)
        spawn_key = self.decode(spec["spawn_key"], depth)
        sizes = (spec["pool_size"], spec["n_children_spawned"])
        if not all(type(n) is int and 0 <= n < 2**31 for n in sizes) or sizes[0] > 2**16:
            raise self.fail(f"a SeedSequence of pool size and children {sizes}")
        try:
            return numpy.random.SeedSequence(
                entropy, spawn_key=spawn_key, pool_size=sizes[0], n_children_spawned=sizes[1]
            )
        except (TypeError, ValueError) as e:
            raise self.fail(f"a SeedSequence that NumPy refuses ({e})") from None

    def _bit_generator(self, node, depth):
        spec = node["bit_generator"]
        if not isinstance(spec, dict) or spec.get("name") not in _BIT_GENERATORS:
            raise self.fail(f"a bit generator not among {sorted(_BIT_GENERATORS)}")
        seed_seq = self.decode(spec.get("seed_seq"), depth)
        if seed_seq is not None and not isinstance(seed_seq, numpy.random.SeedSequence):
            raise self.fail("a bit generator whose seed sequence is not one")
        generator = _BIT_GENERATORS[spec["name"]](seed_seq)
        state = self.decode(spec.get("state"), depth)
        try:
            generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            raise self.fail(f"a {spec['name']} state that NumPy refuses ({e})") from None
        return generator

    def _generator(self, node, depth):
        bit_generator = self.decode(node["generator"], depth)
        if not isinstance(bit_generator, numpy.random.BitGenerator):
            raise self.fail("a Generator without a bit generator")
        return numpy.random.Generator(bit_generator)

    def _random_state(self, node, depth):
        state = self.decode(node["random_state"], depth)
        if not isinstance(state, dict):
            raise self.fail("a RandomState whose state is not a dict")
        random_state = numpy.random.RandomState()
        try:
            random_state.set_state(state)
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            raise self.fail(f"a RandomState state that NumPy refuses ({e})") from None
        return random_state

    def global_(self, name):
        if not (
            isinstance(name, list)
            and len(name) == 2
            and all(isinstance(part, str) and 0 < len(part) < 300 for part in name)
        ):
            raise self.fail(f"the class name {str(name)[:80]!r} is not [module, name]")
        return self.policy.find_class(self.filepath, *name)

    def _class(self, node, depth):
        name = node["class"]
        table = safe_load.yaml_names()
        if isinstance(name, list) and len(name) == 2 and ".".join(map(str, name)) in table:
            return table[".".join(name)]
        return self.global_(name)

    def _object(self, node, depth):
        cls = self.global_(node["object"])
        if not isinstance(cls, type):
            raise self.fail(f"{'.'.join(node['object'])} is not a class")
        args = self.many(node.get("args", []), depth)
        try:
            obj = cls.__new__(cls, *args)
        except (TypeError, ValueError) as e:
            raise self.fail(f"cannot create a {cls.__qualname__} ({e})") from None
        self.register(obj, node)
        if "state" in node:
            self.set_state(obj, self.decode(node["state"], depth))
        for item in self.decoded_list(node, "items", depth):
            obj.append(item)
        for pair in self.decoded_list(node, "dict_items", depth):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise self.fail(f"a {cls.__qualname__}'s items are not (key, value) pairs")
            obj[pair[0]] = pair[1]
        return obj

    def decoded_list(self, node, key, depth):
        if key not in node:
            return []
        items = self.decode(node[key], depth)
        if not isinstance(items, list):
            raise self.fail(f"the {key} of an object are not a list")
        return items

    def set_state(self, obj, state):
        setstate = getattr(obj, "__setstate__", None)
        if setstate is not None:
            setstate(state)
            return
        slots = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slots = state
        if state:
            if not isinstance(state, dict):
                raise self.fail(f"the state of a {type(obj).__qualname__} is not a dict")
            obj.__dict__.update(state)
        if slots:
            if not isinstance(slots, dict):
                raise self.fail(f"the slots of a {type(obj).__qualname__} are not a dict")
            for key, value in slots.items():
                setattr(obj, key, value)


_DECODERS = {
    "ref": _Decoder._ref,
    "list": _Decoder._list,
    "dict": _Decoder._dict,
    "tuple": _Decoder._tuple,
    "set": _Decoder._set,
    "frozenset": _Decoder._set,
    "float": _Decoder._float,
    "complex": _Decoder._complex,
    "bytes": _Decoder._bytes,
    "bytearray": _Decoder._bytes,
    "slice": _Decoder._slice,
    "path": _Decoder._path,
    "array": _Decoder._array,
    "scalar": _Decoder._scalar,
    "scalar_array": _Decoder._scalar_array,
    "dtype": _Decoder._dtype,
    "seed_sequence": _Decoder._seed_sequence,
    "bit_generator": _Decoder._bit_generator,
    "generator": _Decoder._generator,
    "random_state": _Decoder._random_state,
    "class": _Decoder._class,
    "object": _Decoder._object,
}


def to_bytes(obj):
    """``obj`` as the bytes of a data file (for tests and fuzzing)."""
    buffer = io.BytesIO()
    write(buffer, obj)
    return buffer.getvalue()
