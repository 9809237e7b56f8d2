"""Walks through the latent space of a trained VAE: decoded means between pairs of digits.

For each pair (i, j) of examples of the ``--which-set`` split, one row of the PNG:
the real digit i, then E[x|z] for z on the straight line from the posterior mean of
i to that of j (``z_t = (1 - t) mu_i + t mu_j`` for ``t = 0, 1/(k-1), ..., 1``, k =
``--steps``), then the real digit j. Pairs are given by index (``--pairs 3,7
10,42``) or drawn at random (``-n`` pairs, ``--seed``).

Command line::

    python bin/vae_interpolate.py MODEL.pkl -o interp.png [--pairs 3,7 10,42] \\
        [-n 5 --seed 1234] [--steps 10] [--dataset ...] [--which-set test]
"""

import numpy

from pylearn_vae.scripts import _cli, _commands, _latent
from pylearn_vae.scripts.samples import add_grid_arguments, check_grid_output, write_grid

__all__ = ["interpolation_rows", "main", "random_pairs"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_2d.pkl --pairs 3,7 10,42 -o interp.png",
]


def interpolation_rows(model, X, pairs, steps=10):
    """The images of the interpolation picture, row after row.

    Parameters
    ----------
    model : VAE
    X : array, shape (n, nvis)
    pairs : sequence of (i, j)
        Indices into ``X``.
    steps : int
        Points on each line, the two ends included (at least 2).

    Returns
    -------
    rows : float64 array, shape (len(pairs) * (steps + 2), nvis)
        For each pair: ``X[i]``, E[x|z_t] for the ``steps`` values of t, ``X[j]``.
    z : float64 array, shape (len(pairs), steps, nhid)
        The latent points decoded.
    """
    if steps < 2:
        raise _cli.CliError(f"--steps {steps}: a line needs at least its 2 end points")
    pairs = numpy.asarray(pairs, dtype="int64").reshape((-1, 2))
    for i, j in pairs:
        if not (0 <= i < len(X) and 0 <= j < len(X)):
            raise _cli.CliError(
                f"--pairs {i},{j}: indices must be in 0..{len(X) - 1} (the examples of the split)"
            )
    ends = _latent.posterior_means(model, X[pairs.reshape(-1)]).reshape((len(pairs), 2, -1))
    t = numpy.linspace(0.0, 1.0, steps)[None, :, None]
    z = (1.0 - t) * ends[:, :1] + t * ends[:, 1:]
    decoded = _latent.decode_means(model, z.reshape((-1, model.nhid))).reshape(
        (len(pairs), steps, -1)
    )
    rows = numpy.concatenate(
        [X[pairs[:, 0]][:, None].astype("float64"), decoded, X[pairs[:, 1]][:, None]], axis=1
    )
    return rows.reshape((-1, X.shape[1])), z


def random_pairs(num_examples, num_pairs, seed):
    """``num_pairs`` pairs of different indices below ``num_examples``, reproducible by seed."""
    if num_examples < 2:
        raise _cli.CliError("interpolating needs at least 2 examples")
    rng = numpy.random.default_rng(seed)
    return [
        tuple(int(v) for v in rng.choice(num_examples, 2, replace=False)) for _ in range(num_pairs)
    ]


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("vae_interpolate.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument("model", help="the trained model's .pkl")
    parser.add_argument(
        "--pairs", type=_latent.int_pair, nargs="+", metavar="I,J", help="pairs of example indices"
    )
    parser.add_argument("-n", type=_cli.positive_int, default=8, help="random pairs (default 8)")
    parser.add_argument(
        "--seed",
        type=_cli.nonnegative_int,
        default=1234,
        help="seed of the random pairs (default: %(default)s)",
    )
    parser.add_argument(
        "--steps", type=_cli.nonnegative_int, default=10, help="points on each line (default 10)"
    )
    parser.add_argument("--dataset", help="dataset name, .yaml file or YAML text")
    parser.add_argument("--which-set", default="test", help="split (default test)")
    add_grid_arguments(parser, "interp.png")
    parser.set_defaults(zoom=3)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    with _cli.clear_errors(_commands.prog("vae_interpolate.py"), args.debug):
        check_grid_output(args.out)
        model = _cli.load_vae(args.model, args)
        dataset = _cli.load_dataset(model, args.dataset, args.which_set, args)
        X = _cli.design_matrix(dataset, model)
        _latent.warn_if_no_active_unit(model, X, _commands.prog("vae_interpolate.py"))
        pairs = args.pairs or random_pairs(len(X), args.n, args.seed)
        rows, _ = interpolation_rows(model, X, pairs, args.steps)
        args.cols = args.steps + 2
        described = " ".join(f"{i},{j}" for i, j in pairs)
        labels = ["x_i", *(f"t={t:.2g}" for t in numpy.linspace(0, 1, args.steps)), "x_j"]
        title = (
            f"E[x|z] along straight lines between the posterior means of {args.which_set} "
            f"digits i and j (rows: pairs {described})"
        )
        width, height = write_grid(model, rows, args.out, args, column_labels=labels, title=title)
    print(f"wrote {args.out} (pairs {described}; {width}x{height} pixels)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
