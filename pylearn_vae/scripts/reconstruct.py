"""Inputs beside their reconstructions by a trained VAE, as a PNG grid.

Each input image is followed by E[x|z] for z the posterior mean (or, with
``--noisy``, z drawn from q(z|x)). Pairs fill the grid row by row, under a strip
naming the columns (``input``, ``recon``).

Command line::

    python bin/vae_reconstruct.py MODEL.pkl -o recon.png [-n 50] [--noisy] \\
        [--dataset YAML-or-name] [--which-set test]
"""

from pylearn_vae.evaluation.pictures import interleave_reconstructions
from pylearn_vae.scripts import _cli, _commands
from pylearn_vae.scripts.samples import add_grid_arguments, check_grid_output, write_grid

__all__ = ["interleave_reconstructions", "main"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_best.pkl -n 50 -o recon.png",
    "yaml_examples/vae_mnist10k_best.pkl --noisy --which-set valid",
]


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("vae_reconstruct.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument("model", help="the trained model's .pkl")
    parser.add_argument(
        "-n", type=_cli.positive_int, default=50, help="number of inputs (default 50)"
    )
    parser.add_argument("--noisy", action="store_true", help="encode with z ~ q(z|x)")
    parser.add_argument("--dataset", help="dataset name, .yaml file or YAML text")
    parser.add_argument("--which-set", default="test", help="split (default test)")
    parser.add_argument(
        "--seed", type=_cli.nonnegative_int, default=1234, help="noise seed (default 1234)"
    )
    add_grid_arguments(parser, "recon.png")
    parser.set_defaults(cols=10, zoom=2)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.cols % 2:
        args.cols += 1  # keep each input next to its reconstruction
    with _cli.clear_errors(_commands.prog("vae_reconstruct.py"), args.debug):
        check_grid_output(args.out)
        model = _cli.load_vae(args.model, args)
        dataset = _cli.load_dataset(model, args.dataset, args.which_set, args)
        X = _cli.design_matrix(dataset, model, args.n)
        rows = interleave_reconstructions(model, X, noisy=args.noisy, seed=args.seed)
        width, height = write_grid(model, rows, args.out, args, column_labels=("input", "recon"))
    print(f"wrote {args.out} ({len(X)} inputs and reconstructions, {width}x{height} pixels)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
