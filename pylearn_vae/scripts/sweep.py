"""Run a hyper-parameter sweep on Dask, or reprint its results table.

Command line::

    python bin/sweep.py SWEEP.yaml [--out SWEEP_DIR] [--scheduler tcp://HOST:8786]
        [--workers N] [--nll K] [--set NAME=VALUE ...] [--dry-run]
    python bin/sweep.py --report SWEEP_DIR

The sweep file (see :mod:`pylearn_vae.sweep.spec`) names a template training YAML and
the values to fill its placeholders with. Every trial is rendered and checked before
anything runs. Each trial trains in ``SWEEP_DIR/trial-NNN/`` (default ``SWEEP_DIR``:
the sweep file's path without ``.yaml``), on a ``LocalCluster`` of one single-threaded
worker per core, or on the running Dask cluster named by ``--scheduler``. Running the
same command again skips the finished trials, restarts the failed ones and resumes the
interrupted ones. At the end ``SWEEP_DIR/results.csv``, ``results.md`` (and, with
matplotlib, ``results.png``) are written and the table is printed. Ctrl-C or SIGTERM
stops the trials that are running (the next run resumes them). Exit status: 0 when
every trial is done, 1 when some failed, 2 for a sweep refused before it ran, 130 when
stopped.
"""

import os
import signal
import sys

from pylearn_vae.scripts import _cli, _commands

__all__ = ["build_parser", "main"]

# What --help ends with: commands that run this script (their arguments).
EXAMPLES = [
    "yaml_examples/sweeps/vae_mnist10k.yaml --dry-run   # check and list its 24 trials",
    "yaml_examples/sweeps/vae_mnist10k.yaml --out sweeps/quick --set max_epochs=30 --nll 500",
    "--report sweeps/quick   # reprint its table",
]


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("sweep.py"),
        description="Run the trials of a sweep file on Dask and tabulate their results.",
        epilog="Point it at a cluster: start `dask scheduler --protocol tls --tls-ca-file "
        "ca.pem --tls-cert node.pem --tls-key node.key` on one machine and `dask worker "
        "tls://HOST:8786 --nthreads 1` with the same --tls-* options on each, give this "
        "command the client certificate in ~/.config/dask/distributed.yaml, then pass "
        "--scheduler tls://HOST:8786 (docs/security.md, section Sweeps); SWEEP_DIR must "
        "be on a file system every worker sees.",
        examples=EXAMPLES,
    )
    parser.add_argument("sweep", nargs="?", help="the sweep file (YAML)")
    parser.add_argument(
        "--out", help="the sweep folder (default: the sweep file's path without .yaml)"
    )
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://...)")
    parser.add_argument(
        "--workers",
        type=_cli.positive_int,
        help="worker processes of the local cluster (default: one per core)",
    )
    parser.add_argument(
        "--dashboard",
        default=None,
        help="serve the local cluster's dashboard at this address (:8787 means "
        "127.0.0.1:8787; :0 picks a free port); default: no dashboard",
    )
    parser.add_argument(
        "--nll",
        type=_cli.positive_int,
        metavar="K",
        help="compute each trial's test NLL with K importance samples (overrides the "
        "sweep file's nll)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="replace a value of the sweep (a YAML list makes it a grid axis), e.g. "
        "--set max_epochs=30 --set 'seed=[1, 2]'",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check and list the trials, run nothing"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (one line per trial)"
    )
    parser.add_argument("--report", metavar="SWEEP_DIR", help="reprint a sweep folder's table")
    return parser


def _interrupt(signum, frame):
    """SIGTERM (a batch system's stop) ends the sweep as Ctrl-C does: the trials still
    running are stopped and resumed by the next run of the same command."""
    raise KeyboardInterrupt


@_cli.quiet_on_broken_pipe
def main(argv=None):
    """Command line; returns the exit status."""
    from pylearn_vae.sweep import spec

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.report:
        if args.sweep:
            parser.error("give either a sweep file or --report SWEEP_DIR, not both")
        return _reprint(args)
    if not args.sweep:
        parser.error("give a sweep file (or --report SWEEP_DIR)")
    try:
        return _sweep(args)
    except spec.SweepError as exc:
        print(f"{_commands.prog('sweep.py')}: error: {exc}", file=sys.stderr)
        return 2


def _reprint(args):
    """``--report SWEEP_DIR``: rewrite and print the table of a sweep folder."""
    from pylearn_vae.sweep import results

    with _cli.clear_errors(_commands.prog("sweep.py"), args.debug):
        table = results.write_report(args.report)
    print(table.markdown(), end="")
    return 0


def _sweep(args):
    """Check the sweep, then list its trials (``--dry-run``) or run those left to run and
    print the table; a refused sweep raises :class:`~pylearn_vae.sweep.spec.SweepError`."""
    from pylearn_vae.sweep import runner, spec

    sweep = spec.load_sweep(args.sweep)
    sweep.allow_modules, sweep.trusted = tuple(args.allow_modules), args.trust
    sweep.override([spec.parse_assignment(text) for text in args.set])
    if args.nll is not None:
        sweep.nll = args.nll
    rendered = sweep.check()
    sweep_dir = args.out or os.path.splitext(args.sweep)[0]
    if args.dry_run:
        for trial, _ in rendered:
            print(f"{trial.name}: {trial.describe(sweep.varied) or '(no varied values)'}")
        print(f"{len(rendered)} trials would run in {os.path.abspath(sweep_dir)}")
        return 0
    todo = runner.prepare(sweep, sweep_dir, rendered)
    print(
        f"sweep {args.sweep}: {len(rendered)} trials in {os.path.abspath(sweep_dir)}; "
        f"{len(rendered) - len(todo)} done earlier (skipped), {len(todo)} to run",
        flush=True,
    )
    if todo and _run_on_dask(args, sweep, todo) == 130:
        return 130
    return _final_table(sweep_dir)


def _run_on_dask(args, sweep, todo):
    """Run the trials ``todo`` on the cluster the options name; 130 when stopped by
    Ctrl-C or SIGTERM, else None. A missing Dask is a
    :class:`~pylearn_vae.sweep.spec.SweepError`."""
    from pylearn_vae.sweep import runner, spec

    try:
        client, cluster = runner.connect(args.scheduler, args.workers, args.dashboard)
    except runner.MissingDask as exc:
        raise spec.SweepError(str(exc)) from exc
    try:
        print(f"Dask: {_describe_cluster(args, client, cluster)}", flush=True)
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            runner.run(sweep, todo, client, progress=False if args.no_progress else None)
        finally:
            signal.signal(signal.SIGTERM, previous)
    except KeyboardInterrupt:
        return 130
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return None


def _describe_cluster(args, client, cluster):
    """Where the trials run and how the cluster is reached, for the line ``Dask: ...``."""
    count = 0 if cluster is None else len(cluster.workers)
    plural = "s" if count != 1 else ""
    where = args.scheduler or f"a LocalCluster of {count} single-threaded worker{plural}"
    if cluster is None:
        board = f"dashboard {client.dashboard_link}"
    elif args.dashboard is None:
        board = "TLS with temporary credentials; no dashboard (--dashboard :8787 for one)"
    else:
        board = f"TLS with temporary credentials; dashboard {client.dashboard_link}"
    return f"{where}; {board}"


def _final_table(sweep_dir):
    """Write and print the sweep's table; 0 when every trial is done, else 1."""
    from pylearn_vae.sweep import results

    table = results.write_report(sweep_dir)
    print(table.markdown(), end="")
    print(f"tables: {os.path.join(sweep_dir, 'results.md')}, results.csv", end="")
    print(", results.png" if table.plotted else "")
    counts = table.counts()
    return 0 if counts.get("done", 0) == len(table.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
