"""Image grids for looking at models: tile many small images into one PNG.

Images are arrays ``(num_images, rows, cols)`` with values in ``[0, 1]`` (0 black,
1 white). :func:`tile_images` lays them out on a grid separated by a ``border`` of
``border_value`` pixels (also around the outside), so a grid of ``grid_rows x
grid_cols`` images of ``rows x cols`` pixels is ``grid_rows * (rows + border) +
border`` pixels high and ``grid_cols * (cols + border) + border`` wide.
:func:`save_png` writes it with Pillow, an optional dependency (``pylearn-vae[viz]``).
"""

import math

import numpy

__all__ = [
    "MissingLibraryError",
    "grid_shape",
    "title_band",
    "image_shape",
    "require",
    "rescale",
    "save_png",
    "tile_images",
]

VIZ_HINT = "pip install 'pylearn-vae[viz]'"


class MissingLibraryError(ImportError):
    """An optional library (Pillow, matplotlib) is needed but not installed."""


def require(module_name, purpose):
    """Import ``module_name`` or raise :class:`MissingLibraryError` saying what to install."""
    import importlib

    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        top = module_name.split(".")[0]
        package = {"PIL": "pillow"}.get(top, top)
        raise MissingLibraryError(
            f"{purpose} needs {package}, which is not installed: {VIZ_HINT}"
        ) from exc


def image_shape(nvis, view_shape=None):
    """``(rows, cols)`` of one example of ``nvis`` values.

    ``view_shape`` (a dataset's ``(rows, cols, channels)`` with one channel) wins when
    it matches ``nvis``; otherwise a square, which needs ``nvis`` to be a square number.
    """
    if view_shape is not None:
        rows, cols = int(view_shape[0]), int(view_shape[1])
        channels = int(view_shape[2]) if len(view_shape) > 2 else 1
        if rows * cols * channels == nvis and channels == 1:
            return rows, cols
    side = math.isqrt(int(nvis))
    if side * side != nvis:
        raise ValueError(
            f"cannot show vectors of {nvis} values as square images and the dataset gives "
            "no image shape: pass --shape ROWSxCOLS"
        )
    return side, side


def grid_shape(num_images, cols=None):
    """``(grid_rows, grid_cols)``: ``cols`` columns (default ``ceil(sqrt(n))``)."""
    if num_images < 1:
        raise ValueError("need at least one image to make a grid")
    cols = math.ceil(math.sqrt(num_images)) if cols is None else int(cols)
    return math.ceil(num_images / cols), cols


def rescale(images, mode="individual"):
    """Map arbitrary values (e.g. weights) to ``[0, 1]`` for display.

    Parameters
    ----------
    images : array, shape (n, rows, cols)
    mode : {'individual', 'global', 'none'}
        ``'individual'``: each image by its own largest absolute value, around 0.5;
        ``'global'``: all by the largest absolute value of all; ``'none'``: clipped.
    """
    images = numpy.asarray(images, dtype="float64")
    if mode == "none":
        return numpy.clip(images, 0.0, 1.0)
    if mode == "individual":
        scale = numpy.abs(images).reshape(len(images), -1).max(axis=1)[:, None, None]
    elif mode == "global":
        scale = numpy.abs(images).max()
    else:
        raise ValueError(f"unknown rescale mode {mode!r}: choose individual, global or none")
    return 0.5 + 0.5 * images / numpy.maximum(scale, 1e-12)


def tile_images(images, cols=None, border=1, border_value=0.5):
    """One 2-D uint8 picture of ``images`` on a grid.

    Parameters
    ----------
    images : array, shape (n, rows, cols)
        Values in ``[0, 1]`` (clipped).
    cols : int, optional
        Images per grid row (default ``ceil(sqrt(n))``).
    border : int
        Pixels between images and around the grid.
    border_value : float
        Grey level of the border, in ``[0, 1]``.

    Returns
    -------
    uint8 array, shape (grid_rows * (rows + border) + border, grid_cols * (cols + border) + border)
    """
    images = numpy.clip(numpy.asarray(images, dtype="float64"), 0.0, 1.0)
    n, h, w = images.shape
    grid_rows, grid_cols = grid_shape(n, cols)
    out = numpy.full(
        (grid_rows * (h + border) + border, grid_cols * (w + border) + border), border_value
    )
    for i in range(n):
        r, c = divmod(i, grid_cols)
        top, left = border + r * (h + border), border + c * (w + border)
        out[top : top + h, left : left + w] = images[i]
    return numpy.round(out * 255).astype("uint8")


def save_png(picture, path, zoom=1, column_labels=None, cell=None, title=None):
    """Write the uint8 array ``picture`` (2-D grey) to ``path`` as a PNG; returns the
    ``(width, height)`` in pixels of the file written (zoom, labels and title included).

    Parameters
    ----------
    picture : uint8 array, shape (height, width)
    path : str
    zoom : int
        Repeat each pixel ``zoom x zoom`` times (nearest neighbour).
    column_labels : sequence of str, optional
        Text written above the grid's columns, repeated across them (``('input',
        'recon')`` labels every column of an input/reconstruction grid).
    cell : (int, int), optional
        ``(image width, border)`` of the grid, in pixels before the zoom; needed with
        ``column_labels``.
    title : str, optional
        Written in a band above everything else (:func:`title_band`).
    """
    Image = require("PIL.Image", "writing PNG images")
    if zoom > 1:
        picture = numpy.kron(picture, numpy.ones((zoom, zoom), dtype="uint8"))
    image = Image.fromarray(numpy.ascontiguousarray(picture))
    if column_labels:
        image = _label_columns(image, column_labels, cell[0] * zoom, cell[1] * zoom)
    if title:
        band = Image.fromarray(title_band(image.width, title))
        titled = Image.new("L", (image.width, band.height + image.height), 255)
        titled.paste(band, (0, 0))
        titled.paste(image, (0, band.height))
        image = titled
    from pylearn_vae.utils import serial

    with serial.open_output(path, "wb") as f:
        image.save(f, format="PNG")
    return image.size


def title_band(width, title, background=255):
    """A ``width``-pixel-wide uint8 band holding ``title`` in Pillow's default font,
    wrapped at word boundaries; shape ``(height, width)``."""
    Image = require("PIL.Image", "writing PNG images")
    from PIL import ImageDraw, ImageFont

    font = ImageFont.load_default()
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    lines, line = [], ""
    for word in title.split():
        candidate = f"{line} {word}".strip()
        if line and measure.textlength(candidate, font=font) > width - 8:
            lines.append(line)
            candidate = word
        line = candidate
    lines.append(line)
    line_height = measure.textbbox((0, 0), "Ag", font=font)[3] + 3
    band = Image.new("L", (width, line_height * len(lines) + 6), color=background)
    draw = ImageDraw.Draw(band)
    for i, text in enumerate(lines):
        draw.text((4, 3 + i * line_height), text, fill=0, font=font)
    return numpy.asarray(band, dtype="uint8")


def _label_columns(image, labels, width, border):
    """``image`` under a white strip naming each column (black text, centred)."""
    from PIL import Image, ImageDraw, ImageFont

    size = max(9, min(14, width // 4))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one fixed bitmap font
        font = ImageFont.load_default()
    strip = size + 6
    out = Image.new("L", (image.width, image.height + strip), 255)
    out.paste(image, (0, strip))
    draw = ImageDraw.Draw(out)
    column = 0
    while border + column * (width + border) + width <= image.width:
        text = labels[column % len(labels)]
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        x = border + column * (width + border) + (width - (right - left)) / 2 - left
        draw.text((x, (strip - (bottom - top)) / 2 - top), text, fill=0, font=font)
        column += 1
    return out
