"""Standard normal noise on the CPU by the Box-Muller transform, in blocks on threads.

``sqrt(-2 log u1) (cos, sin)(2 pi u2)`` of pairs of uniform draws: faster than NumPy's
ziggurat for the large draws of the importance-sampled log-likelihood (``(k, batch,
nhid)`` at a time). The first half of the result holds the cosines and the second half
the sines, so every operation runs on contiguous memory. The uniforms are drawn in one
call (the stream is sequential); the transform runs in cache-sized blocks on
:mod:`~pylearn_vae.accel.blocks`' threads, elementwise, so the draws do not depend on the
number of threads. In float32 the largest draw is 5.8 standard deviations (a tail mass
of 1e-8 is cut off), in float64 8.6. :mod:`pylearn_vae.accel` registers it with
:func:`pylearn_vae.backend.register_cpu_normal`.
"""

import numpy

from pylearn_vae.accel.blocks import for_blocks

__all__ = ["NAME", "box_muller"]

#: The name a stream's state records for these draws.
NAME = "box_muller"


def box_muller(generator, shape, dtype):
    """Standard normal draws of ``shape`` and ``dtype`` from ``generator``'s uniforms.

    Parameters
    ----------
    generator : numpy.random.Generator
    shape : tuple of int
    dtype : float32 or float64

    Returns
    -------
    array of ``shape``
    """
    size = int(numpy.prod(shape))
    half = (size + 1) // 2
    u = generator.random(2 * half, dtype=dtype)
    out = numpy.empty(2 * half, dtype=dtype)
    # As (half, 1) arrays: blocks cut the leading axis, never the last.
    radii, angles = u[:half, None], u[half:, None]
    cosines, sines = out[:half, None], out[half:, None]

    def transform(i):
        radius, angle = radii[i], angles[i]
        numpy.subtract(1, radius, out=radius)  # in (0, 1]: log is finite
        numpy.log(radius, out=radius)
        radius *= -2
        numpy.sqrt(radius, out=radius)
        angle *= 2 * numpy.pi
        numpy.cos(angle, out=cosines[i])
        numpy.sin(angle, out=sines[i])
        cosines[i] *= radius
        sines[i] *= radius

    for_blocks(transform, (half, 1))
    return out[:size].reshape(shape)
