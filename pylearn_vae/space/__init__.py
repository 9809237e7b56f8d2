"""Spaces: what a batch looks like (``pylearn2/space/__init__.py``).

A space describes the shape of a batch of data, not the data itself. Models declare
their input and output spaces; datasets and iterators convert batches between spaces
with :meth:`Space.np_format_as`. Batches are NumPy or CuPy arrays, or autograd boxes of
them, always with the batch on axis 0.

==============  ==========================  =========================================
space           a batch is                  total dimension
==============  ==========================  =========================================
VectorSpace     ``(batch, dim)``            ``dim``
Conv2DSpace     4-D, axes as declared       ``rows * cols * channels``
CompositeSpace  a tuple, one per component  the sum of the components'
NullSpace       ``None``                    (none)
IndexSpace      ``(batch, dim)`` integers   ``dim``
==============  ==========================  =========================================
"""

import numpy

from pylearn_vae import backend

__all__ = [
    "CompositeSpace",
    "Conv2DSpace",
    "IndexSpace",
    "NullSpace",
    "Space",
    "VectorSpace",
]


def _resolve_dtype(dtype):
    return backend.floatX() if dtype == "floatX" else numpy.dtype(dtype).name


class Space:
    """Base class of all spaces."""

    def get_total_dimension(self):
        raise NotImplementedError(f"{type(self).__name__} has no total dimension")

    def validate(self, batch):
        """Raise a ValueError/TypeError if ``batch`` is not a batch of this space."""
        raise NotImplementedError

    def np_validate(self, batch):
        return self.validate(batch)

    def get_batch_axis(self):
        return 0

    def batch_size(self, batch):
        self.validate(batch)
        return batch.shape[self.get_batch_axis()]

    def get_origin(self):
        raise NotImplementedError

    def get_origin_batch(self, batch_size):
        raise NotImplementedError

    def format_as(self, batch, space):
        """Convert ``batch`` of this space into ``space`` (differentiable)."""
        self.validate(batch)
        if self == space:
            return batch
        if self.get_total_dimension() != space.get_total_dimension():
            raise ValueError(
                f"cannot format a batch of {self} as {space}: their total dimensions "
                f"differ ({self.get_total_dimension()} vs {space.get_total_dimension()})"
            )
        return space._from_flat(self._to_flat(batch))

    def np_format_as(self, batch, space):
        """Convert a numeric batch into ``space``, cast to the target dtype."""
        return _cast(self.format_as(batch, space), space)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(str(self))


def _cast(batch, space):
    """``batch`` in the dtype of ``space`` (each component's, for a CompositeSpace)."""
    if isinstance(batch, tuple):
        return tuple(_cast(b, s) for b, s in zip(batch, space.components, strict=True))
    dtype = getattr(space, "dtype", None)
    if dtype is not None and batch.dtype != dtype:
        return batch.astype(dtype)
    return batch


def _check_array(space, batch, ndim):
    if not hasattr(batch, "shape") or not hasattr(batch, "ndim"):
        raise TypeError(f"{space} expected an array batch, got {type(batch).__name__}")
    if batch.ndim != ndim:
        raise ValueError(
            f"{space} expected a {ndim}-D batch, got one of shape {tuple(batch.shape)}"
        )


def _check_dtype(space, batch):
    expected = numpy.dtype(space.dtype)
    got = numpy.dtype(batch.dtype)
    if got.kind == "f" and expected.kind in "iub":
        raise TypeError(f"{space} cannot hold a float batch ({got.name}) as {expected.name}")
    if got.kind == "c" and expected.kind != "c":
        raise TypeError(f"{space} cannot hold a complex batch as {expected.name}")


class VectorSpace(Space):
    """Batches of ``dim``-dimensional vectors, shape ``(batch, dim)``.

    Parameters
    ----------
    dim : int
    sparse : bool
        Kept for Pylearn2 compatibility; sparse batches are not supported.
    dtype : str
        ``'floatX'`` (default) resolves to :func:`pylearn_vae.backend.floatX` when used.
    """

    def __init__(self, dim, sparse=False, dtype="floatX"):
        if sparse:
            raise NotImplementedError("sparse VectorSpaces are not supported by pylearn_vae")
        self.dim = int(dim)
        self.sparse = False
        self._dtype = dtype

    @property
    def dtype(self):
        return _resolve_dtype(self._dtype)

    def __str__(self):
        return f"VectorSpace(dim={self.dim}, dtype={self.dtype})"

    __repr__ = __str__

    def __eq__(self, other):
        return (
            type(self) is type(other)
            and self.dim == other.dim
            and self.sparse == other.sparse
            and self.dtype == other.dtype
        )

    __hash__ = Space.__hash__

    def get_total_dimension(self):
        return self.dim

    def validate(self, batch):
        _check_array(self, batch, 2)
        if batch.shape[1] != self.dim:
            raise ValueError(
                f"{self} expected a batch of shape (batch, {self.dim}), "
                f"got one of shape {tuple(batch.shape)}"
            )
        _check_dtype(self, batch)

    def get_origin(self):
        return numpy.zeros((self.dim,), dtype=self.dtype)

    def get_origin_batch(self, batch_size):
        return numpy.zeros((batch_size, self.dim), dtype=self.dtype)

    def _to_flat(self, batch):
        return batch

    def _from_flat(self, flat):
        return flat


class IndexSpace(VectorSpace):
    """Batches of ``dim`` integer indices below ``max_labels``."""

    def __init__(self, max_labels, dim, dtype="int64"):
        super().__init__(dim, dtype=dtype)
        self.max_labels = int(max_labels)

    def __str__(self):
        return f"IndexSpace(dim={self.dim}, max_labels={self.max_labels})"

    __repr__ = __str__

    def __eq__(self, other):
        return super().__eq__(other) and self.max_labels == other.max_labels

    __hash__ = Space.__hash__


_DEFAULT_AXES = ("b", 0, 1, "c")


class Conv2DSpace(Space):
    """Batches of multi-channel images, 4-D with axes ``axes`` (default ``('b', 0, 1, 'c')``).

    Parameters
    ----------
    shape : pair of int
        Rows and columns.
    channels, num_channels : int
        The number of channels; give exactly one of the two.
    axes : tuple
        A permutation of ``('b', 0, 1, 'c')``.
    dtype : str
    """

    def __init__(self, shape, channels=None, num_channels=None, axes=None, dtype="floatX"):
        if (channels is None) == (num_channels is None):
            raise ValueError("Conv2DSpace needs exactly one of channels and num_channels")
        self.shape = tuple(int(s) for s in shape)
        if len(self.shape) != 2:
            raise ValueError(f"Conv2DSpace shape must be (rows, cols), got {shape!r}")
        self.num_channels = int(channels if channels is not None else num_channels)
        axes = _DEFAULT_AXES if axes is None else tuple(axes)
        if sorted(map(str, axes)) != sorted(map(str, _DEFAULT_AXES)):
            raise ValueError(f"Conv2DSpace axes must be a permutation of {_DEFAULT_AXES}")
        self.axes = axes
        self._dtype = dtype

    @property
    def dtype(self):
        return _resolve_dtype(self._dtype)

    def __str__(self):
        return (
            f"Conv2DSpace(shape={self.shape}, num_channels={self.num_channels}, "
            f"axes={self.axes}, dtype={self.dtype})"
        )

    __repr__ = __str__

    def __eq__(self, other):
        return (
            type(self) is type(other)
            and self.shape == other.shape
            and self.num_channels == other.num_channels
            and self.axes == other.axes
            and self.dtype == other.dtype
        )

    __hash__ = Space.__hash__

    def get_total_dimension(self):
        return self.shape[0] * self.shape[1] * self.num_channels

    def _extents(self, batch_size):
        sizes = {"b": batch_size, 0: self.shape[0], 1: self.shape[1], "c": self.num_channels}
        return tuple(sizes[a] for a in self.axes)

    def get_batch_axis(self):
        return self.axes.index("b")

    def validate(self, batch):
        _check_array(self, batch, 4)
        expected = self._extents(batch.shape[self.get_batch_axis()])
        if tuple(batch.shape) != expected:
            raise ValueError(
                f"{self} expected a batch of shape {expected} (axes {self.axes}), "
                f"got one of shape {tuple(batch.shape)}"
            )
        _check_dtype(self, batch)

    def get_origin_batch(self, batch_size):
        return numpy.zeros(self._extents(batch_size), dtype=self.dtype)

    def _to_flat(self, batch):
        b01c = batch.transpose([self.axes.index(a) for a in _DEFAULT_AXES])
        return b01c.reshape((b01c.shape[0], -1))

    def _from_flat(self, flat):
        b01c = flat.reshape((flat.shape[0],) + self.shape + (self.num_channels,))
        return b01c.transpose([_DEFAULT_AXES.index(a) for a in self.axes])


class CompositeSpace(Space):
    """A tuple of batches, one for each component space."""

    def __init__(self, components):
        components = list(components)
        for c in components:
            if not isinstance(c, Space):
                raise TypeError(f"CompositeSpace components must be Spaces, got {c!r}")
        self.components = components
        self.num_components = len(components)

    def __str__(self):
        return f"CompositeSpace({', '.join(str(c) for c in self.components)})"

    __repr__ = __str__

    def __eq__(self, other):
        return (
            type(self) is type(other)
            and len(self.components) == len(other.components)
            and all(a == b for a, b in zip(self.components, other.components, strict=True))
        )

    __hash__ = Space.__hash__

    def get_total_dimension(self):
        return sum(c.get_total_dimension() for c in self.components)

    def restrict(self, idx):
        if isinstance(idx, int):
            return self.components[idx]
        return CompositeSpace([self.components[i] for i in idx])

    def validate(self, batch):
        if not isinstance(batch, tuple):
            raise TypeError(f"{self} expected a tuple batch, got {type(batch).__name__}")
        if len(batch) != len(self.components):
            raise ValueError(
                f"{self} expected {len(self.components)} components, got {len(batch)}"
            )
        for c, b in zip(self.components, batch, strict=True):
            c.validate(b)

    def batch_size(self, batch):
        self.validate(batch)
        return self.components[0].batch_size(batch[0])

    def np_format_as(self, batch, space):
        if isinstance(space, CompositeSpace) and len(space.components) == len(self.components):
            return tuple(
                c.np_format_as(b, s)
                for c, b, s in zip(self.components, batch, space.components, strict=True)
            )
        return super().np_format_as(batch, space)

    def _to_flat(self, batch):
        xp = backend.get_array_module(*batch)
        flats = [c._to_flat(b) for c, b in zip(self.components, batch, strict=True)]
        if any(hasattr(f, "_value") for f in flats):
            import autograd.numpy as anp

            return anp.concatenate(flats, axis=1)
        return xp.concatenate(flats, axis=1)

    def _from_flat(self, flat):
        out, start = [], 0
        for c in self.components:
            width = c.get_total_dimension()
            out.append(c._from_flat(flat[:, start : start + width]))
            start += width
        return tuple(out)


class NullSpace(Space):
    """The space of no data: its only batch is ``None``."""

    def __str__(self):
        return "NullSpace"

    __repr__ = __str__

    def __eq__(self, other):
        return type(self) is type(other)

    __hash__ = Space.__hash__

    def validate(self, batch):
        if batch is not None:
            raise TypeError(f"NullSpace only holds None, got {type(batch).__name__}")
