"""A NumPy-backed stand-in for the part of CuPy's API that pylearn_vae uses.

Its arrays are a NumPy subclass with CuPy's ``.get()``, so everything pylearn_vae does
on the ``'gpu'`` device -- the backend's autograd registration, ``get_array_module``
dispatch, the GPU random streams, host transfers, pickling, the fused kernels (their
CUDA-C text compiled for the host by ``tests/host_kernels.py``) -- runs here on a
machine without a GPU. It checks our side of the seam, not CuPy itself: ``tests/test_gpu.py``
does that on a real GPU.
"""

import types

import host_kernels
import numpy


class FakeGPUArray(numpy.ndarray):
    """A NumPy array that says it lives on a GPU, and gives 0-d arrays, not scalars.

    ``FakeGPUArray.reads`` counts the reads that would each wait for the GPU on real
    CuPy: ``.get()``, ``.item()`` and ``float``/``int``/``bool`` of an array.
    """

    reads = 0

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # CuPy gives 0-d arrays where NumPy gives scalars (a full sum, a ufunc of a 0-d
        # array): keep results on the "device" the same way.
        return array.view(FakeGPUArray) if isinstance(array, numpy.ndarray) else array

    def __getitem__(self, key):
        out = super().__getitem__(key)
        return out if isinstance(out, numpy.ndarray) else numpy.asarray(out).view(FakeGPUArray)

    def _read(self):
        FakeGPUArray.reads += 1
        return numpy.array(self).view(numpy.ndarray)

    def get(self):
        """The host copy, as ``cupy.ndarray.get`` gives it."""
        return self._read()

    def item(self, *args):
        return self._read().item(*args)

    def __float__(self):
        return float(self._read())

    def __int__(self):
        return int(self._read())

    def __bool__(self):
        return bool(self._read())


def _to_device(value):
    if isinstance(value, numpy.ndarray) and not isinstance(value, FakeGPUArray):
        return value.view(FakeGPUArray)
    return value


def _device_function(function):
    def wrapped(*args, **kwargs):
        return _to_device(function(*args, **kwargs))

    wrapped.__name__ = getattr(function, "__name__", "function")
    return wrapped


class _RandomState:
    """CuPy's ``RandomState`` methods with ``dtype`` arguments."""

    def __init__(self, seed):
        self._rng = numpy.random.RandomState(seed)

    def standard_normal(self, size=None, dtype=float):
        return _to_device(self._rng.standard_normal(size).astype(dtype))

    def random_sample(self, size=None, dtype=float):
        return _to_device(self._rng.random_sample(size).astype(dtype))


def _device_kernel(host_kernel):
    """A host-compiled kernel class whose results are device arrays."""

    class DeviceKernel(host_kernel):
        def __call__(self, *args, **kwargs):
            out = super().__call__(*args, **kwargs)
            return tuple(map(_to_device, out)) if isinstance(out, tuple) else _to_device(out)

    DeviceKernel.__name__ = host_kernel.__name__
    return DeviceKernel


def make_fake_cupy():
    """A fresh module object that ``import cupy`` can return."""
    module = types.ModuleType("cupy")
    module.ndarray = FakeGPUArray

    def asarray(value, dtype=None):
        if isinstance(value, FakeGPUArray) and (dtype is None or value.dtype == dtype):
            return value
        return _to_device(numpy.array(value, dtype=dtype))

    module.asarray = asarray
    # Fused kernels: the same CUDA-C text compiled for the host (tests/host_kernels.py).
    module.ElementwiseKernel = _device_kernel(host_kernels.ElementwiseKernel)
    module.ReductionKernel = _device_kernel(host_kernels.ReductionKernel)
    module.asnumpy = lambda value: numpy.array(value).view(numpy.ndarray)
    module.cuda = types.SimpleNamespace(
        Device=lambda device=0: types.SimpleNamespace(synchronize=lambda: None),
        runtime=types.SimpleNamespace(
            getDeviceCount=lambda: 1,
            getDeviceProperties=lambda device: {"name": b"NumPy stand-in (tests/fake_cupy.py)"},
        ),
    )
    module.random = types.SimpleNamespace(
        RandomState=_RandomState,
        standard_normal=lambda size, dtype=float: _RandomState(0).standard_normal(size, dtype),
    )

    # Every other name (zeros, dot, exp, maximum, ...) is NumPy's, returning device arrays.
    def numpy_function(name):
        if name.startswith("__"):  # __file__, __path__, ...: not NumPy's
            raise AttributeError(name)
        return _device_function(getattr(numpy, name))

    module.__getattr__ = numpy_function
    module.__file__ = __file__
    module.__version__ = "0 (NumPy stand-in)"
    return module
