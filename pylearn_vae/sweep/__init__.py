"""Hyper-parameter sweeps: many trainings of one template YAML, run on Dask.

A sweep file (:mod:`pylearn_vae.sweep.spec`) names a training YAML with ``${NAME}``
placeholders and the values to fill them with: a grid, random draws, repeated seeds.
Each trial trains in its own process on a Dask worker (:mod:`pylearn_vae.sweep.trial`,
:mod:`pylearn_vae.sweep.runner`) inside ``SWEEP_DIR/trial-NNN/``, and the trials'
records make the results table (:mod:`pylearn_vae.sweep.results`). The command line is
``bin/sweep.py``.

Dask is optional (``pip install 'pylearn-vae[sweep]'``): this package imports without it;
only :func:`pylearn_vae.sweep.runner.connect` needs it.
"""
