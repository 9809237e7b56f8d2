"""Which latent units does a trained VAE use? Per-unit KL and active units.

For each unit j: the mean over the data of KL(q(z_j|x) || p(z_j)) (nats), and the
variance over the data of the posterior mean ``Var_x E_q[z_j]``. A unit is *active*
when that variance exceeds 0.01 (Burda et al., 2016): an inactive unit's posterior
ignores x (a collapsed unit, whose KL is near 0).

Command line::

    python bin/vae_latent_report.py MODEL.pkl [-o latent.png] [--dataset ...] \\
        [--which-set test] [--threshold 0.01]
"""

import dataclasses

import numpy

from pylearn_vae import backend
from pylearn_vae.scripts import _cli, _commands
from pylearn_vae.utils import images, serial

__all__ = ["LatentReport", "latent_report", "main"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_best.pkl -o latent.png",
    "yaml_examples/vae_mnist10k_best.pkl --threshold 0.05",
]

TABLE_ROWS = 20  # units listed by default; --all lists every one


@dataclasses.dataclass
class LatentReport:
    """Per-unit statistics, each ``(nhid,)``."""

    kl: numpy.ndarray
    mean_variance: numpy.ndarray
    threshold: float

    @property
    def active(self):
        return self.mean_variance > self.threshold

    @property
    def num_active(self):
        return int(self.active.sum())

    def summary(self):
        """The one-line answer: how many units are active, and the total KL."""
        return (
            f"active units: {self.num_active} of {len(self.kl)} "
            f"(Var_x E[z_j|x] > {self.threshold:g}); total KL {self.kl.sum():.4f} nats"
        )

    def table(self, rows=None):
        """:meth:`summary`, then one row per unit: every unit in order (``rows`` None),
        or the ``rows`` units of largest Var[mu], largest first, and how many are left."""
        units = numpy.arange(len(self.kl))
        if rows is not None and rows < len(units):
            units = numpy.argsort(-self.mean_variance, kind="stable")[:rows]
        lines = [self.summary(), f"{'unit':>5} {'KL (nats)':>10} {'Var[mu]':>10}  active"]
        for j in units:
            on = "yes" if self.active[j] else "no"
            lines.append(f"{j:>5} {self.kl[j]:>10.4f} {self.mean_variance[j]:>10.4f}  {on}")
        if len(units) < len(self.kl):
            lines.append(
                f"({len(units)} units of largest Var[mu] shown; --all lists all {len(self.kl)})"
            )
        return "\n".join(lines)


def latent_report(model, X, threshold=0.01, batch_size=500):
    """Per-unit mean KL and variance of the posterior mean over the rows of ``X``.

    A model with no KL integrator (a mixture prior, whose KL does not split over units)
    gets NaN KLs; its active units are counted all the same.
    """
    theta = model.get_prior_theta()
    per_unit = model.kl_integrator is not None
    kl_sum = numpy.zeros(model.nhid) if per_unit else numpy.full(model.nhid, numpy.nan)
    means = []
    for start in range(0, len(X), batch_size):
        phi = model.encode_phi(backend.asarray(X[start : start + batch_size]))
        if per_unit:
            kl = model.per_component_kl_divergence_term(phi, theta)
            kl_sum += backend.to_host(kl).astype("float64").sum(axis=0)
        means.append(backend.to_host(model.posterior.conditional_expectation(phi)))
    means = numpy.concatenate(means).astype("float64")
    return LatentReport(kl_sum / len(X), means.var(axis=0), float(threshold))


def save_bar_chart(report, path):
    """Bar chart of the per-unit KL, at most 1000x400 pixels whatever the number of units.

    Active units are blue bars with a tick under the axis (a collapsed unit's bar is
    too small to see), inactive ones grey; the legend and title give the threshold.
    """
    matplotlib = images.require("matplotlib", "the latent bar chart")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    units = numpy.arange(len(report.kl))
    fig, ax = plt.subplots(figsize=(min(10.0, max(6.0, 0.1 * len(units))), 4.0), dpi=100)
    colors = numpy.where(report.active, "tab:blue", "tab:gray")
    ax.bar(units, report.kl, color=colors, width=0.8)
    active = units[report.active]
    ax.plot(active, numpy.zeros(len(active)), "|", color="tab:blue", markersize=10, clip_on=False)
    ax.set_xlim(-1, len(units))
    ax.set_xlabel("latent unit")
    ax.set_ylabel("mean KL(q(z_j|x) || p(z_j)) (nats)")
    ax.set_title(
        f"{report.num_active} of {len(units)} units active "
        f"(Var_x E[z_j|x] > {report.threshold:g}); total KL {report.kl.sum():.2f} nats"
    )
    legend = [Patch(color="tab:blue", label="active"), Patch(color="tab:gray", label="inactive")]
    ax.legend(handles=legend, loc="upper right")
    fig.tight_layout()
    serial.check_output_path(path)
    fig.savefig(path)
    plt.close(fig)


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("vae_latent_report.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument("model", help="the trained model's .pkl")
    parser.add_argument(
        "-o", "--out", help="also draw the per-unit KL as a bar chart, e.g. -o latent.png"
    )
    parser.add_argument("--dataset", help="dataset name, .yaml file or YAML text")
    parser.add_argument("--which-set", default="test", help="split (default test)")
    parser.add_argument(
        "--threshold",
        type=_cli.nonnegative_float,
        default=0.01,
        help="a unit is active when the variance over the data of its posterior mean "
        "exceeds this (Burda et al. use 0.01) (default: %(default)s)",
    )
    parser.add_argument("--limit", type=_cli.positive_int, help="use only the first N examples")
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"list every unit (default: the {TABLE_ROWS} of largest Var[mu] when there are more)",
    )
    return parser


@_cli.quiet_on_broken_pipe
def main(argv=None):
    args = build_parser().parse_args(argv)
    with _cli.clear_errors(_commands.prog("vae_latent_report.py"), args.debug):
        if args.out:
            _cli.check_plot_output(args.out, "the latent bar chart")
        model = _cli.load_vae(args.model, args)
        dataset = _cli.load_dataset(model, args.dataset, args.which_set, args)
        X = _cli.design_matrix(dataset, model, args.limit)
        try:
            report = latent_report(model, X, args.threshold)
        except NotImplementedError as exc:
            raise _cli.CliError(str(exc)) from exc
        if args.out:
            save_bar_chart(report, args.out)
    print(report.table(None if args.all else TABLE_ROWS))
    if args.out:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
