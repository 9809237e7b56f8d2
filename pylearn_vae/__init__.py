"""pylearn-vae: Pylearn2's variational autoencoder framework on NumPy, autograd and CuPy.

Module paths mirror Pylearn2's, so ``pylearn2.models.vae.VAE`` in a YAML file is
``pylearn_vae.models.vae.VAE`` here. Start from :mod:`pylearn_vae.models.vae` (the
model), :mod:`pylearn_vae.costs.vae` (the criteria), :mod:`pylearn_vae.train` and
:mod:`pylearn_vae.training_algorithms.sgd` (training), and :mod:`pylearn_vae.backend`
(NumPy or CuPy, float32 or float64).
"""

__version__ = "0.1.0"
