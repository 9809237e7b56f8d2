"""Sample and reconstruction grids written as training goes (not in Pylearn2).

:class:`TrainingImages` writes, every ``freq`` epochs (epoch 0 included), two PNGs in
``save_dir``, as PyTorch's VAE example does::

    samples_0010.png   E[x|z] for the same z ~ p(z) at every epoch
    recon_0010.png     first examples of the data, each followed by its reconstruction

The noise used for the samples comes from a stream seeded ``seed`` that is put back
afterwards: the pictures do not change the numbers of the run. In YAML::

    extensions: [!obj:pylearn_vae.train_extensions.training_images.TrainingImages {
        save_dir: "${PYLEARN2_TRAIN_FILE_FULL_STEM}_images", freq: 10}]

Needs Pillow (``pip install 'pylearn-vae[viz]'``), checked when built.
"""

import logging
import os

import numpy

from pylearn_vae import backend
from pylearn_vae.evaluation.pictures import interleave_reconstructions
from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.utils import images
from pylearn_vae.utils.string_utils import preprocess
from pylearn_vae.utils.validation import check_positive_int

__all__ = ["TrainingImages", "sample_means"]

log = logging.getLogger(__name__)


def sample_means(model, num_samples, seed):
    """``(num_samples, nvis)`` host array of E[x|z], z ~ p(z) drawn from a stream seeded
    ``seed``; the model's own noise streams are left as they were."""
    parts = (model.posterior, model.conditional, model.prior)
    saved = [part.noise for part in parts]
    try:
        model.set_noise_seed(seed)
        _, means = model.sample(num_samples, return_sample_means=True)
    finally:
        for part, noise in zip(parts, saved, strict=True):
            part.noise = noise
    return backend.to_host(means).astype("float64")


class TrainingImages(TrainExtension):
    """Write a sample grid and a reconstruction grid every ``freq`` epochs.

    Parameters
    ----------
    save_dir : str
        Folder of the PNGs (``${VAR}`` expanded; created).
    freq : int
        Epochs between pictures.
    num_samples : int
        Samples in each sample grid (10 per row).
    num_reconstructions : int
        Inputs in each reconstruction grid (5 pairs per row).
    dataset : Dataset, optional
        Where the inputs come from; default the training set.
    seed : int
        Seed of the samples' z (the same z at every epoch).
    zoom : int
        Pixel repeat of the PNGs.
    tensorboard : TensorBoardLog, optional
        Also write each picture to its event file (images ``samples`` and
        ``reconstructions``), as ``train.py --tensorboard DIR --images-every N`` does.
    """

    def __init__(
        self,
        save_dir,
        freq=1,
        num_samples=100,
        num_reconstructions=50,
        dataset=None,
        seed=1234,
        zoom=2,
        tensorboard=None,
    ):
        for name, value in (
            ("freq", freq),
            ("num_samples", num_samples),
            ("num_reconstructions", num_reconstructions),
            ("zoom", zoom),
        ):
            check_positive_int("TrainingImages", name, value)
        images.require("PIL.Image", "TrainingImages (writing PNG images)")
        self.save_dir = preprocess(os.fspath(save_dir))
        self.freq = freq
        self.num_samples = num_samples
        self.num_reconstructions = num_reconstructions
        self.dataset = dataset
        self.seed = seed
        self.zoom = zoom
        self.tensorboard = tensorboard

    def setup(self, model, dataset, algorithm):
        if not all(hasattr(model, name) for name in ("sample", "reconstruct", "set_noise_seed")):
            raise ValueError(
                f"TrainingImages draws samples and reconstructions of a VAE; the model is a "
                f"{type(model).__name__}: remove the extension (or --images-every)"
            )

    def on_monitor(self, model, dataset, algorithm):
        epoch = model.monitor.get_epochs_seen()
        if epoch % self.freq:
            return
        os.makedirs(self.save_dir, exist_ok=True)
        source = self.dataset if self.dataset is not None else dataset
        shape = images.image_shape(model.nvis, _view_shape(source))
        samples = sample_means(model, self.num_samples, self.seed)
        samples_path = os.path.join(self.save_dir, f"samples_{epoch:04d}.png")
        self._write(samples, shape, samples_path, cols=10, epoch=epoch, tag="samples")
        X = numpy.asarray(source.get_design_matrix())[: self.num_reconstructions]
        recon_path = os.path.join(self.save_dir, f"recon_{epoch:04d}.png")
        pairs = interleave_reconstructions(model, X)
        labels = ("input", "recon")
        self._write(pairs, shape, recon_path, 10, epoch, "reconstructions", labels)
        log.debug("Wrote %s and %s", samples_path, recon_path)

    def _write(self, rows, shape, path, cols, epoch, tag, labels=None):
        grid = images.tile_images(rows.reshape((len(rows),) + tuple(shape)), cols=cols)
        images.save_png(grid, path, zoom=self.zoom, column_labels=labels, cell=(shape[1], 1))
        if self.tensorboard is not None:
            from PIL import Image

            with Image.open(path) as written:  # the picture as the PNG shows it
                self.tensorboard.add_image(tag, numpy.asarray(written.convert("L")), epoch)


def _view_shape(dataset):
    view_shape = getattr(dataset, "view_shape", None)
    return view_shape() if callable(view_shape) else None
