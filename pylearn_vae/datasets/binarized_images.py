"""Grey-level images seen as binary data, binarized once or afresh every epoch.

A VAE with a Bernoulli conditional models pixels in {0, 1}. Grey levels ``g`` in
``[0, scale]`` become binary by drawing each pixel from ``Bernoulli(g / scale)``:

``binarize='fixed'``
    one draw, kept for good (static binarization, as in Salakhutdinov & Murray's
    binarized MNIST), so results are comparable between runs;
``binarize='dynamic'``
    a new draw at every call to :meth:`BinarizedImages.iterator`, i.e. every epoch,
    from the dataset's own seeded generator (reproducible by ``seed``). The monitor
    calls ``iterator`` too, so keep ``'fixed'`` for validation and test sets;
``binarize=None``
    the grey levels scaled to ``[0, 1]``.

``X`` is in floatX; the grey levels stay available as ``images``.
"""

import numpy

from pylearn_vae import backend
from pylearn_vae.datasets.dense_design_matrix import DefaultViewConverter, DenseDesignMatrix
from pylearn_vae.utils.validation import check_data_values, check_number_in, check_seed

__all__ = [
    "BINARIZE_MODES",
    "BinarizedImages",
    "check_grey_levels",
    "check_which_set",
    "row_range",
]

BINARIZE_MODES = ("fixed", "dynamic", None)


def check_which_set(which_set, choices):
    """``which_set`` itself, after checking it names one of the dataset's splits.

    Parameters
    ----------
    which_set : str
    choices : iterable of str
        The splits, e.g. ``('train', 'valid', 'test')`` (a dict's keys work).

    Raises
    ------
    ValueError
        Pylearn2's message, listing the valid values.
    """
    choices = list(choices)
    if which_set not in choices:
        raise ValueError(
            f"Unrecognized which_set value {which_set!r}. Valid values are {choices}."
        )
    return which_set


def row_range(num_rows, start=None, stop=None):
    """The ``slice(start, stop)`` of ``num_rows`` rows, checked; either end may be None.

    Raises
    ------
    ValueError
        Unless ``0 <= start < stop <= num_rows``.
    """
    start = 0 if start is None else int(start)
    stop = num_rows if stop is None else int(stop)
    if start < 0:
        raise ValueError(f"start={start} must be >= 0")
    if stop > num_rows:
        raise ValueError(f"stop={stop} > m={num_rows}, the number of examples")
    if stop <= start:
        raise ValueError(f"stop={stop} must be > start={start}")
    return slice(start, stop)


def check_grey_levels(owner, images, scale, where=None):
    """``scale`` as a float, after checking it and the grey levels ``images`` against it.

    The levels must be finite and in ``[0, scale]``. Levels that all lie in ``[0, 1]``
    while ``scale`` is well above 1 (floats already scaled, e.g. an IDX file of floats
    with the default ``scale=255``) would binarize to almost blank images: a ValueError
    says to pass ``scale: 1.0``.
    """
    scale = check_number_in(owner, "scale", scale, 0, low_open=True)
    source = f" of {where}" if where is not None else ""
    images = numpy.asarray(images)
    if images.size == 0:
        return scale
    check_data_values(f"{owner}: the grey-level array{source}", images)
    low, high = float(images.min()), float(images.max())
    if low < 0 or high > scale:
        raise ValueError(
            f"{owner}: the grey levels{source} lie in [{low:g}, {high:g}], outside [0, scale] "
            f"with scale={scale:g}: pass the grey level meaning 'always on' as scale"
        )
    if images.dtype.kind == "f" and 0 < high <= 1 and scale > 1:
        raise ValueError(
            f"{owner}: the grey levels{source} are all in [0, 1] but scale={scale:g}, so the "
            "images would binarize to almost blank: pass scale: 1.0 for data already in [0, 1]"
        )
    return scale


class BinarizedImages(DenseDesignMatrix):
    """Images ``(num_examples, rows*cols*channels)`` of grey levels, binarized on demand.

    Parameters
    ----------
    images : array, shape (num_examples, dim)
        Grey levels in ``[0, scale]``.
    shape : (rows, cols, channels)
        The image shape, for the view converter.
    binarize : {'fixed', 'dynamic', None}
    fixed : array, shape (num_examples, dim), optional
        A ready-made fixed binarization (used with ``binarize='fixed'``); drawn from
        ``seed`` when not given.
    seed : int
        Seeds the generator of the binarizations.
    scale : float
        The grey level that means "always on".
    labels : array, shape (num_examples,), optional
        Kept as ``labels``; not a source (the VAE needs features only).
    axes : tuple
        Axes of topological views.
    preprocessor, fit_preprocessor
        As :class:`DenseDesignMatrix`; a dynamic redraw re-applies the preprocessor
        without fitting.
    """

    def __init__(
        self,
        images,
        shape,
        binarize="fixed",
        fixed=None,
        seed=20141008,
        scale=255.0,
        labels=None,
        axes=("b", 0, 1, "c"),
        preprocessor=None,
        fit_preprocessor=False,
    ):
        if binarize not in BINARIZE_MODES:
            raise ValueError(
                f"binarize={binarize!r} is not one of 'fixed', 'dynamic', None (grey levels)"
            )
        self.scale = check_grey_levels(type(self).__name__, images, scale)
        check_seed(type(self).__name__, "seed", seed)
        self.images = images
        self.labels = labels
        self.binarize = binarize
        self.seed = seed
        self._binarize_rng = numpy.random.default_rng(seed)
        self._probabilities = None
        if binarize is None:
            X = (numpy.asarray(images) / self.scale).astype(backend.floatX())
        elif binarize == "fixed" and fixed is not None:
            X = numpy.asarray(fixed).astype(backend.floatX())
        else:
            X = self._draw()
        super().__init__(
            X=X,
            view_converter=DefaultViewConverter(shape, axes=axes),
            preprocessor=preprocessor,
            fit_preprocessor=fit_preprocessor,
        )

    def _draw(self):
        """One Bernoulli(images / scale) draw, in floatX."""
        if self._probabilities is None:
            self._probabilities = (numpy.asarray(self.images) / self.scale).astype("float32")
        u = self._binarize_rng.random(self._probabilities.shape, dtype="float32")
        return (u < self._probabilities).astype(backend.floatX())

    def iterator(self, *args, **kwargs):
        """Batches as :meth:`DenseDesignMatrix.iterator`; a dynamic dataset redraws ``X`` first."""
        if self.binarize == "dynamic":
            self.set_design_matrix(self._draw())
            if self.preprocessor is not None:
                self.preprocessor.apply(self, can_fit=False)
        return super().iterator(*args, **kwargs)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_probabilities"] = None  # a cache, rebuilt from images on the next draw
        return state

    def adjust_for_viewer(self, X):
        """``clip(2 X - 1, -1, 1)``: pixels in ``[0, 1]`` shown in ``[-1, 1]``."""
        return numpy.clip(X * 2.0 - 1.0, -1.0, 1.0)

    def adjust_to_be_viewed_with(self, X, other, per_example=False):
        return self.adjust_for_viewer(X)
