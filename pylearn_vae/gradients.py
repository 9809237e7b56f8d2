"""Reverse-mode gradients of a scalar with respect to several arrays at once.

``autograd.value_and_grad(f)(list_of_arrays)`` differentiates through a list
container: every ``values[i]`` read is its own traced node whose gradient is a whole
list of zero arrays, one per parameter, summed into the rest -- work quadratic in the
number of parameters, and most of a small model's step. :func:`value_and_grads` gives
each array its own root node instead, runs autograd's ordinary backward pass once, and
reads each root's gradient where the pass reaches it.

It uses autograd's documented building blocks (``trace_stack``, ``new_box``,
``VJPNode``, ``toposort``, ``add_outgrads``), the same ones ``autograd.make_vjp`` is
written with.
"""

from autograd.core import VJPNode, add_outgrads, vspace
from autograd.tracer import isbox, new_box, trace_stack
from autograd.util import toposort

__all__ = ["value_and_grads"]


def value_and_grads(fun, values):
    """The value of scalar ``fun(values)`` and its gradient with respect to each value.

    Parameters
    ----------
    fun : callable
        Takes a list of arrays (traced) and returns a scalar.
    values : list of arrays

    Returns
    -------
    value : scalar array
    grads : list of arrays
        ``d fun / d values[i]``, same shapes; zeros for a value the result does not
        depend on.
    """
    roots = [VJPNode.new_root() for _ in values]
    with trace_stack.new_trace() as trace:
        boxes = [new_box(v, trace, root) for v, root in zip(values, roots, strict=True)]
        end = fun(boxes)
        if not (isbox(end) and end._trace == trace):
            return end, [vspace(v).zeros() for v in values]
        end_value, end_node = end._value, end._node
    if vspace(end_value).size != 1:
        raise TypeError(f"value_and_grads needs a scalar function, got shape {end_value.shape}")
    grads = _backward_pass(vspace(end_value).ones(), end_node, roots)
    return end_value, [
        vspace(v).zeros() if g is None else g for v, g in zip(values, grads, strict=True)
    ]


def _backward_pass(g, end_node, roots):
    """Autograd's backward pass, keeping the gradient that reaches each root."""
    outgrads = {end_node: (g, False)}
    reached = {}
    root_ids = {id(root) for root in roots}
    for node in toposort(end_node):
        outgrad = outgrads.pop(node)
        if id(node) in root_ids:
            reached[id(node)] = outgrad[0]
            continue
        for parent, ingrad in zip(node.parents, node.vjp(outgrad[0]), strict=True):
            outgrads[parent] = add_outgrads(outgrads.get(parent), ingrad)
    return [reached.get(id(root)) for root in roots]
