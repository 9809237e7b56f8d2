"""Faster implementations of the reference ops, registered beside them.

The maths of pylearn_vae is written once, in :mod:`pylearn_vae.ops`; the model modules
call those ops and never import this package. This package holds what makes them fast,
each piece registered for an op's name and a device with :func:`pylearn_vae.ops.register`
(the noise with :func:`pylearn_vae.backend.register_cpu_normal`, the thread tuner with
:func:`pylearn_vae.threads.register_tuner`):

- :mod:`~pylearn_vae.accel.cpu`: NumPy primitives with hand-written gradients, run in
  cache-sized blocks on several threads (:mod:`~pylearn_vae.accel.blocks`), with
  workarounds for CPUs where float32 ``log1p`` has no SIMD loop;
- :mod:`~pylearn_vae.accel.gpu`: CuPy primitives whose formulas are fused kernels
  (:mod:`~pylearn_vae.accel.kernels`);
- :mod:`~pylearn_vae.accel.noise`: the CPU's Gaussian noise by the Box-Muller transform
  (:func:`pylearn_vae.backend.register_cpu_normal`);
- :mod:`~pylearn_vae.accel.tuner`: all the CPU threads or one, whichever trains faster
  on this machine now.

Who registers them, and when: ``import pylearn_vae`` calls :func:`install`, unless the
environment sets ``PYLEARN_VAE_REFERENCE=1``; then this package is never imported and
every op runs its reference formula, end to end. ``tests/test_accel.py`` proves each
implementation equal to its reference (values, gradients, second order).
"""

from pylearn_vae import backend, ops, threads
from pylearn_vae.accel import cpu, gpu, noise
from pylearn_vae.accel.tuner import ThreadTuner

__all__ = ["install", "uninstall"]


def install():
    """Register every faster implementation (done by ``import pylearn_vae``)."""
    for device, implementations in (("cpu", cpu.IMPLEMENTATIONS), ("gpu", gpu.IMPLEMENTATIONS)):
        for name, implementation in implementations.items():
            ops.register(name, device, implementation)
    backend.register_cpu_normal(noise.NAME, noise.box_muller)
    threads.register_tuner(ThreadTuner)


def uninstall():
    """Remove the registrations: every op runs its reference formula from now on."""
    for device, implementations in (("cpu", cpu.IMPLEMENTATIONS), ("gpu", gpu.IMPLEMENTATIONS)):
        for name in implementations:
            ops.register(name, device, None)
    backend.register_cpu_normal(None, None)
    threads.register_tuner(None)
