"""Measures of a trained model on a dataset, for scripts, sweeps and notebooks.

:mod:`pylearn_vae.evaluation.nll` is the importance-sampled NLL of a VAE;
:mod:`pylearn_vae.evaluation.pictures` draws samples and pairs inputs with their
reconstructions.
"""
