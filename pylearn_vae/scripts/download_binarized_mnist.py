"""Download Larochelle & Murray's binarized MNIST and save it as ``.npy`` files.

Makes ``<data path>/binarized_mnist/binarized_mnist_{train,valid,test}.npy``, where
:class:`pylearn_vae.datasets.binarized_mnist.BinarizedMNIST` reads them. Each ``.amat``
file (text, one digit of 784 values 0/1 per line) is downloaded into that folder,
converted, written atomically (a temporary file then a rename), and deleted. Sets whose
``.npy`` already exists are skipped.

The ``.npy`` holds uint8 0/1 (50 MB for train instead of 300 MB of float64);
``BinarizedMNIST`` turns it into the original's 0./1. float64.
"""

import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request

import numpy

__all__ = ["BASE_URL", "DownloadError", "download_binarized_mnist", "main"]

BASE_URL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"
SETS = ("train", "valid", "test")
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A file could not be fetched; the message names the URL and the alternatives."""


def download_binarized_mnist(data_path=None, base_url=BASE_URL, sets=SETS, progress=True):
    """Fetch and convert the sets that are missing.

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

    Returns
    -------
    list of str
        The ``.npy`` paths, one per set.
    """
    if data_path is None:
        data_path = os.environ.get("PYLEARN2_DATA_PATH")
        if not data_path:
            raise ValueError(
                "no data folder: set PYLEARN2_DATA_PATH (e.g. export PYLEARN2_DATA_PATH=~/data) "
                "or pass --data-path"
            )
    folder = os.path.join(os.path.expanduser(data_path), "binarized_mnist")
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
        url = base_url.rstrip("/") + "/" + name + ".amat"
        amat_path = _fetch(url, folder, progress)
        try:
            _convert(amat_path, npy_path)
        finally:
            os.remove(amat_path)
        print(f"saved {npy_path}", file=sys.stderr)
    return paths


def _fetch(url, folder, progress):
    """Download ``url`` to a temporary file in ``folder``; return its path."""
    fd, path = tempfile.mkstemp(suffix=".amat.part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with _progress_bar(total, os.path.basename(url), progress) as update:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    update(len(chunk))
    except BaseException as exc:
        os.remove(path)
        if not isinstance(exc, OSError):  # URLError is an OSError
            raise
        raise DownloadError(
            f"cannot download {url} ({getattr(exc, 'reason', exc)}). Check the internet "
            "connection, or use the embedded dataset pylearn_vae.datasets.mnist10k.MNIST10k"
        ) from exc
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


class _progress_bar:
    """Context manager giving an ``update(num_bytes)`` callable; silent off a terminal."""

    def __init__(self, total, label, enabled):
        self.total, self.label, self.done, self.bar = total, label, 0, None
        self.enabled = enabled and sys.stderr.isatty()

    def __enter__(self):
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=self.total, desc=self.label, unit="B", unit_scale=True)
        return self.update

    def update(self, num_bytes):
        self.done += num_bytes
        if self.bar is not None:
            self.bar.update(num_bytes)
        elif self.enabled:
            if self.total:
                filled = int(40 * self.done / self.total)
                line = f"{'#' * filled:<40} {100 * self.done / self.total:5.1f}%"
            else:
                line = f"{self.done / 1e6:.1f} MB"
            width = shutil.get_terminal_size().columns
            sys.stderr.write(f"\r{self.label} {line}"[:width])
            sys.stderr.flush()

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")
        return False


def main(argv=None):
    """Command line: ``download_binarized_mnist.py [--data-path DIR] [--base-url URL]``."""
    from pylearn_vae.scripts import _commands
    from pylearn_vae.scripts._cli import ArgumentParser, clear_errors

    parser = ArgumentParser(
        prog=_commands.prog("download_binarized_mnist.py"), description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--data-path", help="root data folder (default: $PYLEARN2_DATA_PATH)", default=None
    )
    parser.add_argument("--base-url", default=BASE_URL, help="where the .amat files are")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        with clear_errors(parser.prog, args.debug):
            download_binarized_mnist(args.data_path, args.base_url, progress=not args.no_progress)
    except SystemExit as exc:
        return exc.code  # the one-line message is on stderr
    return 0


if __name__ == "__main__":
    sys.exit(main())
