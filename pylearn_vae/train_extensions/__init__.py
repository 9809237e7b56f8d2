"""Train extensions: hooks that ``Train`` calls (``pylearn2/train_extensions/__init__.py``).

Hook order: ``setup`` once (after the algorithm's setup, in list order), ``on_monitor``
after every monitoring step (epoch 0 included), ``on_save`` before each save. Raising
``StopIteration`` from ``on_monitor`` ends training after the current epoch.

For checkpoints (``train.py --resume``) an extension's ``get_state()`` returns its state
as plain data and ``set_state(state)`` takes it back, after ``setup``; by default they
cover the attributes named in ``_state_fields`` (none).
"""

from pylearn_vae.utils.checkpoint import Stateful

__all__ = ["TrainExtension"]


class TrainExtension(Stateful):
    """Base class of train extensions; every hook is a no-op.

    Each hook receives ``(model, dataset, algorithm)``. An extension that keeps state
    between hooks lists it in ``_state_fields`` (or overrides ``get_state`` and
    ``set_state``), so a resumed run gets it back.
    """

    def setup(self, model, dataset, algorithm):
        """Called once, before epoch-0 monitoring."""

    def on_monitor(self, model, dataset, algorithm):
        """Called after each monitoring step."""

    def on_save(self, model, dataset, algorithm):
        """Called before each save of the model."""
