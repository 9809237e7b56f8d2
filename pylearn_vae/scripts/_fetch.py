"""What the download scripts share: one checked download through ``pooch``.

:func:`fetch` downloads a URL into a folder with ``pooch`` (``pip install
'pylearn-vae[data]'``), with a progress bar on a terminal, and checks the file against
its known SHA-256 before it is kept; ``file://`` URLs (a local mirror, the tests) are
copied. :func:`install_checked` writes a file atomically once its (gunzipped) bytes have
the SHA-256 expected.
"""

import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import urllib.parse
import zlib

__all__ = ["ChecksumError", "fetch", "install_checked", "sha256_of"]

_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file's bytes are not the ones expected; the message names the file and both
    digests."""


def fetch(url, folder, sha256, fname, progress=True):
    """Download ``url`` to ``folder/fname`` and check its SHA-256 against ``sha256``.

    Returns
    -------
    str
        The path of the downloaded file (the caller removes it when done).

    Raises
    ------
    ChecksumError
        The file's SHA-256 differs (nothing is left behind).
    OSError
        The URL could not be fetched.
    MissingLibraryError
        pooch is not installed.
    """
    pooch = _require_pooch()
    try:
        return pooch.retrieve(
            url,
            known_hash=f"sha256:{sha256}",
            fname=fname,
            path=folder,
            downloader=_downloader(url, progress),
        )
    except ValueError as exc:  # pooch: the hash does not match (the file is removed)
        raise ChecksumError(
            f"{url} is not the expected file: {' '.join(str(exc).split())[:300]}"
        ) from exc


def data_root(data_path=None):
    """``data_path``, or ``$PYLEARN2_DATA_PATH`` when None, with ``~`` expanded."""
    if data_path is None:
        data_path = os.environ.get("PYLEARN2_DATA_PATH")
        if not data_path:
            raise ValueError(
                "no data folder: set PYLEARN2_DATA_PATH (e.g. export PYLEARN2_DATA_PATH=~/data) "
                "or pass --data-path"
            )
    return os.path.expanduser(data_path)


def sha256_of(path):
    """SHA-256 of the (gunzipped, for ``.gz``) bytes of ``path``; a broken gzip is a
    ChecksumError."""
    sha = hashlib.sha256()
    try:
        with _open(path) as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                sha.update(chunk)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ChecksumError(
            f"{path} is not a readable gzip file ({exc}): truncated or corrupt"
        ) from exc
    return sha.hexdigest()


def install_checked(source_path, path, sha256, what):
    """Write the (gunzipped) bytes of ``source_path`` to ``path`` atomically, after
    checking they have the SHA-256 ``sha256`` (``what`` names them in the error); nothing
    is left behind when the check fails."""
    fd, tmp = tempfile.mkstemp(suffix=".part", dir=os.path.dirname(path))
    sha = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with _open(source_path) as f:
                    for chunk in iter(lambda: f.read(_CHUNK), b""):
                        sha.update(chunk)
                        out.write(chunk)
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise ChecksumError(
                    f"{source_path} is not a readable gzip file ({exc}): truncated or corrupt"
                ) from exc
        if sha.hexdigest() != sha256:
            raise ChecksumError(
                f"{source_path} is not {what}: its SHA-256 is {sha.hexdigest()}, "
                f"expected {sha256}"
            )
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp's 0600 would hide it from other users
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def umask():
    """The process's file-creation mask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _open(path):
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")


def _require_pooch():
    try:
        import pooch
    except ImportError:
        from pylearn_vae.utils.images import MissingLibraryError

        raise MissingLibraryError(
            "downloading needs pooch: pip install 'pylearn-vae[data]' (or pip install "
            "pooch); or install a copy you have with --from DIR, without the network"
        ) from None
    return pooch


def _downloader(url, progress):
    """pooch's HTTP(S) downloader, with a progress bar on a terminal when tqdm is
    installed, or :func:`_copy_file_url` for a ``file://`` URL."""
    if url.startswith("file:"):
        return _copy_file_url
    import pooch

    bar = progress and sys.stderr.isatty()
    if bar:
        try:
            import tqdm  # noqa: F401  (pooch's progress bar)
        except ImportError:
            bar = False
    return pooch.HTTPDownloader(progressbar=bar, timeout=60)


def _copy_file_url(url, output_file, pooch, check_only=False):
    """A pooch downloader for ``file://`` URLs (a local mirror)."""
    source = urllib.parse.unquote(urllib.parse.urlparse(url).path)
    if check_only:
        return os.path.isfile(source)
    if not os.path.isfile(source):
        raise FileNotFoundError(f"no such file {source}")
    if hasattr(output_file, "write"):
        with open(source, "rb") as f:
            shutil.copyfileobj(f, output_file)
    else:
        shutil.copyfile(source, output_file)
    return None
