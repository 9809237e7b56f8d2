"""Images in the IDX format of MNIST and Fashion-MNIST, plain or gzipped.

An IDX file is a 4-byte magic number -- two zero bytes, a type code, the number of
dimensions ``d`` -- then ``d`` big-endian uint32 extents, then the values, big-endian,
in C order.
"""

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy

from pylearn_vae.datasets.binarized_images import (
    BinarizedImages,
    check_grey_levels,
    check_which_set,
    row_range,
)
from pylearn_vae.datasets.dataset import NotInstalledError
from pylearn_vae.utils.memory import available_memory
from pylearn_vae.utils.validation import check_seed

__all__ = ["MNIST", "FashionMNIST", "IDXImages", "read_idx", "write_idx"]

_DTYPES = {
    0x08: numpy.dtype("u1"),
    0x09: numpy.dtype("i1"),
    0x0B: numpy.dtype(">i2"),
    0x0C: numpy.dtype(">i4"),
    0x0D: numpy.dtype(">f4"),
    0x0E: numpy.dtype(">f8"),
}
_CODES = {dtype.newbyteorder(">"): code for code, dtype in _DTYPES.items()}


def read_idx(path):
    """The array stored in the IDX file ``path`` (gzipped when it ends in ``.gz``).

    Returns
    -------
    numpy.ndarray
        In native byte order, with the file's shape.

    Raises
    ------
    ValueError
        When the file is not a well-formed IDX file.
    """
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {data[:4].hex()})")
    dtype, ndim = _DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(s) for s in numpy.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + math.prod(shape) * dtype.itemsize  # exact: no int64 wrap-around
    if len(data) != expected:
        raise ValueError(
            f"{path}: an IDX array of shape {shape} and type {dtype.name} needs {expected} "
            f"bytes, the file has {len(data)} (truncated or corrupt)"
        )
    array = numpy.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _read_bytes(path):
    """The (gunzipped) bytes of ``path``; a corrupt or truncated ``.gz`` is a ValueError
    naming the file."""
    if not str(path).endswith(".gz"):
        with open(path, "rb") as f:
            return f.read()
    free = available_memory()
    limit = 1 << 62 if free is None else free // 2
    chunks, size = [], 0
    try:
        with gzip.open(path, "rb") as f:
            while size <= limit and (chunk := f.read(1 << 24)):  # a bomb stops at the limit
                chunks.append(chunk)
                size += len(chunk)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(
            f"{path} is not a readable gzip file ({type(exc).__name__}: {exc}): it is "
            "truncated or corrupt; download it again"
        ) from exc
    if size > limit:
        raise ValueError(
            f"{path} unpacks to more than {limit / 2**30:.1f} GiB, half the memory available: "
            "not an IDX file of this package's datasets (MNIST's largest is 47 MB)"
        )
    return b"".join(chunks)


def write_idx(path, array):
    """Write ``array`` to ``path`` as IDX (gzipped when ``path`` ends in ``.gz``)."""
    array = numpy.asarray(array)
    big = array.dtype.newbyteorder(">")
    if big not in _CODES:
        raise ValueError(f"IDX cannot hold {array.dtype.name} values")
    header = bytes([0, 0, _CODES[big], array.ndim]) + numpy.asarray(array.shape, ">u4").tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + numpy.ascontiguousarray(array, big).tobytes())


class IDXImages(BinarizedImages):
    """Images (and optionally labels) read from IDX files, binarized on demand.

    Parameters
    ----------
    images_path : str
        IDX file of shape ``(n, rows, cols)`` (or ``(n, dim)``, seen as ``(1, dim)`` images).
    labels_path : str, optional
        IDX file of shape ``(n,)``; kept as ``labels``.
    start, stop : int, optional
        Keep examples ``[start, stop)``. A fixed binarization is drawn over all the
        file's images first, so a subset has the same bits as the whole.
    binarize : {'fixed', 'dynamic', None}
        See :mod:`pylearn_vae.datasets.binarized_images`.
    seed : int
        Seeds the binarization.
    scale : float
        The grey level meaning "always on" (255 for MNIST bytes).
    axes : tuple
        Axes of topological views.
    """

    def __init__(
        self,
        images_path,
        labels_path=None,
        start=None,
        stop=None,
        binarize="fixed",
        seed=20141008,
        scale=255.0,
        axes=("b", 0, 1, "c"),
        preprocessor=None,
        fit_preprocessor=False,
    ):
        images = read_idx(images_path)
        if images.ndim == 3:
            shape = images.shape[1:] + (1,)
        elif images.ndim == 2:
            shape = (1, images.shape[1], 1)
        else:
            raise ValueError(
                f"{images_path}: expected images of shape (n, rows, cols), got {images.shape}"
            )
        images = images.reshape((images.shape[0], -1))
        labels = None
        if labels_path is not None:
            labels = read_idx(labels_path)
            if labels.shape != (images.shape[0],):
                raise ValueError(
                    f"{labels_path}: expected {images.shape[0]} labels of shape "
                    f"({images.shape[0]},), got shape {labels.shape}"
                )
        rows = row_range(images.shape[0], start, stop)
        scale = check_grey_levels(type(self).__name__, images, scale, where=images_path)
        check_seed(type(self).__name__, "seed", seed)
        fixed = None
        if binarize == "fixed":
            draw = numpy.random.default_rng(seed).random(images.shape, dtype="float32")
            fixed = (draw < images / numpy.float32(scale))[rows]
        super().__init__(
            images[rows],
            shape=shape,
            binarize=binarize,
            fixed=fixed,
            seed=seed,
            scale=scale,
            labels=None if labels is None else labels[rows],
            axes=axes,
            preprocessor=preprocessor,
            fit_preprocessor=fit_preprocessor,
        )


FASHION_MNIST_PATH = "/usr/share/datasets/fashion-mnist"
_FASHION_PREFIX = {"train": "train", "test": "t10k"}


class FashionMNIST(IDXImages):
    """Fashion-MNIST (60,000 train / 10,000 test 28x28 images) from its IDX files.

    Parameters
    ----------
    which_set : {'train', 'test'}
    path : str
        Folder holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``, where
        ``apt-get install dataset-fashion-mnist`` puts them by default.
    start, stop, binarize, seed, axes, preprocessor, fit_preprocessor
        As :class:`IDXImages`.
    """

    def __init__(
        self,
        which_set="train",
        path=FASHION_MNIST_PATH,
        start=None,
        stop=None,
        binarize="fixed",
        seed=20141008,
        axes=("b", 0, 1, "c"),
        preprocessor=None,
        fit_preprocessor=False,
    ):
        folder = Path(os.path.expanduser(path))
        prefix = _FASHION_PREFIX[check_which_set(which_set, _FASHION_PREFIX)]
        images_path, labels_path = self._split_files(folder, prefix)
        self.which_set = which_set
        super().__init__(
            images_path,
            labels_path,
            start=start,
            stop=stop,
            binarize=binarize,
            seed=seed,
            scale=255.0,
            axes=axes,
            preprocessor=preprocessor,
            fit_preprocessor=fit_preprocessor,
        )

    @staticmethod
    def _split_files(folder, prefix):
        """The images and labels files of a split; NotInstalledError when missing."""
        images_path = folder / f"{prefix}-images-idx3-ubyte.gz"
        labels_path = folder / f"{prefix}-labels-idx1-ubyte.gz"
        missing = [str(p) for p in (images_path, labels_path) if not p.is_file()]
        if missing:
            raise NotInstalledError(
                f"Fashion-MNIST files are missing: {', '.join(missing)}. Install them with "
                f"`apt-get install dataset-fashion-mnist` (puts them in {FASHION_MNIST_PATH}), "
                "or pass path= the folder holding the IDX .gz files"
            )
        return images_path, labels_path



def mnist_path():
    """``${PYLEARN2_DATA_PATH}/mnist``, where Pylearn2 kept MNIST's IDX files."""
    root = os.environ.get("PYLEARN2_DATA_PATH")
    if not root:
        raise NotInstalledError(
            "MNIST needs PYLEARN2_DATA_PATH, the folder holding mnist/ with MNIST's IDX files "
            "(train-images-idx3-ubyte[.gz], ...), and it is not set; or pass path= that "
            "folder, or use the embedded digits: --dataset mnist10k"
        )
    return os.path.join(os.path.expanduser(root), "mnist")


class MNIST(FashionMNIST):
    """MNIST (60,000 train / 10,000 test 28x28 digits) from its IDX files.

    As Pylearn2's ``pylearn2/datasets/mnist.py`` reads them, from
    ``${PYLEARN2_DATA_PATH}/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte``
    (gzipped ``.gz`` files too; ``bin/download_mnist.py`` installs them, checked). The
    same format and splits as :class:`FashionMNIST`.

    With the defaults (``binarize='fixed'``, ``seed=20141008``) a split is binarized once,
    the same way every time: ``u < grey / 255`` with ``u`` drawn by
    ``numpy.random.default_rng(20141008)`` over all the file's images. These are the
    10,000 test digits ``--dataset mnist`` evaluates (docs/results.md); training sets use
    ``binarize: 'dynamic'``, a new draw each epoch.

    Parameters
    ----------
    which_set : {'train', 'test'}
    path : str, optional
        The folder of the IDX files; default :func:`mnist_path`.
    start, stop, binarize, seed, axes, preprocessor, fit_preprocessor
        As :class:`IDXImages`.
    """

    def __init__(self, which_set="train", path=None, **kwargs):
        super().__init__(which_set, mnist_path() if path is None else path, **kwargs)

    @staticmethod
    def _split_files(folder, prefix):
        found = []
        for kind in ("images-idx3", "labels-idx1"):
            plain = folder / f"{prefix}-{kind}-ubyte"
            gz = plain.with_name(plain.name + ".gz")
            if not (plain.is_file() or gz.is_file()):
                raise NotInstalledError(
                    f"MNIST file {plain} (or {gz.name}) is missing: put MNIST's IDX files in "
                    f"{folder}, pass path= their folder, or use the embedded digits "
                    "(MNIST10k, --dataset mnist10k)"
                )
            found.append(plain if plain.is_file() else gz)
        return found
