"""Data files (pylearn_vae.utils.datafile): what is saved comes back equal, shared and
cyclic references included; what is not data is refused on writing, naming where it is;
and a file can name no callable, no class off the allow-list, and no more memory or
nesting than the limits."""

import collections
import io
import math
import pathlib
import subprocess
import sys
import threading

import numpy as np
import pytest
from yaml_helpers import Point

from pylearn_vae.testing.crafted import data_file, npy_bytes
from pylearn_vae.utils import datafile, serial
from pylearn_vae.utils.safe_load import LoadPolicy, UnsafeFileError

Pair = collections.namedtuple("Pair", "a b")


def _round_trip(obj):
    policy = LoadPolicy(allow_modules=["test_datafile", "yaml_helpers"])
    return datafile.read(io.BytesIO(datafile.to_bytes(obj)), "x.pkl", policy)


def _read(data, policy=None):
    return datafile.read(io.BytesIO(data), "x.pkl", policy or LoadPolicy())


def test_plain_values_come_back_equal_and_of_the_same_types():
    value = {
        "none": None, "flag": True, "int": 2**100, "float": 0.1, "nan": math.nan,
        "inf": -math.inf, "text": "é", "bytes": b"\x00\xff", "bytearray": bytearray(b"ab"),
        "complex": 1 + 2j, "tuple": (1, (2,)), "set": {1, 2}, "frozenset": frozenset("ab"),
        "slice": slice(1, None, 2), "path": pathlib.PurePosixPath("/a/b"),
        ("tuple", "key"): 1, 3: "int key",
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "default": collections.defaultdict(list, {"x": [1]}),
        "f32": np.float32(0.1), "i8": np.int8(-3), "bool_": np.bool_(True),
        "f16": np.float16(1.5), "longdouble": np.longdouble(1) / 3,
        "dtype": np.dtype(">f4"), "class": np.float32, "pair": Pair(1, [2]),
    }
    back = _round_trip(value)
    assert list(back) == list(value)
    for key, original in value.items():
        got = back[key]
        assert type(got) is type(original), key
        if key == "nan":
            assert math.isnan(got)
        else:
            assert got == original, key
    assert back["default"].default_factory is list
    assert list(back["ordered"]) == ["b", "a"]


def test_arrays_keep_dtype_shape_and_sharing():
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    back = _round_trip({"w": w, "again": w, "view": w.T, "empty": np.zeros((0, 5), np.int64)})
    assert back["w"] is back["again"]
    np.testing.assert_array_equal(back["view"], w.T)
    assert back["w"].dtype == np.float32 and back["empty"].shape == (0, 5)


def test_shared_and_cyclic_references_are_kept():
    shared = [1]
    a = Point(shared)
    b = Point(a, y=shared)
    a.y = b  # a cycle through two objects
    loop = []
    loop.append(loop)
    back = _round_trip({"a": a, "b": b, "loop": loop})
    assert back["a"].y is back["b"] and back["b"].x is back["a"]
    assert back["a"].x is back["b"].y
    assert back["loop"][0] is back["loop"]


@pytest.mark.parametrize("make", [
    lambda: np.random.default_rng(5),
    lambda: np.random.Generator(np.random.MT19937(5)),
    lambda: np.random.Generator(np.random.Philox(5)),
    lambda: np.random.RandomState(5),
])
def test_random_generators_continue_where_they_stopped(make):
    rng = make()
    rng.standard_normal(7)  # the RandomState also caches a Gaussian
    back = _round_trip(rng)
    assert type(back) is type(rng)
    np.testing.assert_array_equal(back.standard_normal(5), rng.standard_normal(5))
    if hasattr(rng, "bit_generator") and rng.bit_generator.seed_seq is not None:
        child, back_child = rng.spawn(1)[0], back.spawn(1)[0]
        assert child.random() == back_child.random()


def test_the_main_models_files_load_equal_to_their_pickles(tmp_path):
    from pylearn_vae.config import yaml_parse

    train = yaml_parse.load_train_file(str(pathlib.Path(__file__).parent.parent / "docs"
                                           / "tutorial_tiny.yaml"))
    model = train.model
    serial.save(str(tmp_path / "m.pkl"), model)
    back = serial.load(str(tmp_path / "m.pkl"))
    assert type(back) is type(model)
    for p, q in zip(model.get_params(), back.get_params(), strict=True):
        assert p.name == q.name and p.dtype == q.dtype
        np.testing.assert_array_equal(p.get_value(), q.get_value())
    X = np.random.default_rng(0).random((4, model.nvis)).astype(model.get_params()[0].dtype)
    np.testing.assert_array_equal(
        model.reconstruct(X, noisy_encoding=False), back.reconstruct(X, noisy_encoding=False)
    )


@pytest.mark.parametrize("value, where, what", [
    ({"f": len}, r"\['f'\]", "code cannot be saved"),
    ({"f": lambda x: x}, r"\['f'\]", "code cannot be saved"),
    ([np.array([{}], dtype=object)], r"\[0\]", "object values"),
    (Point(x=threading.Lock()), r"m\.pkl", "lock"),
    ({"g": (i for i in ())}, r"\['g'\]", "generator"),
])
def test_what_is_not_data_is_refused_naming_where_it_is(tmp_path, value, where, what):
    with pytest.raises(datafile.UnsavableError, match=where) as info:
        serial.save(str(tmp_path / "m.pkl"), value)
    assert what in str(info.value) or "cannot be saved" in str(info.value)
    assert list(tmp_path.iterdir()) == []


_PROBE = """
import io, sys
from pylearn_vae.utils import datafile
from pylearn_vae.utils.safe_load import LoadPolicy
before = set(sys.modules)
for data in sys.argv[1:]:
    try:
        datafile.read(io.BytesIO(bytes.fromhex(data)), "x.pkl", LoadPolicy())
    except ValueError:
        continue
    raise SystemExit("not refused")
print(sorted(set(sys.modules) - before))
"""


def test_names_off_the_allow_list_are_refused_unimported(tmp_path):
    names = [["os", "system"], ["numpy.f2py.__main__", "main"], ["builtins", "eval"],
             ["pylearn_vae.utils.serial", "os"], ["pylearn_vae.utils.serial", "load"],
             ["subprocess", "Popen"], ["numpy.testing", "assert_equal"],
             ["pylearn_vae.scripts.train", "main"], ["copyreg", "_reconstructor"]]
    files = []
    for name in names:
        files.append(data_file({"object": name, "id": 0, "args": ["touch x"]}))
        files.append(data_file({"class": name}))
    out = subprocess.run([sys.executable, "-c", _PROBE] + [f.hex() for f in files],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    imported = [m for m in eval(out.stdout) if not m.startswith("encodings.")]  # zip names
    assert imported == []  # nothing the files named was imported
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("description, arrays, match", [
    ({"dtype": "O"}, (), "dtype"),
    ({"dtype": "V8"}, (), "dtype"),
    ({"dtype": "[('a', 'O')]"}, (), "dtype"),
    ({"scalar": ["O", 1]}, (), "dtype"),
    ({"ref": 7}, (), "reference"),
    ({"array": 3}, (), "array_3"),
    ({"list": [], "id": 0, "x": {"ref": 0}}, (), None),
    ({"tuple": [{"list": [1]}] * 2}, (), "id"),
    ({"float": "1e400"}, (), "float"),
    ({"bit_generator": {"name": "PCG64", "state": {"dict": [], "id": 0}, "seed_seq": None}},
     (), "PCG64"),
    ({"generator": 3}, (), "Generator"),
    ({"object": ["pylearn_vae.models.mlp", "MLP"], "id": 0, "state": 5}, (), "state"),
    ({"dict": [[{"list": [], "id": 0}, 1]], "id": 1}, (), "key"),
    ({"nope": 1}, (), "unknown"),
    ([1, 2], (), "bare JSON list"),
])
def test_bad_descriptions_are_refused_with_a_message(description, arrays, match):
    data = data_file(description, arrays)
    if match is None:
        assert _read(data) == []
        return
    with pytest.raises(ValueError, match=match):
        _read(data)


def test_limits_nesting_integers_sizes_and_object_arrays(monkeypatch):
    deep = {"tuple": []}
    for _ in range(datafile.MAX_DEPTH + 5):
        deep = {"tuple": [deep]}
    with pytest.raises(UnsafeFileError, match="nested deeper"):
        _read(data_file(deep))
    text = f'{{"format": "{datafile.FORMAT}", "version": 1, "root": {"9" * 5000}}}'
    buffer = io.BytesIO()
    np.savez(buffer, description=np.frombuffer(text.encode(), np.uint8))
    with pytest.raises(ValueError, match="5000 digits"):
        _read(buffer.getvalue())
    big = data_file({"array": 0}, [np.zeros(1000)])
    monkeypatch.setattr(datafile, "available_memory", lambda: 100)
    with pytest.raises(UnsafeFileError, match="free memory"):
        _read(big)
    monkeypatch.undo()
    objects = npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(UnsafeFileError, match="Python objects"):
        _read(data_file({"array": 0}, members={"array_0.npy": objects}))


def test_an_array_header_larger_than_its_bytes_is_refused():
    npy = npy_bytes(np.zeros(4)).replace(b"'shape': (4,)", b"'shape': (9,)")  # same length
    with pytest.raises(ValueError, match="claims 72 bytes"):
        _read(data_file({"array": 0}, members={"array_0.npy": npy}))


def test_another_version_is_refused_naming_it():
    with pytest.raises(ValueError, match="version 9"):
        _read(data_file(None, version=9))


def test_an_object_whose_class_acts_when_freed_is_refused():
    data = data_file({"object": ["pylearn_vae.train_extensions.tensorboard", "TensorBoardLog"],
                     "id": 0, "state": {"dict": [["_writer", None]], "id": 1}})
    with pytest.raises(UnsafeFileError, match="run code when they are freed"):
        _read(data)
