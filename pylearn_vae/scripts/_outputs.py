"""Where a script writes: output paths checked before any work is done.

A default output name never overwrites (:func:`unused_path`); a path is checked to be
writable (:func:`check_output_path`) and, for a figure, to name a format matplotlib
writes (:func:`check_plot_output`), so that a long computation never ends in a failed
save.
"""

import os

from pylearn_vae.scripts._errors import CliError

__all__ = [
    "check_output_format",
    "check_output_path",
    "check_plot_output",
    "matplotlib_extensions",
    "unused_path",
]


def unused_path(default):
    """``default`` (``samples.png``) if no such file exists, else the first free
    ``samples_2.png``, ``samples_3.png``, ...: a default name never overwrites."""
    stem, extension = os.path.splitext(default)
    path, number = default, 1
    while os.path.exists(path):
        number += 1
        path = f"{stem}_{number}{extension}"
    return path


def check_output_path(path):
    """Make sure ``path`` can be written (its folder is created); CliError otherwise."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise CliError(f"output path {path} is a folder: give a file name, e.g. {path}/out.png")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the folder of output path {path}: {exc.strerror}") from exc
    if not os.access(folder, os.W_OK):
        raise CliError(f"cannot write output path {path}: folder {folder} is not writable")
    return path


def check_output_format(path, extensions, writer):
    """``path`` when its extension is one of ``extensions`` (what ``writer`` can write);
    a CliError listing them otherwise."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in extensions:
        raise CliError(
            f"output path {path}: {writer} writes {', '.join(sorted(extensions))} files, "
            f"not {extension or 'files without an extension'}: change the file name"
        )
    return path


def matplotlib_extensions():
    """The file extensions matplotlib can save a figure as (``.png``, ``.pdf``, ...)."""
    from matplotlib.figure import Figure

    return {"." + ext for ext in Figure().canvas.get_supported_filetypes()}


def check_plot_output(path, purpose):
    """Check, before any work, that a matplotlib figure can be saved at ``path``.

    ``path`` must be writable and name a format matplotlib writes; matplotlib must be
    installed (``purpose`` says what for, in the error). Returns the matplotlib module.
    """
    from pylearn_vae.utils import images

    check_output_path(path)
    matplotlib = images.require("matplotlib", purpose)
    check_output_format(path, matplotlib_extensions(), "matplotlib")
    return matplotlib
