"""What the prior and the conditionals share: membership of one VAE.

A component joins a VAE once, through :meth:`VAEComponent.set_vae`, which gives it the
VAE's weight generator (so weights are drawn in the original's order) and a noise
stream of its own, seeded by one ``randint(2 ** 30)`` draw from that generator.
"""

from pylearn_vae import backend
from pylearn_vae.models.model import Model

__all__ = ["VAEComponent"]


class VAEComponent(Model):
    """Base of :class:`Prior` and :class:`Conditional`: ``get_vae`` / ``set_vae``."""

    def get_vae(self):
        """The VAE this component belongs to, or None."""
        return getattr(self, "vae", None)

    def set_vae(self, vae):
        """Join ``vae``: share its generator, seed a noise stream, copy its batch size.

        Raises
        ------
        RuntimeError
            If the component already belongs to a VAE.
        """
        if self.get_vae() is not None:
            raise RuntimeError(
                f"{type(self).__name__} {getattr(self, 'name', '')!r} already belongs to a "
                "VAE; build a new one for each VAE"
            )
        self.vae = vae
        self.rng = vae.rng
        self.noise = backend.RandomStreams(self.rng.randint(2**30))
        self.batch_size = vae.batch_size
