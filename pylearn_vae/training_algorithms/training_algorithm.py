"""The training algorithm protocol (``pylearn2.training_algorithms.training_algorithm``).

An algorithm is ``setup(model, dataset)`` once, then ``train(dataset)`` runs one epoch
(returning None) while ``continue_learning(model)`` is True.

Stopping and resuming: :class:`~pylearn_vae.train.Train` sets ``stop_check``, a
callable that ``train`` polls between batches; when it answers True, ``train`` raises
:class:`Interrupted` with everything consistent, and ``get_state()`` then describes the
position within the epoch, so that after ``set_state(state)`` the next ``train`` call
finishes that epoch exactly as it would have gone on.
"""

from pylearn_vae.datasets.dataset import Dataset

__all__ = ["Interrupted", "NoBatchSizeError", "TrainingAlgorithm"]


class Interrupted(Exception):
    """``train`` stopped between two batches because a stop was requested.

    Parameters
    ----------
    batches_done : int
        Batches of this epoch that were trained.
    """

    def __init__(self, batches_done):
        super().__init__(f"training stopped after batch {batches_done} of the epoch")
        self.batches_done = batches_done


class NoBatchSizeError(ValueError):
    """Neither the algorithm nor the model says how big a batch is."""

    def __init__(self):
        super().__init__(
            "Neither the TrainingAlgorithm nor the model were given a specification of the "
            "batch size: pass batch_size to the algorithm (e.g. SGD(batch_size=100))."
        )


class TrainingAlgorithm:
    """Abstract base of training algorithms.

    Attributes
    ----------
    stop_check : callable or None
        ``stop_check() -> bool``, polled by ``train`` between batches.
    """

    stop_check = None

    def stop_requested(self):
        """Whether ``train`` should stop at the next batch boundary."""
        return self.stop_check is not None and bool(self.stop_check())

    def get_state(self):
        """The algorithm's state for a checkpoint (None: it has none)."""
        return None

    def set_state(self, state):
        """Continue from :meth:`get_state`'s ``state``."""
        if state is not None:
            raise ValueError(f"{type(self).__name__} keeps no state, got {state!r}")

    def setup(self, model, dataset):
        """Prepare to train ``model`` on ``dataset`` (monitor channels included)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement setup")

    def train(self, dataset):
        """Run one epoch over ``dataset``; return None."""
        raise NotImplementedError(f"{type(self).__name__} does not implement train")

    def continue_learning(self, model):
        """Whether another epoch should run."""
        raise NotImplementedError(f"{type(self).__name__} does not implement continue_learning")

    def _register_update_callbacks(self, update_callbacks):
        """Store ``update_callbacks`` as a list (None -> [], one callable -> [it])."""
        if update_callbacks is None:
            update_callbacks = []
        elif callable(update_callbacks):
            update_callbacks = [update_callbacks]
        self.update_callbacks = list(update_callbacks)

    def _set_monitoring_dataset(self, monitoring_dataset):
        """Store the monitoring datasets as a dict ``{name: Dataset}`` (or None).

        Raises
        ------
        TypeError
            A dict with a non-str key or a value that is not a Dataset.
        """
        if isinstance(monitoring_dataset, Dataset):
            monitoring_dataset = {"": monitoring_dataset}
        elif monitoring_dataset is not None:
            if not isinstance(monitoring_dataset, dict):
                raise TypeError(
                    "monitoring_dataset must be a Dataset or a dict {name: Dataset}, got a "
                    f"{type(monitoring_dataset).__name__}"
                )
            for key, value in monitoring_dataset.items():
                if not isinstance(key, str):
                    raise TypeError(
                        f"Monitoring dataset names must be strings, got {key!r} "
                        f"({type(key).__name__})"
                    )
                if not isinstance(value, Dataset):
                    raise TypeError(
                        f"Monitoring dataset with name {key} is not a dataset, it is a "
                        f"{type(value)}"
                    )
        self.monitoring_dataset = monitoring_dataset
