"""Inputs paired with their reconstructions by a trained VAE (``vae_reconstruct.py``,
:class:`~pylearn_vae.train_extensions.training_images.TrainingImages`)."""

import numpy

from pylearn_vae import backend

__all__ = ["interleave_reconstructions"]


def interleave_reconstructions(model, X, noisy=False, seed=None):
    """``(2 n, nvis)``: row ``2 i`` is ``X[i]``, row ``2 i + 1`` its reconstruction."""
    if seed is not None:
        model.set_noise_seed(seed)
    _, means = model.reconstruct(
        backend.asarray(X), noisy_encoding=noisy, return_sample_means=True
    )
    out = numpy.empty((2 * len(X), X.shape[1]))
    out[0::2] = X
    out[1::2] = backend.to_host(means)
    return out
