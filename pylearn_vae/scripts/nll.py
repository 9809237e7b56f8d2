"""Importance-sampled negative log-likelihood of a trained VAE on a whole dataset.

``log p(x) ~ log (1/k) sum_s p(x, z_s) / q(z_s|x)`` with ``k`` samples of q(z|x)
(:meth:`VAE.log_likelihood_approximation`; Burda et al. use k = 5000). The k samples of
an example are drawn in chunks so that no more than about ``--memory-mb`` is held at
once (a chunk is ``k_chunk x batch x nvis``); each chunk's log-sum-exp is combined with
the others in float64, exactly as the estimate of one call with all k samples is
formed (the same numbers when one chunk holds all k samples).
The same batches also give the variational lower bound (ELBO) and its two terms. The
estimator is :mod:`pylearn_vae.evaluation.nll`; this module is its command line.

Command line::

    python bin/vae_nll.py MODEL.pkl [--dataset YAML-or-name] [--which-set test] \\
        [-k 5000] [--batch-size N] [--seed 1234] [--limit N]
"""

import sys

from pylearn_vae.evaluation.nll import (
    DEFAULT_MEMORY_MB,
    NLLResult,
    chunk_sizes,
    importance_sampled_nll,
)
from pylearn_vae.scripts import _cli, _commands

__all__ = ["NLLResult", "build_parser", "chunk_sizes", "importance_sampled_nll", "main"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_best.pkl -k 5000 --seed 1234",
    "yaml_examples/vae_mnist10k_best.pkl -k 100 --limit 500   # a quick estimate",
    "fashion_vae.pkl --dataset fashion_mnist --which-set test",
]


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("vae_nll.py"),
        description="Importance-sampled NLL (nats) of a trained VAE, with the ELBO terms.",
        examples=EXAMPLES,
    )
    parser.add_argument("model", help="the trained model's .pkl")
    parser.add_argument(
        "--dataset",
        help="dataset name (mnist10k, binarized_mnist, mnist, fashion_mnist), .yaml file or "
        "YAML text; "
        "default: the one the model was trained on",
    )
    parser.add_argument("--which-set", default="test", help="split to evaluate (default test)")
    parser.add_argument(
        "-k", type=_cli.positive_int, default=5000, help="importance samples (default 5000)"
    )
    parser.add_argument(
        "--batch-size",
        type=_cli.positive_int,
        help="examples per batch (default: as many as --memory-mb allows)",
    )
    parser.add_argument(
        "--memory-mb",
        type=_cli.positive_float,
        default=DEFAULT_MEMORY_MB,
        help="memory for the k samples of one chunk of examples, in MiB (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=_cli.nonnegative_int, default=1234, help="noise seed (default 1234)"
    )
    parser.add_argument(
        "--limit",
        type=_cli.positive_int,
        help="use only the first N examples, e.g. --limit 500 for a quick estimate",
    )
    return parser


@_cli.quiet_on_broken_pipe
def main(argv=None):
    """Command line; prints the report to stdout, returns 0."""
    args = build_parser().parse_args(argv)
    _cli.keep_freed_memory()  # this process's big arrays reuse freed memory
    with _cli.clear_errors(_commands.prog("vae_nll.py"), args.debug):
        model = _cli.load_vae(args.model, args)
        dataset = _cli.load_dataset(model, args.dataset, args.which_set, args)
        X = _cli.design_matrix(dataset, model, args.limit)
        result = importance_sampled_nll(
            model,
            X,
            args.k,
            batch_size=args.batch_size,
            seed=args.seed,
            memory_mb=args.memory_mb,
            show_progress=True,
        )
    print(f"model: {args.model}")
    print(f"dataset: {type(dataset).__name__} ({args.which_set})")
    print(result.report())
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
