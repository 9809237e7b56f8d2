"""A dense design matrix, one example per row (``pylearn2/datasets/dense_design_matrix.py``).

``X`` is ``(num_examples, dim)``; targets ``y`` are optional. Images keep their shape
through a *view converter*: :class:`DefaultViewConverter` maps each row to a
``(rows, cols, channels)`` image, reading the row channel-major, i.e. as
``(channels, rows, cols)``, exactly as Pylearn2 does.
"""

import numpy

from pylearn_vae.datasets.dataset import Dataset
from pylearn_vae.space import CompositeSpace, Conv2DSpace, IndexSpace, VectorSpace
from pylearn_vae.utils.iteration import FiniteDatasetIterator, resolve_iterator_class
from pylearn_vae.utils.rng import make_np_rng

__all__ = ["DefaultViewConverter", "DenseDesignMatrix"]

_B01C = ("b", 0, 1, "c")


class DefaultViewConverter:
    """Rows of a design matrix <-> images of ``shape = (rows, cols, channels)``.

    Parameters
    ----------
    shape : sequence of 3 ints
        ``(rows, cols, channels)``.
    axes : tuple
        Axis order of topological views, a permutation of ``('b', 0, 1, 'c')``.
    """

    def __init__(self, shape, axes=_B01C):
        self.shape = tuple(int(s) for s in shape)
        if len(self.shape) != 3:
            raise ValueError(
                f"DefaultViewConverter shape must be (rows, cols, channels), got {shape!r}"
            )
        self.axes = tuple(axes)
        if sorted(map(str, self.axes)) != sorted(map(str, _B01C)):
            raise ValueError(f"axes must be a permutation of {_B01C}, got {axes!r}")
        self.pixels_per_channel = self.shape[0] * self.shape[1]
        self.topo_space = Conv2DSpace(
            shape=self.shape[:2], num_channels=self.shape[2], axes=self.axes
        )

    def view_shape(self):
        """``(rows, cols, channels)``."""
        return self.shape

    def weights_view_shape(self):
        return self.shape

    def design_mat_to_topo_view(self, design_matrix):
        """``(n, rows*cols*channels)`` rows -> images with axes ``self.axes``."""
        X = numpy.asarray(design_matrix)
        if X.ndim != 2 or X.shape[1] != numpy.prod(self.shape):
            raise ValueError(
                f"expected a design matrix of shape (n, {numpy.prod(self.shape)}) for views "
                f"of shape {self.shape}, got {X.shape}"
            )
        rows, cols, channels = self.shape
        b01c = X.reshape((X.shape[0], channels, rows, cols)).transpose(0, 2, 3, 1)
        return b01c.transpose([_B01C.index(a) for a in self.axes])

    def design_mat_to_weights_view(self, X):
        """Rows (e.g. of a weight matrix) -> images with axes ``('b', 0, 1, 'c')``."""
        topo = self.design_mat_to_topo_view(X)
        return topo.transpose([self.axes.index(a) for a in _B01C])

    def topo_view_to_design_mat(self, V):
        """Images with axes ``self.axes`` -> ``(n, rows*cols*channels)`` rows."""
        V = numpy.asarray(V)
        if V.ndim != 4:
            raise ValueError(f"expected a 4-D topological view, got shape {V.shape}")
        b01c = V.transpose([self.axes.index(a) for a in _B01C])
        if b01c.shape[1:] != self.shape:
            raise ValueError(
                f"topological view has image shape {b01c.shape[1:]}, expected {self.shape} "
                f"(axes {self.axes})"
            )
        return b01c.transpose(0, 3, 1, 2).reshape((V.shape[self.axes.index("b")], -1))


class DenseDesignMatrix(Dataset):
    """A dataset whose examples are the rows of ``X`` (and optionally of ``y``).

    Parameters
    ----------
    X : array, shape (num_examples, dim), optional
        Kept as given.
    topo_view : array, 4-D with axes ``axes``, optional
        Images, given instead of ``X``; a :class:`DefaultViewConverter` is made for them.
    y : array, shape (num_examples, k) or (num_examples,), optional
        Targets; a 1-D ``y`` is kept as a ``(num_examples, 1)`` column.
    view_converter : DefaultViewConverter, optional
    axes : tuple
        Axes of ``topo_view``.
    rng : RandomState or seed
        Used by stochastic iteration modes when ``iterator`` gets no rng.
    preprocessor : Preprocessor, optional
        Applied at the end of construction as ``preprocessor.apply(self, can_fit=...)``.
    fit_preprocessor : bool
    X_labels, y_labels : int, optional
        The number of distinct values, making the source an ``IndexSpace``.
    """

    _default_seed = (17, 2, 946)

    def __init__(
        self,
        X=None,
        topo_view=None,
        y=None,
        view_converter=None,
        axes=_B01C,
        rng=_default_seed,
        preprocessor=None,
        fit_preprocessor=False,
        X_labels=None,
        y_labels=None,
    ):
        if (X is None) == (topo_view is None):
            raise ValueError("DenseDesignMatrix needs exactly one of X and topo_view")
        self.X_labels = X_labels
        self.y_labels = y_labels
        self.y = None
        if X is not None:
            if numpy.ndim(X) != 2:
                raise ValueError(f"X must be a 2-D design matrix, got shape {numpy.shape(X)}")
            self.X = X
            self.view_converter = view_converter
        else:
            self.set_topological_view(topo_view, axes)
        if y is not None:
            y = numpy.asarray(y)
            if y.ndim == 1:
                y = y.reshape((-1, 1))
            if y.ndim != 2 or y.shape[0] != self.X.shape[0]:
                raise ValueError(
                    f"y must have one row per example ({self.X.shape[0]}), got shape {y.shape}"
                )
            self.y = y
        self.rng = make_np_rng(rng, self._default_seed, which_method=["randint", "shuffle"])
        self._iter_subset_class = resolve_iterator_class("sequential")
        self._iter_batch_size = None
        self._iter_num_batches = None
        self.preprocessor = preprocessor
        if preprocessor is not None:
            preprocessor.apply(self, can_fit=fit_preprocessor)

    # -- the data ----------------------------------------------------------------------

    def get_num_examples(self):
        return self.X.shape[0]

    def has_targets(self):
        return self.y is not None

    def get_data(self):
        """``X``, or ``(X, y)`` when there are targets."""
        return self.X if self.y is None else (self.X, self.y)

    def get_data_specs(self):
        """``(VectorSpace(dim), 'features')``, with a targets component when ``y`` is set."""
        if self.X_labels is None:
            X_space = VectorSpace(dim=self.X.shape[1])
        else:
            X_space = IndexSpace(dim=self.X.shape[1], max_labels=self.X_labels)
        if self.y is None:
            return (X_space, "features")
        if self.y_labels is None:
            y_space = VectorSpace(dim=self.y.shape[1])
        else:
            y_space = IndexSpace(dim=self.y.shape[1], max_labels=self.y_labels)
        return (CompositeSpace([X_space, y_space]), ("features", "targets"))

    def get_design_matrix(self, topo=None):
        """``X``, or the design matrix of the images ``topo``."""
        if topo is not None:
            return self._converter().topo_view_to_design_mat(topo)
        return self.X

    def set_design_matrix(self, X):
        """Replace ``X`` (same number of rows as any targets)."""
        if numpy.ndim(X) != 2:
            raise ValueError(f"X must be a 2-D design matrix, got shape {numpy.shape(X)}")
        if self.y is not None and X.shape[0] != self.y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {self.y.shape[0]}")
        self.X = X

    def get_targets(self):
        return self.y

    # -- views -------------------------------------------------------------------------

    def _converter(self):
        if self.view_converter is None:
            raise ValueError(
                f"{type(self).__name__} has no view converter: build it from a topo_view "
                "or pass view_converter=DefaultViewConverter((rows, cols, channels))"
            )
        return self.view_converter

    def view_shape(self):
        """``(rows, cols, channels)`` of an example seen as an image, or None."""
        return None if self.view_converter is None else self.view_converter.view_shape()

    def get_topological_view(self, mat=None):
        """``mat`` (default ``X``) as images with the converter's axes."""
        return self._converter().design_mat_to_topo_view(self.X if mat is None else mat)

    def set_topological_view(self, V, axes=_B01C):
        """Replace ``X`` by the images ``V`` (4-D, axes ``axes``)."""
        V = numpy.asarray(V)
        axes = tuple(axes)
        if V.ndim != len(axes):
            raise ValueError(f"topo_view has {V.ndim} axes but axes={axes} names {len(axes)}")
        shape = [V.shape[axes.index(a)] for a in (0, 1, "c")]
        self.view_converter = DefaultViewConverter(shape, axes=axes)
        self.X = self.view_converter.topo_view_to_design_mat(V)

    def get_weights_view(self, mat):
        """Rows of ``mat`` (e.g. first-layer weights) as ``('b', 0, 1, 'c')`` images."""
        return self._converter().design_mat_to_weights_view(mat)

    def adjust_for_viewer(self, X):
        """Identity: ``X`` is shown as it is."""
        return X

    # -- iteration ---------------------------------------------------------------------

    def iterator(
        self,
        mode=None,
        batch_size=None,
        num_batches=None,
        rng=None,
        data_specs=None,
        return_tuple=False,
    ):
        """Batches of the rows; see :meth:`pylearn_vae.datasets.dataset.Dataset.iterator`.

        A stochastic mode without ``rng`` uses (and advances) the dataset's ``rng``, so
        each epoch gets a new order.
        """
        mode = self._iter_subset_class if mode is None else resolve_iterator_class(mode)
        batch_size = self._iter_batch_size if batch_size is None else batch_size
        num_batches = self._iter_num_batches if num_batches is None else num_batches
        if rng is None and mode.stochastic:
            rng = self.rng
        subset_iterator = mode(self.get_num_examples(), batch_size, num_batches, rng)
        return FiniteDatasetIterator(
            self, subset_iterator, data_specs=data_specs, return_tuple=return_tuple
        )
