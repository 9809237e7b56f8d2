"""pylearn-vae: Pylearn2's variational autoencoder framework on NumPy, autograd and CuPy.

Module paths mirror Pylearn2's, so ``pylearn2.models.vae.VAE`` in a YAML file is
``pylearn_vae.models.vae.VAE`` here. Start from :mod:`pylearn_vae.models.vae` (the
model), :mod:`pylearn_vae.costs.vae` (the criteria), :mod:`pylearn_vae.ops` (every
formula, written once), :mod:`pylearn_vae.train` and
:mod:`pylearn_vae.training_algorithms.sgd` (training), and :mod:`pylearn_vae.backend`
(NumPy or CuPy, float32 or float64); ``docs/reading.md`` is the reading guide.

Importing the package registers the faster implementations of the ops
(:mod:`pylearn_vae.accel`), unless the environment sets ``PYLEARN_VAE_REFERENCE=1``:
then every op runs its reference formula and :mod:`pylearn_vae.accel` is not imported.
"""

import os as _os

__version__ = "0.1.0"

#: The environment variable that runs everything on the reference ops.
REFERENCE_VARIABLE = "PYLEARN_VAE_REFERENCE"


def _reference_only():
    value = _os.environ.get(REFERENCE_VARIABLE, "0").strip().lower()
    if value not in ("0", "1", "", "false", "true", "no", "yes", "off", "on"):
        raise ValueError(
            f"{REFERENCE_VARIABLE}={value!r}: use 1 (reference ops only) or 0 (the default: "
            "the faster implementations of pylearn_vae.accel)"
        )
    return value in ("1", "true", "yes", "on")


if not _reference_only():
    from pylearn_vae import accel as _accel

    _accel.install()
