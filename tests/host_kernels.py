"""CuPy's ElementwiseKernel and ReductionKernel, compiled for the host with a C++ compiler.

The stand-in for CuPy (``tests/fake_cupy.py``) uses these, so the fused kernels of
``pylearn_vae/accel/kernels.py`` run on a machine without a GPU: the same kernel text,
with CuPy's calling conventions (inputs broadcast together, type placeholders such as ``T``
taken from the array arguments, inputs read as values and outputs written through
references, the reduction's ``a``/``b`` and ``identity``), in a plain loop. That checks
each formula's text and its arithmetic; it cannot check nvcc or CuPy's launch code,
which ``tests/test_gpu.py`` does on a GPU.

Compiled libraries are cached by the hash of their source in a folder of the
temporary directory, so each is built once per machine.
"""

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import numpy

_CTYPES = {numpy.dtype("float32"): "float", numpy.dtype("float64"): "double"}
_CTYPES_BY_NAME = {"float32", "float64"}  # parameter types named outright, not placeholders
_PARAM = re.compile(r"^(\w+)\s+(\w+)$")


def compiler():
    """The host C++ compiler, or None."""
    return shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")


def _parse(params):
    out = []
    for item in params.split(","):
        match = _PARAM.match(item.strip())
        if match is None:
            raise ValueError(f"cannot read kernel parameter {item!r}")
        out.append(match.groups())  # (type, name)
    return out


def _resolve_types(params, args):
    """Each parameter's dtype: a placeholder takes the dtype of its first array argument."""
    placeholders = {}
    for (kind, name), arg in zip(params, args, strict=True):
        if kind not in _CTYPES_BY_NAME and isinstance(arg, numpy.ndarray):
            first = placeholders.setdefault(kind, arg.dtype)
            if arg.dtype != first:  # CuPy refuses this too: cast before the call
                raise TypeError(
                    f"kernel parameter {name!r}: type {kind} is {first} from an earlier "
                    f"argument but this array is {arg.dtype}"
                )
    dtypes = []
    for kind, name in params:
        if kind in _CTYPES_BY_NAME:
            dtypes.append(numpy.dtype(kind))
        elif kind in placeholders:
            dtypes.append(placeholders[kind])
        else:
            raise TypeError(f"kernel parameter {name!r}: no array argument gives type {kind}")
    return placeholders, dtypes


def _build(source):
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    folder = os.path.join(tempfile.gettempdir(), f"pylearn_vae_host_kernels_{os.getuid()}")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{digest}.so")
    if not os.path.exists(path):
        cxx = compiler()
        if cxx is None:
            raise RuntimeError("no C++ compiler (g++ or c++) to build host kernels")
        partial = f"{path}.{os.getpid()}.tmp"
        done = subprocess.run(
            [cxx, "-O2", "-shared", "-fPIC", "-x", "c++", "-", "-o", partial],
            input=source,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"host kernel failed to compile:\n{source}\n{done.stderr}")
        os.replace(partial, path)
    return ctypes.CDLL(path)


def _header(placeholders):
    lines = ["#include <cmath>", "using namespace std;"]
    lines += [f"typedef {_CTYPES[dtype]} {name};" for name, dtype in placeholders.items()]
    return "\n".join(lines)


def _as_inputs(args, dtypes, shape):
    return [
        numpy.ascontiguousarray(numpy.broadcast_to(numpy.asarray(a, dtype=d), shape))
        for a, d in zip(args, dtypes, strict=True)
    ]


def _pointer(array):
    return ctypes.c_void_p(array.ctypes.data)


class ElementwiseKernel:
    """``cupy.ElementwiseKernel(in_params, out_params, operation, name)`` on the host."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.ins, self.outs = _parse(in_params), _parse(out_params)
        self.operation, self.name = operation, name
        self._libs = {}

    def __call__(self, *args):
        if len(args) != len(self.ins):
            raise TypeError(f"{self.name}: takes {len(self.ins)} inputs, got {len(args)}")
        placeholders, dtypes = _resolve_types(self.ins, args)
        out_dtypes = [
            numpy.dtype(k) if k in _CTYPES_BY_NAME else placeholders[k] for k, _ in self.outs
        ]
        shape = numpy.broadcast_shapes(*(numpy.shape(a) for a in args))
        inputs = _as_inputs(args, dtypes, shape)
        outputs = [numpy.empty(shape, dtype=d) for d in out_dtypes]
        key = tuple(sorted((k, v.str) for k, v in placeholders.items()))
        lib = self._libs.get(key)
        if lib is None:
            lib = self._libs[key] = _build(self._source(placeholders, dtypes, out_dtypes))
        lib.run(ctypes.c_long(int(numpy.prod(shape))), *map(_pointer, inputs + outputs))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _source(self, placeholders, dtypes, out_dtypes):
        params = ["long n"]
        params += [f"const {_CTYPES[d]}* in{i}" for i, d in enumerate(dtypes)]
        params += [f"{_CTYPES[d]}* out{i}" for i, d in enumerate(out_dtypes)]
        body = [
            f"const {_CTYPES[d]} {name} = in{i}[i];"
            for i, (d, (_, name)) in enumerate(zip(dtypes, self.ins, strict=True))
        ]
        body += [
            f"{_CTYPES[d]}& {name} = out{i}[i];"
            for i, (d, (_, name)) in enumerate(zip(out_dtypes, self.outs, strict=True))
        ]
        return (
            f"{_header(placeholders)}\n"
            f'extern "C" void run({", ".join(params)}) {{\n'
            f"  for (long i = 0; i < n; ++i) {{\n    {' '.join(body)}\n"
            f"    {{ {self.operation}; }}\n  }}\n}}\n"
        )


class ReductionKernel:
    """``cupy.ReductionKernel(...)`` on the host, for one reduced axis (``axis=int``)."""

    def __init__(
        self,
        in_params,
        out_params,
        map_expr,
        reduce_expr,
        post_map_expr,
        identity,
        name="reduce_kernel",
        **kwargs,
    ):
        self.ins, self.outs = _parse(in_params), _parse(out_params)
        if len(self.outs) != 1:
            raise NotImplementedError("host ReductionKernel: one output only")
        self.map_expr, self.reduce_expr = map_expr, reduce_expr
        self.post_map_expr, self.identity, self.name = post_map_expr, identity, name
        self._libs = {}

    def __call__(self, *args, axis=None):
        if len(args) != len(self.ins):
            raise TypeError(f"{self.name}: takes {len(self.ins)} inputs, got {len(args)}")
        if not isinstance(axis, int):
            raise NotImplementedError("host ReductionKernel: axis must be one int")
        placeholders, dtypes = _resolve_types(self.ins, args)
        kind = self.outs[0][0]
        out_dtype = numpy.dtype(kind) if kind in _CTYPES_BY_NAME else placeholders[kind]
        shape = numpy.broadcast_shapes(*(numpy.shape(a) for a in args))
        axis = axis % len(shape)
        inputs = [
            numpy.ascontiguousarray(numpy.moveaxis(a, axis, -1))
            for a in _as_inputs(args, dtypes, shape)
        ]
        out_shape = shape[:axis] + shape[axis + 1 :]
        output = numpy.empty(out_shape, dtype=out_dtype)
        cols = shape[axis]
        rows = int(numpy.prod(out_shape))
        key = tuple(sorted((k, v.str) for k, v in placeholders.items()))
        lib = self._libs.get(key)
        if lib is None:
            lib = self._libs[key] = _build(self._source(placeholders, dtypes, out_dtype))
        lib.run(ctypes.c_long(rows), ctypes.c_long(cols), *map(_pointer, inputs + [output]))
        return output

    def _source(self, placeholders, dtypes, out_dtype):
        acc = _CTYPES[out_dtype]  # CuPy's default reduce_type: the output's type
        params = ["long rows", "long cols"]
        params += [f"const {_CTYPES[d]}* in{i}" for i, d in enumerate(dtypes)]
        params += [f"{acc}* out0"]
        reads = " ".join(
            f"const {_CTYPES[d]} {name} = in{i}[r * cols + c];"
            for i, (d, (_, name)) in enumerate(zip(dtypes, self.ins, strict=True))
        )
        out_name = self.outs[0][1]
        return (
            f"{_header(placeholders)}\n"
            f'extern "C" void run({", ".join(params)}) {{\n'
            f"  for (long r = 0; r < rows; ++r) {{\n"
            f"    {acc} a = ({acc})({self.identity});\n"
            f"    for (long c = 0; c < cols; ++c) {{\n"
            f"      {reads}\n"
            f"      {acc} b = ({acc})({self.map_expr});\n"
            f"      a = ({self.reduce_expr});\n"
            f"    }}\n"
            f"    {acc}& {out_name} = out0[r];\n"
            f"    {{ {self.post_map_expr}; }}\n"
            f"  }}\n}}\n"
        )
