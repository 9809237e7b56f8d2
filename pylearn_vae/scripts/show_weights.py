"""The encoder's first-layer filters of a trained VAE, as a PNG grid.

Column j of ``model.get_weights()`` (``(nvis, hidden)``) is unit j's filter, shown as
an image of the data's shape on a ``ceil(sqrt(hidden))``-wide grid. Pylearn2's
``show_weights.py`` opened a viewer; this writes the file.

Command line::

    python bin/show_weights.py MODEL.pkl -o weights.png [--rescale individual|global|none]
"""

import os

import numpy

from pylearn_vae.scripts import _cli, _commands
from pylearn_vae.scripts.samples import add_grid_arguments, check_grid_output, write_grid
from pylearn_vae.utils import images

__all__ = ["main"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_best.pkl -o weights.png --zoom 2",
]


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("show_weights.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument("path", help="the trained model's .pkl")
    parser.add_argument(
        "--rescale",
        choices=("individual", "global", "none"),
        default="individual",
        help="grey-level scaling: per filter (default), over all, or none",
    )
    add_grid_arguments(parser, "weights.png")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    with _cli.clear_errors(_commands.prog("show_weights.py"), args.debug):
        check_grid_output(args.out)
        model = _cli.load_vae(args.path, args)
        W = numpy.asarray(model.get_weights(), dtype="float64")
        if W.ndim != 2 or W.shape[0] != model.nvis:
            raise _cli.CliError(f"the encoder's first layer weights {W.shape} are not (nvis, h)")
        title = (
            f"the encoder's first-layer filters ({W.shape[1]}, one per hidden unit; "
            f"grey levels rescaled: {args.rescale}): {os.path.basename(args.path)}"
        )
        width, height = write_grid(
            model,
            W.T,
            args.out,
            args,
            transform=lambda f: images.rescale(f, args.rescale),
            title=title,
        )
    print(f"wrote {args.out} ({W.shape[1]} filters, {width}x{height} pixels)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
