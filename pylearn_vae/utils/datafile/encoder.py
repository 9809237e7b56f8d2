"""Writing a data file's description: one pass over the object graph
(:mod:`pylearn_vae.utils.datafile`)."""

import base64
import collections
import copyreg
import math
import numbers
import pathlib

import numpy

from pylearn_vae.utils.datafile.values import (
    BIT_GENERATORS,
    FACTORIES,
    MAX_DEPTH,
    UnsavableError,
    encode_float,
    is_gpu_array,
)

__all__ = ["Encoder"]


_AS_THEY_ARE = frozenset({type(None), bool, int, str})


class Where:
    """Where a value is in the graph (``model.monitor.channels['x']``), formatted only
    when an error names it."""

    __slots__ = ("parent", "form", "key")

    def __init__(self, parent, form, key):
        self.parent, self.form, self.key = parent, form, key

    def __str__(self):
        return f"{self.parent}{self.form.format(self.key)}"


class Encoder:
    """One pass over the object graph: JSON values out, arrays collected."""

    def __init__(self):
        self.arrays = []
        self._array_index = {}  # id(array) -> index
        self._ids = {}  # id(object, list, dict) -> its id in the description
        self._alive = []  # what the ids refer to, so no id is reused while writing
        self._tuples = set()  # tuples being written (a cycle through one is refused)
        self._depth = 0

    def encode(self, value, path):
        kind = type(value)
        if kind in _AS_THEY_ARE:
            return value
        if kind is float:
            return encode_float(value)
        if isinstance(value, numpy.ndarray):
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
            for types, method in ENCODERS:
                if isinstance(value, types):
                    return method(self, value, path)
            if is_gpu_array(value):
                return {"array": self._array(value, path)}
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
        host = numpy.asarray(value.get() if is_gpu_array(value) else value)
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
            return {"scalar": [value.dtype.str, encode_float(value.item())]}
        return {"scalar_array": self._array(numpy.asarray(value), path)}

    def _sequence(self, value, path):
        out = []
        for i, v in enumerate(value):  # most of a long list is plain numbers
            kind = type(v)
            if kind in _AS_THEY_ARE or (kind is float and math.isfinite(v)):
                out.append(v)
            else:
                out.append(self.encode(v, Where(path, "[{}]", i)))
        return out

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
        return {tag: [self.encode(v, Where(path, "{{...}}", None)) for v in value]}

    def _dict(self, value, path):
        if type(value) is dict:
            tag = {}
        elif type(value) is collections.OrderedDict:
            tag = {"ordered": True}
        elif type(value) is collections.defaultdict:
            factory = value.default_factory
            name = "None" if factory is None else getattr(factory, "__name__", "")
            if FACTORIES.get(name, 0) is not factory:
                raise UnsavableError(
                    f"{path} is a defaultdict of {factory!r}: only dict, list, int, float "
                    "and set defaults can be saved as data"
                )
            tag = {"factory": name}
        else:
            return self._object(value, path)
        n = self._remember(value)
        pairs = []
        for k, v in value.items():  # keys are mostly strings, values mostly plain
            kind = type(v)
            if kind not in _AS_THEY_ARE and not (kind is float and math.isfinite(v)):
                v = self.encode(v, Where(path, "[{!r}]", k))
            if type(k) not in _AS_THEY_ARE:
                k = self.encode(k, Where(path, " key", None))
            pairs.append([k, v])
        return {"dict": pairs, "id": n, **tag}

    def _bytes(self, value, path):
        tag = "bytes" if type(value) is bytes else "bytearray"
        return {tag: base64.b64encode(bytes(value)).decode("ascii")}

    def _number(self, value, path):
        if type(value) is complex:
            return {"complex": [encode_float(value.real), encode_float(value.imag)]}
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
        if BIT_GENERATORS.get(name) is not type(value):
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


ENCODERS = (
    (list, Encoder._list),
    (tuple, Encoder._tuple),
    (dict, Encoder._dict),
    ((set, frozenset), Encoder._set),
    ((bytes, bytearray), Encoder._bytes),
    (numbers.Complex, Encoder._number),
    (slice, Encoder._slice),
    (pathlib.PurePath, Encoder._path),
    (numpy.dtype, Encoder._dtype),
    (numpy.random.Generator, Encoder._generator),
    (numpy.random.RandomState, Encoder._random_state),
    (numpy.random.BitGenerator, Encoder._bit_generator),
    (numpy.random.SeedSequence, Encoder._seed_sequence),
    (type, Encoder._global),
    (type(len), Encoder._global),
    (type(encode_float), Encoder._global),
)


