"""The dataset protocol (``pylearn2.datasets.dataset``).

A dataset is a finite collection of examples, exposed as named *sources* (``'features'``,
``'targets'``) each described by a space: ``get_data_specs()`` returns ``(space,
source)`` and ``get_data()`` the matching arrays. Training algorithms and the monitor
only ever ask for ``iterator(...)`` and ``get_num_examples()``.
"""

__all__ = ["Dataset", "NotInstalledError"]


class NotInstalledError(IOError):
    """A dataset's files are missing; the message says how to get them."""


class Dataset:
    """Abstract base of all datasets."""

    def __iter__(self):
        return self.iterator()

    def iterator(
        self,
        mode=None,
        batch_size=None,
        num_batches=None,
        rng=None,
        data_specs=None,
        return_tuple=False,
    ):
        """Batches, from a :class:`~pylearn_vae.utils.iteration.FiniteDatasetIterator`.

        Parameters
        ----------
        mode : str or SubsetIterator class, optional
            One of the modes of :mod:`pylearn_vae.utils.iteration`.
        batch_size, num_batches : int, optional
        rng : numpy.random.RandomState or seed, optional
            For stochastic modes; the dataset's own ``rng`` when None.
        data_specs : (Space, source), optional
            What to yield; the dataset's own specs when None.
        return_tuple : bool
            Yield 1-tuples rather than bare arrays for a single source.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement iterator")

    def get_num_examples(self):
        """The number of examples (rows)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_num_examples")

    def get_data_specs(self):
        """``(space, source)`` describing :meth:`get_data`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_data_specs")

    def get_data(self):
        """The array of each source, a tuple when there are several."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_data")

    def has_targets(self):
        """Whether the dataset has a ``'targets'`` source."""
        return False

    def adjust_for_viewer(self, X):
        """``X`` mapped to ``[-1, 1]`` for display by the inspection scripts."""
        raise NotImplementedError(f"{type(self).__name__} does not implement adjust_for_viewer")
