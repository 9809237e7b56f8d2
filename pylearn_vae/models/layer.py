"""The base class of MLP layers.

Pylearn2 keeps ``Layer`` in ``pylearn2/models/mlp.py``. Here it has a module of its own so
that :mod:`pylearn_vae.models.mlp` and :mod:`pylearn_vae.models.conv` both build on it
without importing each other; :mod:`pylearn_vae.models.mlp` re-exports it, so
``pylearn2.models.mlp.Layer`` still names it.

A layer belongs to one parent (an MLP, or a VAE conditional for a nested MLP), which it
reaches through :meth:`Layer.get_mlp` for the generator its weights are drawn from.
"""

from collections import OrderedDict

from pylearn_vae.models.model import Model

__all__ = ["Layer", "layer_label"]


def layer_label(layer, layer_name):
    """How error messages name a layer: its class, then its name when it has one.

    E.g. ``"RectifiedLinear 'h_e_1'"``; a layer's constructor calls it before
    ``layer_name`` is stored, so the name is passed in.
    """
    name = type(layer).__name__
    return name if layer_name is None else f"{name} {layer_name!r}"


class Layer(Model):
    """Base class of MLP layers: ``set_input_space`` draws weights, ``fprop`` applies."""

    layer_name = None

    def get_mlp(self):
        """The MLP (or other parent) this layer belongs to, or None."""
        return getattr(self, "mlp", None)

    def set_mlp(self, mlp):
        if self.get_mlp() is not None and self.get_mlp() is not mlp:
            raise RuntimeError(
                f"layer {self.layer_name!r} already belongs to another MLP; "
                "build a new layer instead of sharing one"
            )
        self.mlp = mlp

    def set_input_space(self, space):
        raise NotImplementedError(f"{type(self).__name__} does not implement set_input_space")

    def fprop(self, state_below):
        raise NotImplementedError(f"{type(self).__name__} does not implement fprop")

    def get_layer_monitoring_channels(self, state_below=None, state=None, targets=None):
        return OrderedDict()

    def cost(self, Y, Y_hat):
        raise NotImplementedError(f"{type(self).__name__} has no cost")
