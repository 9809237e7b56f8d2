"""Download Larochelle & Murray's binarized MNIST and save it as ``.npy`` files.

Makes ``<data path>/binarized_mnist/binarized_mnist_{train,valid,test}.npy``, where
:class:`pylearn_vae.datasets.binarized_mnist.BinarizedMNIST` reads them. Each ``.amat``
file (text, one digit of 784 values 0/1 per line) is downloaded into that folder with
``pooch`` (``pip install 'pylearn-vae[data]'``; a progress bar on a terminal), checked
against its published SHA-256 (:data:`CHECKSUMS`), converted, written atomically (a
temporary file then a rename), and deleted. ``--from DIR`` takes the ``.amat`` files from
a folder instead, checked the same way. Sets whose ``.npy`` already exists are skipped.

The ``.npy`` holds uint8 0/1 (50 MB for train instead of 300 MB of float64);
``BinarizedMNIST`` turns it into the original's 0./1. float64.
"""

import os
import sys
import tempfile

import numpy

from pylearn_vae.scripts._fetch import ChecksumError, data_root, fetch, sha256_of

__all__ = [
    "BASE_URL",
    "CHECKSUMS",
    "ChecksumError",
    "DownloadError",
    "build_parser",
    "download_binarized_mnist",
    "main",
]

# What --help ends with: commands that run this script (their arguments).
EXAMPLES = [
    "--data-path ~/data   # downloads (pip install 'pylearn-vae[data]')",
    "--data-path ~/data --from amat/   # .amat files you have",
]

BASE_URL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"
SETS = ("train", "valid", "test")
# SHA-256 of each .amat file, as TensorFlow Datasets publishes them
# (tensorflow_datasets/url_checksums/binarized_mnist.txt).
CHECKSUMS = {
    "train": "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d",
    "valid": "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2",
    "test": "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c",
}


class DownloadError(OSError):
    """A file could not be fetched; the message names the URL and the alternatives."""


def download_binarized_mnist(
    data_path=None, base_url=BASE_URL, sets=SETS, progress=True, source=None, checksums=None
):
    """Fetch (or copy from ``source``), check and convert the sets that are missing.

    Parameters
    ----------
    data_path : str, optional
        Root data folder; default ``$PYLEARN2_DATA_PATH``.
    base_url : str
        Folder URL holding ``binarized_mnist_<set>.amat`` (``file://`` works, for tests).
    sets : sequence of str
        Among ``'train'``, ``'valid'``, ``'test'``.
    progress : bool
        Show a progress bar on stderr (tqdm when installed) when it is a terminal.
    source : str, optional
        A folder holding ``binarized_mnist_<set>.amat``: copy them from there instead of
        downloading.
    checksums : dict {set: str}, optional
        SHA-256 of each ``.amat``; default :data:`CHECKSUMS`.

    Returns
    -------
    list of str
        The ``.npy`` paths, one per set.
    """
    checksums = CHECKSUMS if checksums is None else checksums
    if source is not None and not os.path.isdir(os.path.expanduser(source)):
        raise ValueError(f"--from {source}: no such folder")
    folder = os.path.join(data_root(data_path), "binarized_mnist")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for which_set in sets:
        if which_set not in SETS:
            raise ValueError(f"unknown set {which_set!r}: choose among {', '.join(SETS)}")
        name = f"binarized_mnist_{which_set}"
        npy_path = os.path.join(folder, name + ".npy")
        paths.append(npy_path)
        if os.path.exists(npy_path):
            print(f"{npy_path} is already present", file=sys.stderr)
            continue
        if source is not None:
            amat_path = _checked_source(os.path.expanduser(source), name, checksums[which_set])
            _convert(amat_path, npy_path)
        else:
            url = base_url.rstrip("/") + "/" + name + ".amat"
            amat_path = _fetch(url, folder, checksums[which_set], progress)
            try:
                _convert(amat_path, npy_path)
            finally:
                os.remove(amat_path)
        print(f"saved {npy_path} (SHA-256 checked)", file=sys.stderr)
    return paths


def _fetch(url, folder, sha256, progress):
    """Download ``url`` into ``folder``, checked; return its path."""
    try:
        return fetch(url, folder, sha256, os.path.basename(url), progress)
    except OSError as exc:  # URLError and requests' errors are OSErrors
        reason = " ".join(str(getattr(exc, "reason", None) or exc).split())
        raise DownloadError(
            f"cannot download {url} ({reason[:300]}). Check the internet connection, use "
            "--from DIR with a copy of the .amat files, or use the embedded dataset "
            "pylearn_vae.datasets.mnist10k.MNIST10k"
        ) from exc


def _checked_source(source, name, sha256):
    """The path of ``source/name.amat``, after checking its SHA-256 (it is converted
    where it is, not copied)."""
    path = os.path.join(source, name + ".amat")
    if not os.path.isfile(path):
        raise ValueError(f"--from {source}: {name}.amat is not there")
    digest = sha256_of(path)
    if digest != sha256:
        raise ChecksumError(
            f"{path} is not Larochelle & Murray's {name}.amat: its SHA-256 is {digest}, "
            f"expected {sha256}"
        )
    return path


def _convert(amat_path, npy_path):
    """Parse the ``.amat`` text and write ``npy_path`` atomically as uint8 0/1."""
    values = numpy.loadtxt(amat_path, dtype="float64", ndmin=2)
    if values.shape[1] != 784 or not numpy.isin(values, (0.0, 1.0)).all():
        raise ValueError(f"{amat_path}: expected rows of 784 values 0/1, got shape {values.shape}")
    fd, tmp = tempfile.mkstemp(suffix=".npy.part", dir=os.path.dirname(npy_path))
    try:
        with os.fdopen(fd, "wb") as f:
            numpy.save(f, values.astype("uint8"))
        os.replace(tmp, npy_path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def build_parser():
    from pylearn_vae.scripts import _commands
    from pylearn_vae.scripts._cli import ArgumentParser

    parser = ArgumentParser(
        prog=_commands.prog("download_binarized_mnist.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument(
        "--data-path", help="root data folder (default: $PYLEARN2_DATA_PATH)", default=None
    )
    parser.add_argument(
        "--base-url", default=BASE_URL, help="where the .amat files are (default: %(default)s)"
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        default=None,
        help="take the .amat files from this folder instead of downloading them",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv=None):
    """Command line: ``download_binarized_mnist.py [--data-path DIR] [--base-url URL]
    [--from DIR]``."""
    from pylearn_vae.scripts._cli import clear_errors

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with clear_errors(parser.prog, args.debug):
            download_binarized_mnist(
                args.data_path,
                args.base_url,
                progress=not args.no_progress,
                source=args.source,
            )
    except SystemExit as exc:
        return exc.code  # the one-line message is on stderr
    return 0


if __name__ == "__main__":
    sys.exit(main())
