"""Summarize a saved model: parameter ranges, norms and how long it trained.

Prints, as Pylearn2's script (after one line saying what the triples are),
``name: (min, mean, max)(shape)`` for each parameter,
``abs(name)`` when its sign varies, row and column norms of matrices, and the
monitor's training counters.

Command line::

    python bin/summarize_model.py MODEL.pkl
"""

import numpy

from pylearn_vae.scripts import _cli, _commands
from pylearn_vae.utils.progress import format_duration

__all__ = ["main", "summarize"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_best.pkl",
]


def _stats(values):
    return f"({values.min():g}, {values.mean():g}, {values.max():g})"


LEGEND = (
    "(min, mean, max)(shape) of each parameter's values; abs(...): of their absolute "
    "values; row/col norms: of the L2 norms of a matrix's rows/columns"
)


def summarize(model):
    """The summary's lines (the first says what the triples are)."""
    lines = [LEGEND]
    for param in model.get_params():
        v = numpy.asarray(param.get_value(), dtype="float64")
        lines.append(f"{param.name}: {_stats(v)}{v.shape}")
        if v.min() < 0 < v.max():
            lines.append(f"abs({param.name}): {_stats(numpy.abs(v))}")
        if v.ndim == 2:
            lines.append(f"{param.name} row norms: {_stats(numpy.linalg.norm(v, axis=1))}")
            lines.append(f"{param.name} col norms: {_stats(numpy.linalg.norm(v, axis=0))}")
    monitor = getattr(model, "monitor", None)
    if monitor is not None:
        times = [c.time_record[-1] for c in monitor.channels.values() if c.time_record]
        lines += [
            f"trained on {monitor.get_examples_seen()} examples",
            f"which corresponds to {monitor.get_batches_seen()} batches",
            f"Trained for {(max(times) if times else 0.0) / 3600.0:g} hours "
            f"({format_duration(max(times) if times else 0.0)})",
            f"{monitor.get_epochs_seen()} epochs",
            "Training succeeded"
            if monitor.training_succeeded
            else "Training was not yet completed at the time of this save.",
        ]
    return lines


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("summarize_model.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument("path", help="saved model (.pkl)")
    return parser


@_cli.quiet_on_broken_pipe
def main(argv=None):
    args = build_parser().parse_args(argv)
    with _cli.clear_errors(_commands.prog("summarize_model.py"), args.debug):
        model = _cli.load_model(args.path, args)
        if not hasattr(model, "get_params"):
            raise _cli.CliError(f"{args.path} holds a {type(model).__name__}, not a model")
        _cli.check_finite_params(model, args.path)
        lines = summarize(model)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
