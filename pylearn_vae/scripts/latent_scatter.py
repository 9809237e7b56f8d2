"""Where a trained VAE puts the data: posterior means E_q[z|x] as a scatter plot, by label.

Each point is one example of the ``--which-set`` split (the test set by default),
coloured by its class label when the dataset has labels (MNIST10k, the IDX datasets).
A 2-D model is drawn as it is; a larger one twice, side by side: over its two most
active units (largest mean KL), and over the first two principal components of the
posterior means.

Command line::

    python bin/vae_latent_scatter.py MODEL.pkl -o scatter.png [--dataset ...] \\
        [--which-set test] [--limit N]
"""

import dataclasses

import numpy

from pylearn_vae.scripts import _cli, _commands, _latent
from pylearn_vae.utils import images, serial

__all__ = ["Panel", "draw_scatter", "main", "pca_projection", "scatter_panels"]

# What --help ends with: commands that run this script (their arguments; the README's
# main job writes the models they load).
EXAMPLES = [
    "yaml_examples/vae_mnist10k_2d.pkl -o scatter.png",
]


@dataclasses.dataclass
class Panel:
    """One scatter plot: ``points`` ``(n, 2)`` with their axis labels and title."""

    points: numpy.ndarray
    xlabel: str
    ylabel: str
    title: str


def pca_projection(Z, k=2):
    """The rows of ``Z`` (n, d) projected on their first ``k`` principal components.

    Returns
    -------
    projection : float64 array, shape (n, k)
        ``(Z - mean) @ V[:, :k]``, V the right singular vectors of the centred rows.
    explained : float64 array, shape (k,)
        The fraction of the total variance along each component.
    """
    Z = numpy.asarray(Z, dtype="float64")
    centred = Z - Z.mean(axis=0)
    _, s, Vt = numpy.linalg.svd(centred, full_matrices=False)
    variance = s**2
    return centred @ Vt[:k].T, variance[:k] / max(variance.sum(), 1e-300)


def scatter_panels(model, X):
    """The panels to draw for the rows of ``X``: one for a 2-D model, else two.

    Returns
    -------
    means : float64 array, shape (n, nhid)
        The posterior means.
    panels : list of Panel
    """
    means = _latent.posterior_means(model, X)
    if model.nhid == 1:
        raise _cli.CliError("the model has 1 latent unit; a scatter plot needs at least 2")
    if model.nhid == 2:
        return means, [Panel(means, "z0", "z1", "posterior means E[z|x]")]
    (a, b), kl = _latent.most_active_units(model, X, 2)
    projection, explained = pca_projection(means)
    return means, [
        Panel(
            means[:, [a, b]],
            f"z{a}",
            f"z{b}",
            f"the two most active of {model.nhid} units (mean KL {kl[a]:.2f}, {kl[b]:.2f} nats)",
        ),
        Panel(
            projection,
            f"PC 1 ({100 * explained[0]:.3g}% of the variance)",
            f"PC 2 ({100 * explained[1]:.3g}%)",
            f"PCA of the {model.nhid}-D posterior means",
        ),
    ]


def draw_scatter(panels, labels=None, suptitle=None):
    """A matplotlib figure with one scatter plot per panel, coloured by ``labels``.

    The points of ``panels[i]`` are the offsets of ``figure.axes[i].collections[0]``.
    """
    matplotlib = images.require("matplotlib", "the latent scatter plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5.4), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        if labels is None:
            ax.scatter(panel.points[:, 0], panel.points[:, 1], s=4, alpha=0.6, color="tab:blue")
        else:
            classes = numpy.unique(labels)
            points = ax.scatter(
                panel.points[:, 0],
                panel.points[:, 1],
                c=labels,
                s=4,
                alpha=0.7,
                cmap="tab10",
                vmin=-0.5,
                vmax=9.5 if len(classes) <= 10 and classes.max() <= 9 else labels.max() + 0.5,
            )
            if len(classes) <= 20:
                handles = [
                    plt.Line2D([], [], marker="o", linestyle="", color=points.to_rgba(c))
                    for c in classes
                ]
                ax.legend(
                    handles,
                    [str(c) for c in classes],
                    title="label",
                    fontsize=8,
                    loc="best",
                    markerscale=0.8,
                    framealpha=0.7,
                )
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel(panel.ylabel)
        ax.set_title(panel.title, fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def build_parser():
    parser = _cli.ArgumentParser(
        prog=_commands.prog("vae_latent_scatter.py"),
        description=__doc__.splitlines()[0],
        examples=EXAMPLES,
    )
    parser.add_argument("model", help="the trained model's .pkl")
    parser.add_argument(
        "-o", "--out", default="scatter.png", help="PNG to write (default: %(default)s)"
    )
    parser.add_argument("--dataset", help="dataset name, .yaml file or YAML text")
    parser.add_argument("--which-set", default="test", help="split (default test)")
    parser.add_argument("--limit", type=_cli.positive_int, help="use only the first N examples")
    parser.add_argument(
        "--dpi", type=_cli.positive_int, default=100, help="resolution (default: %(default)s)"
    )
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    with _cli.clear_errors(_commands.prog("vae_latent_scatter.py"), args.debug):
        _cli.check_plot_output(args.out, "the latent scatter plot")
        model = _cli.load_vae(args.model, args)
        dataset = _cli.load_dataset(model, args.dataset, args.which_set, args)
        X = _cli.design_matrix(dataset, model, args.limit)
        labels = _latent.dataset_labels(dataset, len(X))
        _latent.warn_if_no_active_unit(model, X, _commands.prog("vae_latent_scatter.py"))
        _, panels = scatter_panels(model, X)
        suptitle = f"{len(X)} {args.which_set} examples" + (
            ", coloured by label" if labels is not None else " (the dataset has no labels)"
        )
        fig = draw_scatter(panels, labels, suptitle)
        serial.check_output_path(args.out)
        fig.savefig(args.out, dpi=args.dpi)
        width, height = (int(round(v)) for v in fig.get_size_inches() * args.dpi)
    print(f"wrote {args.out} ({len(X)} points, {width}x{height} pixels)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
