"""Hand-written gradients that fall back to the reference formula's when differentiated.

An accelerated op is an autograd ``@primitive`` whose gradient is written by hand, for
speed. Its gradient must itself be differentiable only for higher-order derivatives
(Hessian-vector products, ``grad(grad(f))``), and there the speed does not matter: when
the incoming gradient ``g`` or the op's output is an autograd box, :func:`vjp_maker`
hands the work to autograd's gradient of the op's reference formula in
:mod:`pylearn_vae.ops`, which autograd can differentiate again.
"""

from autograd import make_vjp
from autograd.extend import defvjp_argnums
from autograd.tracer import Box

__all__ = ["defvjp_with_reference", "unbroadcast"]


def defvjp_with_reference(fast_op, reference, gradients):
    """Give primitive ``fast_op`` the gradients ``gradients``, and ``reference``'s when traced.

    Parameters
    ----------
    fast_op : autograd primitive
    reference : callable
        The op's formula in :mod:`pylearn_vae.ops`, with the same arguments.
    gradients : callable
        ``gradients(argnums, ans, args) -> vjp``, where ``vjp(g)`` returns the tuple of
        the gradients with respect to ``args[i]`` for ``i`` in ``argnums``.
    """

    def maker(argnums, ans, args, kwargs):
        fast = gradients(argnums, ans, args)

        def vjp(g):
            if isinstance(g, Box) or isinstance(ans, Box):  # the gradient is differentiated
                traced, _ = make_vjp(lambda *a: reference(*a, **kwargs), argnum=tuple(argnums))(
                    *args
                )
                return traced(g)
            return fast(g)

        return vjp

    defvjp_argnums(fast_op, maker)


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``, undoing NumPy broadcasting."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g
