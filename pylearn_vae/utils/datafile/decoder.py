"""Reading a data file's description back into objects, through the allow-list
(:mod:`pylearn_vae.utils.datafile`)."""

import base64
import collections
import io
import pathlib
import zipfile

import numpy

from pylearn_vae.utils import safe_load
from pylearn_vae.utils.datafile.values import (
    BIT_GENERATORS,
    FACTORIES,
    MAX_DEPTH,
    PATHS,
    SPECIAL_FLOATS,
)

__all__ = ["Decoder", "LazyArrays"]


class LazyArrays:
    """The archive's arrays, each read when the description first points to it.

    A member is read whole (its CRC checked), its ``.npy`` header is checked against its
    size (an array cannot ask for more bytes than the member holds, so what is allocated
    stays within the sizes checked against free memory), then it is parsed by
    ``numpy.lib.format.read_array(..., allow_pickle=False)``.
    """

    def __init__(self, archive, filepath):
        self._archive = archive
        self._filepath = filepath
        self._loaded = {}

    def __getitem__(self, index):
        if type(index) is not int or index < 0:
            raise ValueError(f"{self._filepath}: array index {index!r} is not an index")
        if index not in self._loaded:
            self._loaded[index] = self.read_member(f"array_{index}")
        return self._loaded[index]

    def read_member(self, name):
        """The array stored as ``<name>.npy`` (checked as the class docstring says)."""
        try:
            info = self._archive.zip.getinfo(name + ".npy")
        except KeyError:
            raise ValueError(f"{self._filepath}: it refers to {name}, which it lacks") from None
        try:
            raw = self._archive.zip.read(info)
            return self._parse(name, raw)
        except zipfile.BadZipFile as e:
            raise ValueError(f"{self._filepath}: {name} is damaged ({e})") from None
        except safe_load.UnsafeFileError:
            raise
        except ValueError as e:
            raise ValueError(f"{self._filepath}: {name} is not a valid array ({e})") from None

    def _parse(self, name, raw):
        """The array of ``.npy`` bytes ``raw``, a writable copy; as ``numpy.load`` with
        ``allow_pickle=False`` reads it, its header first checked against its size."""
        member = io.BytesIO(raw)
        version = numpy.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = numpy.lib.format.read_array_header_1_0(member)
        else:
            shape, fortran, dtype = numpy.lib.format.read_array_header_2_0(member)
        if dtype.hasobject:
            raise safe_load.UnsafeFileError(
                f"{self._filepath}: {name} is an array of Python objects; data files hold "
                "only arrays of numbers, bools and text"
            )
        count = 1
        for n in shape:
            count *= n
        offset = member.tell()
        if count * dtype.itemsize != len(raw) - offset:
            raise ValueError(
                f"{self._filepath}: {name} claims {count * dtype.itemsize} bytes of "
                f"{shape} {dtype} values but holds {len(raw) - offset}"
            )
        flat = numpy.frombuffer(raw, dtype=dtype, count=count, offset=offset)
        return flat.reshape(shape, order="F" if fortran else "C").copy(order="K")


class Decoder:
    def __init__(self, filepath, policy, arrays):
        self.filepath = filepath
        self.policy = policy
        self.arrays = arrays
        self.ids = {}
        self._classes = {}  # (module, name) -> what the policy found

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
        for tag, method in DECODERS.items():
            if tag in value:
                return method(self, value, depth + 1)
        raise self.fail(f"a value with the unknown tags {sorted(value)[:5]}")

    def many(self, values, depth):
        if not isinstance(values, list):
            raise self.fail(f"a {type(values).__name__} where a list was expected")
        plain = (int, float, str, bool, type(None))  # as they are (most of a history)
        return [v if type(v) in plain else self.decode(v, depth) for v in values]

    def register(self, value, node):
        n = node.get("id")
        if type(n) is not int or n in self.ids:
            raise self.fail(f"the id {str(n)[:40]} is missing or given twice")
        self.ids[n] = value

    def _ref(self, node, depth):
        n = node["ref"]
        if type(n) is not int or n not in self.ids:
            raise self.fail(f"a reference to {str(n)[:40]}, which is not defined before it")
        return self.ids[n]

    def _list(self, node, depth):
        out = []
        self.register(out, node)
        out.extend(self.many(node["list"], depth))
        return out

    def _dict(self, node, depth):
        if "factory" in node:
            factory = node["factory"]
            if not isinstance(factory, str) or factory not in FACTORIES:
                raise self.fail(
                    f"the defaultdict factory {factory!r} is not one of {sorted(FACTORIES)}"
                )
            out = collections.defaultdict(FACTORIES[factory])
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
        if name not in SPECIAL_FLOATS:
            raise self.fail(f"the float {name!r} (expected nan, inf or -inf)")
        return SPECIAL_FLOATS[name]

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
        kind = PATHS.get(node.get("kind"))
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
        if not isinstance(spec, dict) or spec.get("name") not in BIT_GENERATORS:
            raise self.fail(f"a bit generator not among {sorted(BIT_GENERATORS)}")
        seed_seq = self.decode(spec.get("seed_seq"), depth)
        if seed_seq is not None and not isinstance(seed_seq, numpy.random.SeedSequence):
            raise self.fail("a bit generator whose seed sequence is not one")
        generator = BIT_GENERATORS[spec["name"]](seed_seq)
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
        random_state = numpy.random.RandomState(0)  # its state is replaced at once
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
        key = tuple(name)
        if key not in self._classes:
            self._classes[key] = self.policy.find_class(self.filepath, *key)
        return self._classes[key]

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


DECODERS = {
    "ref": Decoder._ref,
    "list": Decoder._list,
    "dict": Decoder._dict,
    "tuple": Decoder._tuple,
    "set": Decoder._set,
    "frozenset": Decoder._set,
    "float": Decoder._float,
    "complex": Decoder._complex,
    "bytes": Decoder._bytes,
    "bytearray": Decoder._bytes,
    "slice": Decoder._slice,
    "path": Decoder._path,
    "array": Decoder._array,
    "scalar": Decoder._scalar,
    "scalar_array": Decoder._scalar_array,
    "dtype": Decoder._dtype,
    "seed_sequence": Decoder._seed_sequence,
    "bit_generator": Decoder._bit_generator,
    "generator": Decoder._generator,
    "random_state": Decoder._random_state,
    "class": Decoder._class,
    "object": Decoder._object,
}


