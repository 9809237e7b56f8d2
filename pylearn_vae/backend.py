"""The device seam: NumPy on the CPU or CuPy on a GPU, floatX, and random streams.

This is the only module of pylearn_vae that imports CuPy. Everything else asks it
for the array module (:func:`xp` for creating arrays, :func:`get_array_module` for the
module an existing array lives in), converts with :func:`asarray` / :func:`to_host`, and
draws noise from a :class:`RandomStreams`.

Choosing the device
    ``PYLEARN_VAE_DEVICE=cpu|gpu`` in the environment, or :func:`set_device` in code
    before a model is built (:func:`using` for a ``with`` block). Asking for ``gpu``
    where CuPy or a CUDA device is missing raises one :class:`DeviceError` that says
    what to install.

Choosing the float type
    ``PYLEARN_VAE_FLOATX=float32|float64`` (default ``float32``), or :func:`set_floatX`
    (:func:`using` for a ``with`` block).
    Every parameter and every batch the framework creates uses :func:`floatX`.

Autograd on CuPy
    On the first switch to the GPU, ``cupy.ndarray`` is registered with autograd: a Box
    (so operators on traced CuPy arrays are recorded) and a VSpace whose zeros and
    ones are CuPy arrays (autograd's own ``ArrayVSpace`` makes NumPy ones).
"""

import contextlib
import os

import autograd.numpy as anp
import numpy
from autograd.tracer import Box

__all__ = [
    "DeviceError",
    "RandomStreams",
    "asarray",
    "cast_floatX",
    "compute_module",
    "floatX",
    "get_array_module",
    "get_device",
    "scalars_to_host",
    "set_device",
    "set_floatX",
    "to_host",
    "using",
    "xp",
]

_DEVICES = ("cpu", "gpu")
_FLOATX = ("float32", "float64")


class DeviceError(RuntimeError):
    """The requested device cannot be used here."""


def _check_choice(value, choices, what):
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}: choose one of {', '.join(choices)}")
    return value


_state = {
    "device": _check_choice(
        os.environ.get("PYLEARN_VAE_DEVICE", "cpu").lower(), _DEVICES, "PYLEARN_VAE_DEVICE"
    ),
    "floatX": _check_choice(
        os.environ.get("PYLEARN_VAE_FLOATX", "float32").lower(), _FLOATX, "PYLEARN_VAE_FLOATX"
    ),
    "cupy": None,
    "cpu_normal": None,  # (name, draw) registered by register_cpu_normal; None: NumPy's
}


def _import_cupy():
    """Import CuPy, check a GPU is present, and register it with autograd (once)."""
    if _state["cupy"] is not None:
        return _state["cupy"]
    try:
        import cupy
    except ImportError as exc:
        raise DeviceError(
            "the GPU device needs CuPy, which is not installed: "
            "pip install 'pylearn-vae[gpu]' (or the cupy-cudaXXx wheel for your CUDA), "
            "or use PYLEARN_VAE_DEVICE=cpu"
        ) from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise DeviceError(
            f"CuPy is installed but no CUDA GPU can be used ({exc}); use PYLEARN_VAE_DEVICE=cpu"
        ) from exc
    if count < 1:
        raise DeviceError(
            "CuPy is installed but no CUDA GPU was found; use PYLEARN_VAE_DEVICE=cpu"
        )
    _register_cupy_with_autograd(cupy)
    _state["cupy"] = cupy
    return cupy


def _register_cupy_with_autograd(cupy):
    from autograd.extend import VSpace
    from autograd.numpy.numpy_boxes import ArrayBox
    from autograd.numpy.numpy_vspaces import ArrayVSpace

    class CupyVSpace(ArrayVSpace):
        """Autograd's vector space of a CuPy array: zeros and ones live on the GPU."""

        def __init__(self, value):
            self.shape = value.shape
            self.dtype = value.dtype

        def zeros(self):
            return cupy.zeros(self.shape, dtype=self.dtype)

        def ones(self):
            return cupy.ones(self.shape, dtype=self.dtype)

        def randn(self):
            return cupy.random.standard_normal(self.shape).astype(self.dtype)

        def _inner_prod(self, x, y):
            return cupy.dot(cupy.ravel(x), cupy.ravel(y))

    ArrayBox.register(cupy.ndarray)
    VSpace.register(cupy.ndarray, CupyVSpace)


def set_device(device):
    """Choose ``'cpu'`` (NumPy) or ``'gpu'`` (CuPy) for arrays created from now on."""
    device = _check_choice(str(device).lower(), _DEVICES, "device")
    if device == "gpu":
        _import_cupy()
    _state["device"] = device


def get_device():
    """The current device, ``'cpu'`` or ``'gpu'``."""
    return _state["device"]


def xp():
    """The array module of the current device: ``numpy`` or ``cupy``."""
    if _state["device"] == "gpu":
        return _import_cupy()
    return numpy


def get_array_module(*arrays):
    """The array module the given arrays live in (autograd boxes are looked through)."""
    cupy = _state["cupy"]
    if cupy is not None:
        for a in arrays:
            a = getattr(a, "_value", a)
            while hasattr(a, "_value"):
                a = a._value
            if isinstance(a, cupy.ndarray):
                return cupy
    return numpy


def compute_module(*arrays):
    """The module to compute with on ``arrays``: ``autograd.numpy`` when one of them is
    traced by autograd (a gradient that is itself differentiated), else their own
    (:func:`get_array_module`)."""
    if any(isinstance(a, Box) for a in arrays):
        return anp
    return get_array_module(*arrays)


def set_floatX(dtype):
    """Choose ``'float32'`` (default) or ``'float64'`` for parameters and batches."""
    try:
        name = numpy.dtype(dtype).name
    except TypeError:  # not a dtype at all: report it with the valid choices
        name = str(dtype)
    _state["floatX"] = _check_choice(name, _FLOATX, "floatX")


def floatX():
    """The name of the float type in use: ``'float32'`` or ``'float64'``."""
    return _state["floatX"]


@contextlib.contextmanager
def using(device=None, floatX=None):
    """Use ``device`` and ``floatX`` inside a ``with`` block, and restore both after it.

    The previous device and float type come back when the block ends, also when it
    raises, so a test or a script can switch for a while without leaking the choice.

    Parameters
    ----------
    device : {'cpu', 'gpu'} or None
        The device inside the block; ``None`` keeps the current one. ``'gpu'`` raises
        :class:`DeviceError` where CuPy or a CUDA device is missing (nothing is changed).
    floatX : {'float32', 'float64'} or numpy dtype or None
        The float type inside the block; ``None`` keeps the current one.

    Yields
    ------
    None

    Examples
    --------
    >>> from pylearn_vae import backend
    >>> before = backend.floatX()
    >>> with backend.using(device="cpu", floatX="float64"):
    ...     backend.asarray([1.0]).dtype.name
    'float64'
    >>> backend.floatX() == before
    True
    """
    saved = get_device(), _state["floatX"]
    try:
        if device is not None:
            set_device(device)
        if floatX is not None:
            set_floatX(floatX)
        yield
    finally:
        _state["device"], _state["floatX"] = saved


def asarray(value, dtype=None):
    """``value`` as an array of the current device, in ``dtype`` (default floatX)."""
    dtype = floatX() if dtype is None else dtype
    module = xp()
    if module is not numpy and not isinstance(value, module.ndarray):
        value = numpy.asarray(value)
    return module.asarray(value, dtype=dtype)


def cast_floatX(value):
    """A Python or NumPy scalar as a floatX NumPy scalar."""
    return numpy.dtype(floatX()).type(value)


def to_host(value):
    """A NumPy array (or scalar) holding ``value``, wherever it lives."""
    while hasattr(value, "_value"):
        value = value._value
    if hasattr(value, "get") and not isinstance(value, (dict, numpy.ndarray)):
        return value.get()
    return numpy.asarray(value)


def scalars_to_host(values):
    """Python floats of many 0-d values, with at most one device-to-host transfer.

    Values on the GPU are stacked there and copied back together, so reading ``n``
    of them costs one synchronisation instead of ``n``; host values (Python numbers,
    NumPy scalars and 0-d arrays) are converted directly. The order is kept.

    Parameters
    ----------
    values : iterable of 0-d arrays or numbers, on either device

    Returns
    -------
    list of float
    """
    values = list(values)
    floats = [None] * len(values)
    cupy = _state["cupy"]
    on_device = []
    for i, value in enumerate(values):
        while hasattr(value, "_value"):
            value = value._value
        if cupy is not None and isinstance(value, cupy.ndarray):
            on_device.append((i, value.reshape(())))
        else:
            floats[i] = float(value)
    if on_device:
        host = cupy.stack([value for _, value in on_device]).get()
        for (i, _), number in zip(on_device, host.tolist(), strict=True):
            floats[i] = float(number)
    return floats


#: The name of NumPy's own standard normal draws (``Generator.standard_normal``).
STANDARD_NORMAL = "standard_normal"


def register_cpu_normal(name, draw):
    """Draw the CPU's standard normal noise with ``draw(generator, shape, dtype)``.

    :mod:`pylearn_vae.accel` registers a faster one; ``draw=None`` goes back to NumPy's
    ``Generator.standard_normal``. The two give different numbers, so a stream's state
    records the ``name`` it was drawn with (see :meth:`RandomStreams.set_state`).
    """
    _state["cpu_normal"] = None if draw is None else (name, draw)


def cpu_normal_name():
    """The name of the CPU's standard normal draws now (:func:`register_cpu_normal`)."""
    return STANDARD_NORMAL if _state["cpu_normal"] is None else _state["cpu_normal"][0]


class RandomStreams:
    """A seeded stream of noise on the current device, one per component.

    On the CPU it is a NumPy :class:`numpy.random.Generator` (PCG64), which draws
    float32 directly, so a run with a given seed is reproducible; on the GPU it is
    CuPy's ``RandomState`` with the same seed.

    Parameters
    ----------
    seed : int
        The seed, e.g. the ``rng.randint(2 ** 30)`` draw a component takes in ``set_vae``.
    """

    def __init__(self, seed):
        self.seed = int(seed)
        self._device = None
        self._rng = None

    def _generator(self):
        device = get_device()
        if self._rng is None or device != self._device:
            if device == "gpu":
                self._rng = _import_cupy().random.RandomState(self.seed)
            else:
                self._rng = numpy.random.default_rng(self.seed)
            self._device = device
        return self._rng

    def normal(self, shape, dtype=None):
        """Standard normal noise of ``shape`` in floatX (or ``dtype``)."""
        dtype = floatX() if dtype is None else dtype
        generator = self._generator()
        if self._device == "cpu" and _state["cpu_normal"] is not None:
            return _state["cpu_normal"][1](generator, shape, dtype)
        return generator.standard_normal(size=shape, dtype=dtype)

    def uniform(self, shape, dtype=None):
        """Uniform noise on ``[0, 1)`` of ``shape`` in floatX (or ``dtype``)."""
        dtype = floatX() if dtype is None else dtype
        generator = self._generator()
        if self._device == "gpu":
            return generator.random_sample(size=shape, dtype=dtype)
        return generator.random(size=shape, dtype=dtype)

    def get_state(self):
        """The stream's position as plain data (for checkpoints); see :meth:`set_state`.

        On the CPU it is the NumPy generator's state, so a restored stream continues
        with the very numbers the original would have drawn. A GPU stream cannot report
        its position: its state is None, and a restored GPU stream restarts from its seed.
        """
        position = None
        if self._rng is not None and self._device == "cpu":
            position = self._rng.bit_generator.state
        return {"seed": self.seed, "position": position, "normal": cpu_normal_name()}

    def set_state(self, state):
        """Continue from a :meth:`get_state` result.

        Raises
        ------
        ValueError
            The stream drew its CPU noise another way (:func:`register_cpu_normal`) than
            this process does: it could not continue with the numbers it would have drawn.
        """
        drawn, current = state.get("normal", "box_muller"), cpu_normal_name()
        if state["position"] is not None and drawn != current:
            switch = "without" if drawn == "box_muller" else "with"
            raise ValueError(
                f"this run drew its Gaussian noise with {drawn} and this process draws it "
                f"with {current}, so it could not continue as it began: resume it {switch} "
                "PYLEARN_VAE_REFERENCE=1 in the environment"
            )
        self.seed = int(state["seed"])
        self._rng, self._device = None, None
        if state["position"] is not None:
            self._rng = numpy.random.default_rng(self.seed)
            self._rng.bit_generator.state = state["position"]
            self._device = "cpu"

    def __getstate__(self):
        # A CPU generator's state pickles as is; a GPU one restarts from the seed, so
        # the pickle loads on any machine.
        state = {"seed": self.seed, "_device": None, "_rng": None}
        if self._rng is not None and self._device == "cpu":
            state["_rng"] = self._rng
            state["_device"] = "cpu"
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
