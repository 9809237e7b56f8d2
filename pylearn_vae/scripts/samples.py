"""A PNG grid of samples from a trained VAE.

z is drawn from the prior p(z) and each image shows the conditional mean E[x|z] (pixel
probabilities for a Bernoulli decoder), or, with ``--binary``, one draw x ~ p(x|z).

Command line::

    python bin/vae_samples.py MODEL.pkl -n 100 -o samples.png [--binary] [--seed 1234]

Without ``-o`` the grid goes to ``samples.png``, or to ``samples_2.png``, ... when that
exists: an earlier grid is never overwritten unless named.
"""

import os

import numpy

from pylearn_vae.evaluation.pictures import draw_samples
from pylearn_vae.scripts import _cli, _commands
from pylearn_vae.utils import images

__all__ = ["draw_samples", "main", "write_grid"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_best.pkl -n 100 -o samples.png",
    "yaml_examples/vae_mnist10k_best.pkl -n 36 --binary --zoom 4",
]


# What images.save_png writes, whatever the name: refuse other extensions.
GRID_EXTENSIONS = (".png",)


def write_grid(model, rows, path, args, transform=None, column_labels=None, title=None):
    """Shape ``rows`` (n, nvis) as images and write them as a grid PNG at ``path``;
    returns the file's ``(width, height)`` in pixels.

    ``column_labels`` (e.g. ``('input', 'recon')``) are written above the columns,
    ``title`` above everything.
    """
    view = None if args.shape else _cli.dataset_view_shape(model, None, args)
    shape = args.shape or images.image_shape(model.nvis, view)
    if int(numpy.prod(shape)) != rows.shape[1]:
        raise _cli.CliError(
            f"--shape {shape[0]}x{shape[1]} holds {int(numpy.prod(shape))} pixels but each "
            f"image has {rows.shape[1]} values"
        )
    check_grid_memory(len(rows), shape, args)
    pictures = rows.reshape((len(rows),) + tuple(shape))
    if transform is not None:
        pictures = transform(pictures)
    grid = images.tile_images(pictures, cols=args.cols, border=args.border)
    return images.save_png(
        grid,
        path,
        zoom=args.zoom,
        column_labels=column_labels,
        cell=(shape[1], args.border),
        title=title,
    )


def check_grid_memory(num_images, shape, args):
    """Refuse a grid (``--zoom``, ``-n``) too big for the free memory, before drawing it."""
    grid_rows, grid_cols = images.grid_shape(num_images, args.cols)
    border = args.border
    pixels = (grid_rows * (shape[0] + border) + border) * (
        grid_cols * (shape[1] + border) + border
    )
    # float64 while tiling, then uint8, then the zoomed uint8 copy.
    _cli.check_memory(pixels * (9 + args.zoom**2), f"a {grid_rows}x{grid_cols} grid PNG")


def check_grid_output(path):
    """The output must be writable and named ``.png``; Pillow must be installed."""
    _cli.check_output_path(path)
    _cli.check_output_format(path, GRID_EXTENSIONS, "the image grid writer")
    images.require("PIL.Image", "writing PNG images")


def parse_shape(text):
    """``'28x28'`` -> ``(28, 28)``."""
    import argparse

    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLS, e.g. 28x28, got {text!r}") from None
    if rows < 1 or cols < 1:
        raise argparse.ArgumentTypeError(f"expected positive ROWSxCOLS, got {text!r}")
    return rows, cols


def add_grid_arguments(parser, default_output):
    """Options every grid-writing script takes (``default_output`` None: a fresh name)."""
    where = (
        f"default {default_output}"
        if default_output
        else "default samples.png, or samples_2.png, ... if it exists"
    )
    parser.add_argument("-o", "--out", default=default_output, help=f"PNG to write ({where})")
    parser.add_argument(
        "--cols", type=_cli.positive_int, help="images per grid row (default: a square grid)"
    )
    parser.add_argument(
        "--border",
        type=_cli.nonnegative_int,
        default=1,
        help="pixels between images (default: %(default)s)",
    )
    parser.add_argument(
        "--zoom",
        type=_cli.positive_int,
        default=1,
        help="draw each pixel as ZOOMxZOOM pixels, e.g. --zoom 3 (default %(default)s)",
    )
    parser.add_argument(
        "--shape",
        type=parse_shape,
        help="image shape ROWSxCOLS, e.g. 28x28 (default: the training data's)",
    )


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("vae_samples.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument("model", help="the trained model's .pkl")
    parser.add_argument(
        "-n", type=_cli.positive_int, default=100, help="number of samples (default 100)"
    )
    parser.add_argument("--binary", action="store_true", help="show x ~ p(x|z) instead of E[x|z]")
    parser.add_argument(
        "--seed", type=_cli.nonnegative_int, default=1234, help="noise seed (default 1234)"
    )
    add_grid_arguments(parser, None)
    parser.set_defaults(zoom=2)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    args.out = args.out or _cli.unused_path("samples.png")
    with _cli.clear_errors(_commands.prog("vae_samples.py"), args.debug):
        check_grid_output(args.out)
        model = _cli.load_vae(args.model, args)
        # x, the means and their float64 copies, z and the decoder's activations.
        _cli.check_memory(args.n * 8 * 4 * (model.nvis + model.nhid), f"drawing {args.n} samples")
        rows = draw_samples(model, args.n, binary=args.binary, seed=args.seed)
        what = "samples x ~ p(x|z)" if args.binary else "means E[x|z]"
        title = f"{args.n} {what}, z from the prior: {os.path.basename(args.model)}"
        width, height = write_grid(model, rows, args.out, args, title=title)
    print(f"wrote {args.out} ({args.n} samples, {width}x{height} pixels)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
