"""Larochelle & Murray's binarized MNIST (50,000 / 10,000 / 10,000 digits), from ``.npy``.

The files ``${PYLEARN2_DATA_PATH}/binarized_mnist/binarized_mnist_<set>.npy`` are made by
``python bin/download_binarized_mnist.py``. Where the internet is out of reach, use
:class:`pylearn_vae.datasets.mnist10k.MNIST10k`, which ships with the repository.
"""

import os

import numpy

from pylearn_vae.datasets.binarized_images import check_which_set, row_range
from pylearn_vae.datasets.dataset import NotInstalledError
from pylearn_vae.datasets.dense_design_matrix import DefaultViewConverter, DenseDesignMatrix
from pylearn_vae.utils.rng import make_np_rng

__all__ = ["BinarizedMNIST", "NotInstalledError", "data_file"]

# Rows each file must have; tests may lower them for small fake files.
EXPECTED_ROWS = {"train": 50000, "valid": 10000, "test": 10000}

_HOW_TO_GET = (
    "Get it with `PYLEARN2_DATA_PATH=/some/folder python bin/download_binarized_mnist.py` "
    "(installed: pylearn-vae-download-binarized-mnist; needs the internet), or use the "
    "embedded dataset pylearn_vae.datasets.mnist10k.MNIST10k instead"
)


def data_file(which_set):
    """The path of the ``.npy`` file of ``which_set`` under ``$PYLEARN2_DATA_PATH``."""
    root = os.environ.get("PYLEARN2_DATA_PATH")
    if not root:
        raise NotInstalledError(
            f"BinarizedMNIST needs the environment variable PYLEARN2_DATA_PATH, the folder "
            f"holding binarized_mnist/binarized_mnist_{which_set}.npy, and it is not set. "
            + _HOW_TO_GET
        )
    return os.path.join(
        os.path.expanduser(root), "binarized_mnist", f"binarized_mnist_{which_set}.npy"
    )


class BinarizedMNIST(DenseDesignMatrix):
    """Binarized MNIST, one digit per 784-column row of 0./1. (float64).

    Fixes of Pylearn2's version (docs/quirks.md#quirk-26): ``axes`` sets the axes of the
    topological view; ``start`` and ``stop`` each work alone; ``shuffle`` applies a
    uniformly random permutation (Pylearn2 swapped row ``i`` with a random row, which is
    not uniform) drawn from ``RandomState([1, 2, 3])``; error texts are clean.

    Parameters
    ----------
    which_set : {'train', 'valid', 'test'}
    shuffle : bool
        Permute the rows (before ``start``/``stop`` are applied).
    start, stop : int, optional
        Keep rows ``[start, stop)``.
    axes : sequence
        Axes of topological views of the ``(28, 28, 1)`` images.
    preprocessor : Preprocessor, optional
    fit_preprocessor : bool
    fit_test_preprocessor : bool
        ``fit_preprocessor`` of the set :meth:`get_test_set` builds.

    Raises
    ------
    NotInstalledError
        When ``PYLEARN2_DATA_PATH`` is unset or the file is missing.
    ValueError
        On a bad ``which_set``, ``start``/``stop``, or a file of the wrong shape.
    """

    def __init__(
        self,
        which_set,
        shuffle=False,
        start=None,
        stop=None,
        axes=("b", 0, 1, "c"),
        preprocessor=None,
        fit_preprocessor=False,
        fit_test_preprocessor=False,
    ):
        check_which_set(which_set, EXPECTED_ROWS)
        self.args = dict(
            which_set=which_set,
            shuffle=shuffle,
            start=start,
            stop=stop,
            axes=axes,
            preprocessor=preprocessor,
            fit_preprocessor=fit_preprocessor,
            fit_test_preprocessor=fit_test_preprocessor,
        )
        path = data_file(which_set)
        try:
            X = numpy.load(path, allow_pickle=False)
        except OSError as exc:
            raise NotInstalledError(
                f"BinarizedMNIST data file {path} cannot be read ({exc}). " + _HOW_TO_GET
            ) from exc
        except (ValueError, EOFError) as exc:
            raise ValueError(
                f"{path} is not a valid .npy file ({exc}): delete it and re-run "
                "bin/download_binarized_mnist.py (installed: pylearn-vae-download-binarized-mnist)"
            ) from exc
        m = EXPECTED_ROWS[which_set]
        if X.ndim != 2 or X.shape != (m, 28**2):
            raise ValueError(
                f"{path} holds an array of shape {X.shape}; the {which_set} set must be "
                f"({m}, 784): re-run bin/download_binarized_mnist.py "
                "(installed: pylearn-vae-download-binarized-mnist)"
            )
        X = X.astype("float64", copy=False)
        if shuffle:
            self.shuffle_rng = make_np_rng(None, [1, 2, 3], which_method="shuffle")
            X = X[self.shuffle_rng.permutation(m)]
        X = X[row_range(m, start, stop)]
        super().__init__(
            X=X,
            view_converter=DefaultViewConverter((28, 28, 1), axes=axes),
            preprocessor=preprocessor,
            fit_preprocessor=fit_preprocessor,
        )

    def adjust_for_viewer(self, X):
        """``clip(2 X - 1, -1, 1)``: pixels in ``[0, 1]`` shown in ``[-1, 1]``."""
        return numpy.clip(X * 2.0 - 1.0, -1.0, 1.0)

    def adjust_to_be_viewed_with(self, X, other, per_example=False):
        return self.adjust_for_viewer(X)

    def get_test_set(self):
        """The whole ``'test'`` set, fitting its preprocessor as ``fit_test_preprocessor`` says."""
        args = dict(self.args, which_set="test", start=None, stop=None)
        args["fit_preprocessor"] = args.pop("fit_test_preprocessor")
        return BinarizedMNIST(**args)
