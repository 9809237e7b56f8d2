"""Print the last value of every monitoring channel of saved models (as Pylearn2's).

Command line::

    python bin/print_monitor.py MODEL.pkl [MORE.pkl ...]
"""

from pylearn_vae.scripts import _cli, _commands
from pylearn_vae.utils.progress import format_duration, format_number

__all__ = ["get_monitor", "main", "monitor_report"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_best.pkl",
]


def get_monitor(model, path):
    """``model.monitor``, or a clear error when the model was never trained."""
    monitor = getattr(model, "monitor", None)
    if monitor is None or not hasattr(monitor, "channels"):
        raise _cli.CliError(f"{path} has no monitor: it was not saved by a training run")
    return monitor


def monitor_report(monitor):
    """Lines: epochs seen, time trained, then ``name : last value`` sorted by name.

    Values have 6 significant digits (``1e-04``, not ``9.999999747378752e-05``);
    channels counting seconds say so.
    """
    times = [c.time_record[-1] for c in monitor.channels.values() if c.time_record]
    seconds = max(times) if times else 0.0
    lines = [
        f"epochs seen:  {monitor.get_epochs_seen()}",
        f"time trained:  {format_duration(seconds)}",
    ]
    for name in sorted(monitor.channels):
        record = monitor.channels[name].val_record
        if not record:
            lines.append(f"{name} : no value yet")
            continue
        unit = " s" if "seconds" in name else ""
        lines.append(f"{name} : {format_number(record[-1], digits=6)}{unit}")
    return lines


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("print_monitor.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument("model_paths", nargs="+", help="saved models (.pkl)")
    return parser


@_cli.quiet_on_broken_pipe
def main(argv=None):
    args = build_parser().parse_args(argv)
    with _cli.clear_errors(_commands.prog("print_monitor.py"), args.debug):
        reports = [
            (path, monitor_report(get_monitor(_cli.load_model(path, args), path)))
            for path in args.model_paths
        ]
    for path, lines in reports:
        if len(reports) > 1:
            print(path)
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
