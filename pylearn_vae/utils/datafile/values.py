"""The fixed tables and limits of the data-file format (:mod:`pylearn_vae.utils.datafile`)."""

import pathlib

import numpy

__all__ = [
    "BIT_GENERATORS",
    "DESCRIPTION",
    "FACTORIES",
    "FORMAT",
    "MAGIC",
    "MAX_ARRAYS",
    "MAX_DEPTH",
    "MAX_DESCRIPTION_BYTES",
    "MAX_INT_DIGITS",
    "PATHS",
    "SPECIAL_FLOATS",
    "VERSION",
    "UnsavableError",
    "encode_float",
    "is_gpu_array",
]

FORMAT = "pylearn_vae data"
VERSION = 1
MAGIC = b"PK\x03\x04"  # a ZIP archive's first bytes
DESCRIPTION = "description"

#: Limits on what a file may ask of the reader.
MAX_DESCRIPTION_BYTES = 64 * 2**20
MAX_DEPTH = 100
MAX_INT_DIGITS = 400
MAX_ARRAYS = 1_000_000

BIT_GENERATORS = {
    name: getattr(numpy.random, name)
    for name in ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")
}
FACTORIES = {"dict": dict, "list": list, "int": int, "float": float, "set": set, "None": None}
PATHS = {
    cls.__name__: cls
    for cls in (
        pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.PosixPath, pathlib.WindowsPath
    )
}
SPECIAL_FLOATS = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


class UnsavableError(TypeError):
    """Something in the object to save cannot be described as data (the message names
    where it is, what it is and what to do)."""


def encode_float(value):
    if isinstance(value, float) and value != value:
        return {"float": "nan"}
    if value in (float("inf"), float("-inf")):
        return {"float": "inf" if value > 0 else "-inf"}
    return value


def is_gpu_array(value):
    return type(value).__module__.split(".")[0] == "cupy" and hasattr(value, "get")


