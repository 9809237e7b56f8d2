"""The learned manifold of a trained VAE: decoded means E[x|z] on a grid of z, as a PNG.

As Kingma & Welling (2014, figure 4): z runs over the prior's quantiles, ``z_j =
mu_j + sigma_j * Phi^{-1}(p)`` for ``p = (i + 0.5) / n``, ``i = 0 .. n-1`` (so a
2-D standard-normal prior is covered from its 2.5% to its 97.5% quantile for n = 20).
The first unit runs left to right, the second bottom to top. A 2-D model shows its
whole latent space; a larger one shows its two most active units (largest mean KL
over the ``--which-set`` split), the other units held at the prior mean, and says so
in the picture's title.

Command line::

    python bin/vae_manifold.py MODEL.pkl -o manifold.png [-n 20] [--units 3,7] \\
        [--dataset ...] [--which-set test] [--zoom 1]
"""

import dataclasses

import numpy

from pylearn_vae.scripts import _cli, _commands, _latent
from pylearn_vae.scripts.samples import add_grid_arguments, check_grid_output
from pylearn_vae.utils import images

__all__ = ["Manifold", "main", "manifold", "quantile_grid"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_2d.pkl -o manifold.png -n 20",
]


@dataclasses.dataclass
class Manifold:
    """The decoded grid.

    Attributes
    ----------
    z : float64 array, shape (n * n, nhid)
        The latent vectors, row by row of the picture (top row first).
    means : float64 array, shape (n * n, nvis)
        ``E[x|z]`` of each, in the same order.
    units : tuple of two ints
        The unit along the picture's x axis, then the one along its y axis.
    title : str
    """

    z: numpy.ndarray
    means: numpy.ndarray
    units: tuple
    title: str


def quantile_grid(n):
    """``Phi^{-1}((i + 0.5) / n)`` for ``i = 0 .. n-1``: n standard-normal quantiles."""
    from scipy.stats import norm

    return norm.ppf((numpy.arange(n) + 0.5) / n)


def manifold(model, n=20, units=None, X=None):
    """Decode the ``n x n`` grid of prior quantiles over two latent units.

    Parameters
    ----------
    model : VAE
    n : int
        Grid points per axis.
    units : pair of ints, optional
        The units to vary (x axis, y axis). Default: both units of a 2-D model, else
        the two most active over ``X``.
    X : array, shape (batch, nvis), optional
        Data choosing the most active units when ``units`` is not given and nhid > 2.
    """
    mu, sigma = _latent.prior_mean_std(model)
    nhid = model.nhid
    if nhid < 2:
        raise _cli.CliError(f"the model has {nhid} latent unit; a manifold needs at least 2")
    if units is None:
        if nhid == 2:
            units = (0, 1)
            title = (
                f"E[x|z] over the prior's quantiles: z0 left to right, z1 bottom to top ({n}x{n})"
            )
        else:
            if X is None:
                raise ValueError("choosing the most active units needs data X")
            active, kl = _latent.most_active_units(model, X, 2)
            units = tuple(int(u) for u in active)
            title = (
                f"E[x|z] over the prior's quantiles of units {units[0]} (left to right) and "
                f"{units[1]} (bottom to top), the two most active of {nhid} (mean KL "
                f"{kl[units[0]]:.2f} and {kl[units[1]]:.2f} nats); the other {nhid - 2} "
                "units at the prior mean"
            )
    else:
        units = tuple(int(u) for u in units)
        if len(units) != 2 or units[0] == units[1] or not all(0 <= u < nhid for u in units):
            raise _cli.CliError(
                f"--units {units}: give two different units in 0..{nhid - 1}, e.g. --units 0,1"
            )
        title = (
            f"E[x|z] over the prior's quantiles of units {units[0]} (left to right) and "
            f"{units[1]} (bottom to top)"
            + (f"; the other {nhid - 2} units at the prior mean" if nhid > 2 else "")
        )
    q = quantile_grid(n)
    z = numpy.tile(mu, (n * n, 1))
    rows, cols = numpy.divmod(numpy.arange(n * n), n)
    a, b = units
    z[:, a] = mu[a] + sigma[a] * q[cols]
    z[:, b] = mu[b] + sigma[b] * q[n - 1 - rows]
    return Manifold(z=z, means=_latent.decode_means(model, z), units=units, title=title)


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("vae_manifold.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument("model", help="the trained model's .pkl")
    parser.add_argument(
        "-n",
        type=_cli.positive_int,
        default=20,
        help="grid points per axis (default: %(default)s)",
    )
    parser.add_argument("--units", type=_latent.int_pair, help="the two units to vary, A,B")
    parser.add_argument("--dataset", help="dataset name, .yaml file or YAML text")
    parser.add_argument(
        "--which-set", default="test", help="split choosing the units (default: %(default)s)"
    )
    parser.add_argument("--limit", type=_cli.positive_int, help="use only the first N examples")
    add_grid_arguments(parser, "manifold.png")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    with _cli.clear_errors(_commands.prog("vae_manifold.py"), args.debug):
        if args.cols is not None and args.cols != args.n:
            raise _cli.CliError(f"--cols {args.cols}: the manifold is n x n, set -n instead")
        check_grid_output(args.out)
        model = _cli.load_vae(args.model, args)
        dataset = _cli.load_dataset(model, args.dataset, args.which_set, args)
        X = _cli.design_matrix(dataset, model, args.limit)
        _latent.warn_if_no_active_unit(model, X, _commands.prog("vae_manifold.py"))
        result = manifold(model, args.n, args.units, X if args.units is None else None)
        shape = args.shape or images.image_shape(
            model.nvis, _cli.dataset_view_shape(model, args.dataset, args)
        )
        grid = images.tile_images(
            result.means.reshape((-1,) + tuple(shape)), cols=args.n, border=args.border
        )
        picture = _latent.titled_picture(grid, result.title, zoom=args.zoom)
        images.save_png(picture, args.out)
    print(f"{result.title}\nwrote {args.out} ({picture.shape[1]}x{picture.shape[0]} pixels)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
