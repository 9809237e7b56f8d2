"""What the latent-space scripts share: the prior's quantiles, posterior means, the
most active units, decoded means, labels, and a PNG with a title band.

Used by :mod:`~pylearn_vae.scripts.manifold`, :mod:`~pylearn_vae.scripts.latent_scatter`,
:mod:`~pylearn_vae.scripts.interpolate` and :mod:`~pylearn_vae.scripts.demo`.
"""

import argparse

import numpy

from pylearn_vae import backend
from pylearn_vae.scripts import _cli
from pylearn_vae.scripts.latent_report import latent_report
from pylearn_vae.utils import images

__all__ = [
    "dataset_labels",
    "int_pair",
    "decode_means",
    "most_active_units",
    "posterior_means",
    "prior_mean_std",
    "titled_picture",
    "warn_if_no_active_unit",
]


def int_pair(text):
    """An argparse type: ``'3,7'`` -> ``(3, 7)``."""
    try:
        a, b = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected two integers A,B, e.g. 3,7, got {text!r}"
        ) from None
    return a, b


def prior_mean_std(model):
    """The prior's mean and standard deviation, two float64 ``(nhid,)`` arrays.

    Raises :class:`~pylearn_vae.scripts._cli.CliError` for a prior that is not a
    :class:`~pylearn_vae.models.vae.prior.DiagonalGaussianPrior`.
    """
    from pylearn_vae.models.vae.prior import DiagonalGaussianPrior

    if not isinstance(model.prior, DiagonalGaussianPrior):
        raise _cli.CliError(
            f"the model's prior is a {type(model.prior).__name__}; the latent-space pictures "
            "need a DiagonalGaussianPrior (its mean and standard deviation)"
        )
    mu, log_sigma = (backend.to_host(t).astype("float64") for t in model.get_prior_theta())
    return mu, numpy.exp(log_sigma)


def posterior_means(model, X, batch_size=500):
    """``E_q[z|x]`` for the rows of ``X``, a float64 ``(n, nhid)`` host array."""
    means = []
    for start in range(0, len(X), batch_size):
        phi = model.encode_phi(backend.asarray(X[start : start + batch_size]))
        means.append(backend.to_host(model.posterior.conditional_expectation(phi)))
    return numpy.concatenate(means).astype("float64")


def most_active_units(model, X, count=2):
    """The ``count`` units of largest mean KL(q(z_j|x) || p(z_j)) over ``X``, most first.

    Returns
    -------
    units : int array, shape (count,)
    kl : float64 array, shape (nhid,)
        Every unit's mean KL (nats), as ``vae_latent_report.py`` prints it.
    """
    try:
        kl = latent_report(model, X).kl
    except NotImplementedError as exc:
        raise _cli.CliError(str(exc)) from exc
    order = numpy.argsort(-kl, kind="stable")
    return order[: min(int(count), model.nhid)], kl


def warn_if_no_active_unit(model, X, prog):
    """Print one warning line on stderr when none of ``model``'s latent units is active
    on the rows of ``X`` (as ``vae_latent_report.py`` counts them: the variance over the
    data of the posterior mean above 0.01): the pictures then show one blur.

    Returns the :class:`~pylearn_vae.scripts.latent_report.LatentReport`.
    """
    import sys

    report = latent_report(model, X)
    if report.num_active == 0:
        print(
            f"{prog}: warning: no latent unit of the model is active (0 of {model.nhid} "
            f"with Var_x E[z|x] > {report.threshold:g} on {len(X)} examples; total KL "
            f"{numpy.nansum(report.kl):.2f} nats): the decoder ignores z, so every picture "
            "shows the same blur; train longer or see vae_latent_report",
            file=sys.stderr,
        )
    return report


def decode_means(model, z):
    """E[x|z] for the rows of ``z`` (float64 ``(n, nhid)``), a float64 ``(n, nvis)`` array."""
    theta = model.decode_theta(backend.asarray(numpy.asarray(z, dtype=backend.floatX())))
    return backend.to_host(model.means_from_theta(theta)).astype("float64")


def dataset_labels(dataset, num_rows=None):
    """The class labels of ``dataset``'s rows as an int ``(n,)`` array, or None.

    The image datasets keep them as ``labels``; a :class:`DenseDesignMatrix` with
    targets as ``y`` (a column of class indices).
    """
    labels = getattr(dataset, "labels", None)
    if labels is None:
        y = getattr(dataset, "y", None)
        if y is None or numpy.ndim(y) != 2 or numpy.shape(y)[1] != 1:
            return None
        labels = numpy.asarray(y)[:, 0]
    labels = numpy.asarray(labels).astype("int64")
    return labels if num_rows is None else labels[:num_rows]


def titled_picture(picture, title, zoom=1, background=255):
    """``picture`` (2-D uint8) zoomed ``zoom`` times below a band with ``title`` in it.

    The band is as wide as the zoomed picture and holds the title in Pillow's default
    font, wrapped at word boundaries; the picture's pixels are kept unchanged below it.

    Returns
    -------
    uint8 array, shape (band + zoom * rows, zoom * cols)
    """
    if zoom > 1:
        picture = numpy.kron(picture, numpy.ones((zoom, zoom), dtype="uint8"))
    band = images.title_band(picture.shape[1], title, background)
    return numpy.concatenate([band, picture], axis=0)
