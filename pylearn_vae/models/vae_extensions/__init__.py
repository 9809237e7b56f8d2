"""What pylearn-vae adds to Pylearn2's VAE: other priors, posteriors and conditionals.

:mod:`pylearn_vae.models.vae` holds Pylearn2's own modules (the VAE, its conditionals,
the Gaussian prior and KL); the modules here extend them the way ``docs/extending.md``
teaches, each a prior, a conditional or a KL integrator that registers itself:

- :mod:`~pylearn_vae.models.vae_extensions.laplace`: a Laplace prior and posterior and
  their closed-form KL;
- :mod:`~pylearn_vae.models.vae_extensions.mixture`: a mixture-of-Gaussians prior and
  the VampPrior (Tomczak & Welling, 2018);
- :mod:`~pylearn_vae.models.vae_extensions.continuous_bernoulli`: the continuous
  Bernoulli conditional for data in [0, 1].

Their classes used to live in :mod:`pylearn_vae.models.vae`; YAML files and saved models
that name the old paths load (:data:`pylearn_vae.utils.safe_load.MOVED`).
"""
