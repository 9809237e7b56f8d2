"""The rows a trained VAE's pictures show: samples (``vae_samples.py``) and inputs paired
with their reconstructions (``vae_reconstruct.py``,
:class:`~pylearn_vae.train_extensions.training_images.TrainingImages`)."""

import numpy

from pylearn_vae import backend

__all__ = ["draw_samples", "interleave_reconstructions"]


def draw_samples(model, num_samples, binary=False, seed=None):
    """``(num_samples, nvis)`` host array: means of p(x|z), or samples when ``binary``."""
    if seed is not None:
        model.set_noise_seed(seed)
    x, means = model.sample(num_samples, return_sample_means=True)
    return backend.to_host(x if binary else means).astype("float64")


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
