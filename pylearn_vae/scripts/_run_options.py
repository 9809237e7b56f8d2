"""``train.py``'s run-control and output options, and the summary that ends its output.

What the options do is :mod:`pylearn_vae.run_options`.
"""

from pylearn_vae.scripts._commands import command
from pylearn_vae.utils.progress import format_duration

__all__ = ["add_run_arguments", "summary_lines"]


def add_run_arguments(parser):
    """The run-control and output options of ``train.py``."""
    from pylearn_vae.scripts._cli import positive_int

    controls = parser.add_argument_group(
        "run controls", "override the YAML file for this run; recorded in the saved model"
    )
    controls.add_argument(
        "--epochs",
        type=positive_int,
        metavar="N",
        help="train for N epochs (sets every EpochCounter's max_epochs, or adds one), "
        "e.g. --epochs 5 for a quick look",
    )
    controls.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seed of the model's weights and the algorithm's batch order, and every "
        "seed: the file writes",
    )
    controls.add_argument(
        "--out-dir",
        metavar="DIR",
        help="write the saved models and logs into DIR (created) instead of where the "
        "file says, keeping their file names",
    )
    controls.add_argument(
        "--device",
        choices=("cpu", "gpu"),
        help="compute on the CPU (NumPy) or a CUDA GPU (CuPy); default $PYLEARN_VAE_DEVICE or cpu",
    )
    controls.add_argument(
        "--floatX",
        choices=("float32", "float64"),
        help="float type of parameters and data; default $PYLEARN_VAE_FLOATX or float32",
    )
    output = parser.add_argument_group("output")
    mode = output.add_mutually_exclusive_group()
    mode.add_argument(
        "--verbose",
        action="store_true",
        help="print Pylearn2's full log: every channel at every monitoring step, timings, "
        "saves (default: one line per monitoring step)",
    )
    mode.add_argument("--quiet", "-q", action="store_true", help="print only warnings and errors")
    output.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write every channel as TensorBoard event files in DIR (needs "
        "tensorboardX: pip install 'pylearn-vae[tensorboard]')",
    )
    output.add_argument(
        "--images-every",
        type=positive_int,
        metavar="N",
        help="every N epochs write a sample grid and a reconstruction grid into "
        "<save stem>_images/ (VAE models)",
    )
    output.add_argument(
        "--no-channel-log",
        action="store_true",
        help="do not write <save stem>.monitor.csv (every monitoring step, one row each)",
    )


def summary_lines(runs, seconds):
    """The closing lines: what was reached, the files written, the commands to run next.

    Parameters
    ----------
    runs : list of dict
        :func:`describe_run` of each phase.
    seconds : float
        Wall-clock time of the whole command.
    """
    how = " (stopped by the time budget)" if runs and runs[-1]["budget"] else ""
    lines = [f"Done in {format_duration(seconds)}{how}."]
    files = []
    for run in runs:
        lines.extend("  " + line for line in run["reached"])
        files.extend(run["files"])
    if files:
        width = max(len(path) for path, _ in files)
        lines.append("Files written:")
        lines.extend(f"  {path:<{width}}  {what}" for path, what in files)
    last = runs[-1] if runs else {"model": None, "log": None, "vae": False}
    commands = []
    if last["model"] is not None and last["vae"]:
        model = last["model"]
        commands += [
            f"{command('vae_nll.py')} {model} -k 1000",
            f"{command('vae_samples.py')} {model} -o samples.png",
            f"{command('vae_reconstruct.py')} {model} -o recon.png",
        ]
    elif last["model"] is not None:
        commands.append(f"{command('print_monitor.py')} {last['model']}")
    if last["log"] is not None:
        commands.append(f"{command('plot_monitor.py')} {last['log']} -o curves.png")
    if commands:
        lines.append("Next:")
        lines.extend("  " + command for command in commands)
    return lines
