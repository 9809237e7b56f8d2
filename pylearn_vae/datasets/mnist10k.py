"""MNIST10k: 10,000 real MNIST digits shipped with pylearn_vae (``data/mnist10k.npz``).

The default dataset of pylearn_vae: it needs no download, so the tutorial runs on a
fresh clone. Splits are 8,000 / 1,000 / 1,000 (train / valid / test) 28x28 digits; the
file also holds one fixed stochastic binarization of each split (see
``data/README`` of the project), used by default so results stay comparable.
"""

import io
import os
import zipfile
import zlib
from pathlib import Path

import numpy

from pylearn_vae.datasets.binarized_images import BinarizedImages, check_which_set, row_range
from pylearn_vae.datasets.dataset import NotInstalledError

__all__ = ["MNIST10k", "candidate_paths", "default_path"]

SPLITS = ("train", "valid", "test")
_OFFSETS = {"train": 0, "valid": 8000, "test": 9000}


def candidate_paths():
    """Where the file is looked for, in order: the installed package, then the repository.

    ``pip install .`` (or a wheel) puts a copy at ``pylearn_vae/data/mnist10k.npz``
    (``setup.py`` copies it there); an editable install or a plain checkout reads the
    repository's ``data/mnist10k.npz``.
    """
    package = Path(__file__).resolve().parents[1]
    return [package / "data" / "mnist10k.npz", package.parent / "data" / "mnist10k.npz"]


def default_path():
    """``$PYLEARN_VAE_MNIST10K`` if set, else the first of :func:`candidate_paths` that exists.

    When none exists, the last candidate (the repository's ``data/mnist10k.npz``), so
    the error names where a checkout keeps it.
    """
    env = os.environ.get("PYLEARN_VAE_MNIST10K")
    if env:
        return Path(env)
    candidates = candidate_paths()
    return next((path for path in candidates if path.is_file()), candidates[-1])


class MNIST10k(BinarizedImages):
    """One split of the embedded MNIST10k digits, as 784-column rows.

    Parameters
    ----------
    which_set : {'train', 'valid', 'test'}
        8,000, 1,000 and 1,000 digits.
    start, stop : int, optional
        Keep rows ``[start, stop)`` of the split (either may be given alone).
    binarize : {'fixed', 'dynamic', None}
        ``'fixed'`` (default): the file's fixed binarization; ``'dynamic'``: a new
        Bernoulli(grey / 255) draw every epoch; None: grey levels in ``[0, 1]``.
    path : str, optional
        The ``.npz`` file; default :func:`default_path`.
    seed : int
        Seeds dynamic binarization.
    axes : tuple
        Axes of topological views (28, 28, 1).

    Attributes
    ----------
    images : uint8 array, shape (n, 784)
        Grey levels of the kept rows.
    labels : uint8 array, shape (n,)
        Their digits.
    """

    def __init__(
        self,
        which_set="train",
        start=None,
        stop=None,
        binarize="fixed",
        path=None,
        seed=2015,
        axes=("b", 0, 1, "c"),
        preprocessor=None,
        fit_preprocessor=False,
    ):
        self.which_set = check_which_set(which_set, SPLITS)
        self.path = Path(default_path() if path is None else os.path.expanduser(path))
        self.args = dict(
            which_set=which_set,
            start=start,
            stop=stop,
            binarize=binarize,
            path=path,
            seed=seed,
            axes=axes,
            preprocessor=preprocessor,
            fit_preprocessor=fit_preprocessor,
        )
        with self._open() as data:
            fixed = self._member(data, which_set)
            rows = row_range(fixed.shape[0], start, stop)
            offset = _OFFSETS[which_set]
            grey = self._member(data, "images")[offset + rows.start : offset + rows.stop]
            labels = self._member(data, f"{which_set}_labels")[rows]
            fixed = fixed[rows]
        super().__init__(
            grey,
            shape=(28, 28, 1),
            binarize=binarize,
            fixed=fixed,
            seed=seed,
            scale=255.0,
            labels=labels,
            axes=axes,
            preprocessor=preprocessor,
            fit_preprocessor=fit_preprocessor,
        )

    def _open(self):
        if not self.path.is_file():
            looked = " or ".join(str(path) for path in candidate_paths())
            where = looked if self.path in candidate_paths() else str(self.path)
            raise NotInstalledError(
                f"MNIST10k data file not found at {where}. It ships with pylearn_vae: "
                "reinstall the package (pip install pylearn-vae, or pip install . in the "
                "source tree), or point the path argument or PYLEARN_VAE_MNIST10K at a copy "
                "of mnist10k.npz"
            )
        try:
            # Read whole (2 MB): numpy.load leaves its file open when the zip is corrupt.
            return numpy.load(io.BytesIO(self.path.read_bytes()), allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise NotInstalledError(
                f"MNIST10k data file {self.path} cannot be read ({exc}): restore "
                "data/mnist10k.npz from the repository"
            ) from exc

    def _member(self, data, name):
        """The array ``name`` of the open ``.npz``; a corrupt member names the file."""
        try:
            return data[name]
        except (KeyError, OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise NotInstalledError(
                f"MNIST10k data file {self.path} cannot be read: its array {name!r} is "
                f"missing or corrupt ({type(exc).__name__}: {exc}); restore "
                "data/mnist10k.npz from the repository"
            ) from exc

    def get_test_set(self):
        """The ``'test'`` split, with the same binarization settings (all rows)."""
        args = dict(self.args, which_set="test", start=None, stop=None)
        return MNIST10k(**args)
