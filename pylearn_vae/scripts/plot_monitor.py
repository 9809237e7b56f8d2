"""Plot learning curves (monitoring channels) of saved models to a PNG.

Pylearn2's ``plot_monitor.py`` asked for channels at an interactive prompt; this one
takes them as arguments -- exact names or shell-style patterns such as ``'*objective'``
-- and always writes a file. It reads saved models and the CSV channel logs
``train.py`` writes beside them (``run.monitor.csv``, readable during training). With
several models each channel name gets the suffix
``:<path>``. A single channel works (Pylearn2's crashed, docs/quirks.md#quirk-28).

Command line::

    python bin/plot_monitor.py MODEL.pkl|LOG.csv [MORE ...] -o curves.png \\
        [--channels '*_objective' ...] [--x examples|batches|epochs|seconds] [--yrange a:b]
"""

import fnmatch

from pylearn_vae.scripts import _cli, _commands
from pylearn_vae.scripts.print_monitor import get_monitor
from pylearn_vae.utils import serial

__all__ = ["main", "read_channels", "select_channels"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k.monitor.csv -o curves.png   # while it trains, too",
    "yaml_examples/vae_mnist10k_best.pkl -o curves.png --channels 'valid_*' --x epochs "
    "--yrange 100:140",
]

X_RECORDS = {
    "examples": "example_record",
    "batches": "batch_record",
    "epochs": "epoch_record",
    "seconds": "time_record",
}
DEFAULT_CHANNELS = ("*objective",)


def select_channels(names, patterns):
    """The names matching any of ``patterns`` (exact or fnmatch), in ``names`` order.

    Raises CliError naming the available channels when a pattern matches nothing.
    """
    chosen = []
    for pattern in patterns:
        matched = [n for n in names if n == pattern or fnmatch.fnmatchcase(n, pattern)]
        if not matched:
            raise _cli.CliError(
                f"no channel matches {pattern!r}; channels: {', '.join(sorted(names))}"
            )
        chosen.extend(n for n in matched if n not in chosen)
    return chosen


def read_channels(path, args=None):
    """``{name: channel}`` of a saved model's monitor, or of a CSV channel log (``.csv``)."""
    if str(path).endswith(".csv"):
        from pylearn_vae.train_extensions.channel_log import read_channel_log

        return read_channel_log(path)
    return get_monitor(_cli.load_model(path, args), path).channels


def y_label(labels):
    """``'-ELBO (nats per example)'`` when every curve is an objective, else ``'value'``."""
    names = [label.split(":")[0] for label in labels]
    if names and all(name.endswith("objective") for name in names):
        return "objective: -ELBO (nats per example)"
    return "channel value"


def later_range(curves, skip=0.1):
    """``(low, high)`` for the y axis, set by the later part of the curves.

    A run's first values (543 nats before training) would flatten the rest: the top
    of the axis is the highest value after the first ``skip`` fraction of each curve
    (at least its first point), the bottom the lowest value of all; 5% margins.
    """
    later = [v for y in curves for v in list(y)[max(1, int(len(y) * skip)) :]]
    values = [v for y in curves for v in y]
    if not later or not values:
        return None, None
    low, high = min(values), max(later)
    margin = 0.05 * (high - low) if high > low else max(abs(high) * 0.05, 1e-6)
    return low - margin, high + margin


def parse_yrange(text):
    import argparse

    try:
        low, high = (float(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW:HIGH, e.g. 80:200, got {text!r}") from None
    if not low < high:
        raise argparse.ArgumentTypeError(f"expected LOW < HIGH, got {text!r}")
    return low, high


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("plot_monitor.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument(
        "model_paths",
        nargs="+",
        help="saved models (.pkl) or channel logs (.csv, written by train.py beside the model)",
    )
    parser.add_argument(
        "-o", "--out", default="curves.png", help="image to write (PNG) (default: %(default)s)"
    )
    parser.add_argument(
        "--channels",
        nargs="+",
        default=list(DEFAULT_CHANNELS),
        help="channel names or patterns (default '*objective')",
    )
    parser.add_argument(
        "--x", choices=sorted(X_RECORDS), default="examples", help="x axis (default: %(default)s)"
    )
    parser.add_argument(
        "--yrange",
        type=parse_yrange,
        help="y limits LOW:HIGH, e.g. 80:200 (default: from the lowest value to the highest "
        "after the first tenth of the run, so the first epochs do not flatten the rest)",
    )
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    with _cli.clear_errors(_commands.prog("plot_monitor.py"), args.debug):
        matplotlib = _cli.check_plot_output(args.out, "plotting learning curves")
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        curves = []
        for path in args.model_paths:
            channels = read_channels(path, args)
            for name in select_channels(list(channels), args.channels):
                channel = channels[name]
                label = name if len(args.model_paths) == 1 else f"{name}:{path}"
                curves.append((label, getattr(channel, X_RECORDS[args.x]), channel.val_record))
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for label, x, y in curves:
            ax.plot(x, y, label=label)
        ax.set_xlabel(f"{args.x} seen")
        ax.set_ylabel(y_label([label for label, _, _ in curves]))
        ax.set_ylim(*(args.yrange or later_range([y for _, _, y in curves])))
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
        fig.tight_layout()
        serial.check_output_path(args.out)
        fig.savefig(args.out)
        plt.close(fig)
    print(f"wrote {args.out} ({len(curves)} curves)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
