"""Norm constraints on weight matrices, applied to the updates of each step.

Pylearn2's ``max_col_norm`` / ``max_row_norm`` of a Linear layer become one of these
extensions of the layer; :meth:`pylearn_vae.models.model.Model.modify_updates` calls
``post_modify_updates`` after every update is computed.
"""

import warnings

from pylearn_vae.backend import get_array_module

__all__ = ["ConstrainFilterL2Norm", "MaxL2FilterNorm", "ModelExtension"]


class ModelExtension:
    """Something that adjusts a model's updates after the model has."""

    def post_modify_updates(self, updates, model):
        pass


class ConstrainFilterL2Norm(ModelExtension):
    """Keep the L2 norm of a weight matrix's slices within ``[min_limit, limit]``.

    Parameters
    ----------
    limit : float or None
        Largest norm allowed (None: no upper bound).
    min_limit : float
        Smallest norm allowed.
    axis : int
        The axis the norm is taken over: 0 constrains each column of a ``(n_in, n_out)``
        matrix, i.e. each output unit's filter.
    """

    def __init__(self, limit, min_limit=0.0, axis=0):
        self.limit = limit
        self.min_limit = min_limit or 0.0
        self.axis = axis

    def post_modify_updates(self, updates, model):
        W = model.W
        if W not in updates:
            return
        new = updates[W]
        xp = get_array_module(new)
        norms = xp.sqrt((new * new).sum(axis=self.axis, keepdims=True))
        upper = self.limit if self.limit is not None else norms.max()
        target = xp.clip(norms, self.min_limit, upper)
        updates[W] = new * (target / xp.maximum(norms, 1e-7))


class MaxL2FilterNorm(ConstrainFilterL2Norm):
    """Deprecated alias of :class:`ConstrainFilterL2Norm`, as in Pylearn2."""

    def __init__(self, limit, min_limit=0.0, axis=0):
        warnings.warn(
            "MaxL2FilterNorm is deprecated; use ConstrainFilterL2Norm", DeprecationWarning
        )
        super().__init__(limit, min_limit, axis)
